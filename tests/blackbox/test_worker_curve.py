"""Workers on a tcp jobs endpoint: CURVE clients of thiduad (--server-key, --key), with keys
made by `thiduactl keys generate`. A known key delivers, also after the daemon restarts; an
unknown key is refused, logged with its key, and delivers nothing; a tcp endpoint without
keys is a usage error naming the missing option. Waiting is always for an event, bounded."""
import os
import signal
import socket
import subprocess
import tempfile

from harness import BIN, CONFIG, Daemon, eq, write
from test_delivery import Receiver, wait_for     # Receiver answers every POST 200 unless scripted

START = "2024-10-31T12:00:00+07:00"     # a Thursday, in working hours


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(tmp, name):
    """thiduactl keys generate NAME --dir tmp: (public key, secret key file, public key file)"""
    p = subprocess.run([os.path.join(BIN, "thiduactl"), "keys", "generate", name, "--dir", tmp],
                       capture_output=True, text=True, timeout=20)
    eq(p.returncode, 0, p.stderr)
    return p.stdout.strip(), os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pub")


def secret_of(path):
    with open(path, encoding="ascii") as fp:
        return fp.read().strip()


def config(tmp, port, http, worker_keys, workers, bind="127.0.0.1"):
    """The shipped configuration with a tcp jobs endpoint, the daemon's key, one telegram
    channel to the receiver and the given workers (a list of (program, args))."""
    server = os.path.join(tmp, "thiduad.key")
    allowed = ", ".join(f'"{k}"' for k in worker_keys)
    text = open(CONFIG, encoding="utf-8").read()
    text = text.replace("daemon = {", f'daemon = {{\n  jobs = "tcp://{bind}:{port}";\n'
                        f'  curve_key_file = "{server}";\n  worker_keys = [ {allowed} ];', 1)
    text += f'''
channels = (
  {{ name = "tg"; kind = "telegram"; url = "http://127.0.0.1:{http.port}/bot123/sendMessage"; chat_id = "-1001"; }}
);
'''
    if workers:
        entries = []
        for program, args in workers:
            quoted = ", ".join(f'"{a}"' for a in args)
            entries.append(f'{{ program = "{program}"; args = [ {quoted} ]; }}')
        text += "workers = ( " + ", ".join(entries) + " );\n"
    path = os.path.join(tmp, "thidua.cfg")
    write(path, text)
    return path


def workers_named(d, *names):
    """the status entries of the named workers once all of them are connected"""
    def ready():
        ws = {w["name"]: w for w in d.ctl("status").get("workers", [])}
        return [ws[n] for n in names] if all(n in ws for n in names) else None
    return wait_for(f"workers {names}", ready)


def worker(program, endpoint, *args):
    """a worker started by hand, as on another host; its log goes to a file"""
    log = tempfile.NamedTemporaryFile(prefix="thidua-worker-", suffix=".log", delete=False)
    p = subprocess.Popen([os.path.join(BIN, program), "-e", endpoint] + list(args), stdout=log, stderr=log)
    p.log_path = log.name
    log.close()
    return p


def worker_log(p):
    with open(p.log_path, "rb") as fp:
        return fp.read().decode("utf-8", "replace")


def stop_worker(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    log = worker_log(p)
    os.unlink(p.log_path)
    if "ERROR: AddressSanitizer" in log or "runtime error:" in log or "LeakSanitizer" in log:
        raise AssertionError(f"sanitizer report from a worker (exit {p.returncode}):\n{log[-6000:]}")
    return log


def test_supervised_workers_with_keys_deliver_over_a_tcp_jobs_endpoint():
    http = Receiver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            server_pub, server_key, server_pub_file = keygen(tmp, "thiduad")
            hook_pub, hook_key, _ = keygen(tmp, "webhook-1")
            mail_pub, mail_key, _ = keygen(tmp, "mail-1")
            port = free_port()
            cfg = config(tmp, port, http, [hook_pub, mail_pub], [
                # the server key as a file and given as is: both forms of --server-key
                ("thidua-webhook", ["--server-key", server_pub_file, "--key", hook_key, "--name", "hook-curve"]),
                ("thidua-mail", ["--server-key", server_pub, "--key", mail_key, "--name", "mail-curve"]),
            ], bind="*")		# bound to every address: the supervisor points its workers at the loopback
            with Daemon(config=cfg, start_at=START) as d:
                hook, mail = workers_named(d, "hook-curve", "mail-curve")
                eq((hook["kind"], mail["kind"]), ("webhook", "mail"), "kinds")
                rc, out = d.ctl_raw("--timeout", "20", "notify", "test", "--channel", "tg")
                eq(rc, 0, out)
                assert "sent through tg" in out, out
                wait_for("the post", lambda: http.count() >= 1)
                log = d.read_log()
                assert "auth: jobs from" in log and "is worker" in log, log[-3000:]
                assert "refused" not in log, log[-3000:]
                for secret in (secret_of(server_key), secret_of(hook_key), secret_of(mail_key)):
                    assert secret not in log, "a secret key in the log"
    finally:
        http.close()


def test_a_worker_reconnects_with_its_keys_after_the_daemon_restarts():
    http = Receiver()
    remote = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _, _, server_pub_file = keygen(tmp, "thiduad")
            hook_pub, hook_key, _ = keygen(tmp, "remote")
            port = free_port()
            cfg = config(tmp, port, http, [hook_pub], [])
            with Daemon(config=cfg, start_at=START) as d:
                remote = worker("thidua-webhook", f"tcp://127.0.0.1:{port}", "--server-key", server_pub_file,
                                "--key", hook_key, "--name", "remote-hook", "-v")
                workers_named(d, "remote-hook")
                # a daemon that stops asks only the workers it started to stop; a worker
                # started by hand keeps running, whether the daemon stopped or died: its
                # socket reconnects by itself, with the keys it was given
                eq(d.stop(), 0, "stopped")
                d.start()
                workers_named(d, "remote-hook")
                eq(remote.poll(), None, "still running after the daemon stopped")
                d.kill()
                d.start()
                workers_named(d, "remote-hook")
                rc, out = d.ctl_raw("--timeout", "20", "notify", "test", "--channel", "tg")
                eq(rc, 0, out)
                wait_for("the post", lambda: http.count() >= 1)
                eq(remote.poll(), None, "the remote worker is still running")
            log = stop_worker(remote)
            eq(remote.returncode, 0, log)
            assert "public key is " + hook_pub in log, log
            assert "connected to" in log and "again" in log, log
            assert secret_of(hook_key) not in log, "the secret key in the worker's log"
    finally:
        http.close()
        if remote and remote.poll() is None:
            remote.kill()
            remote.wait()


def test_an_unknown_worker_key_is_refused_and_delivers_nothing():
    http = Receiver()
    procs = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            server_pub, _, server_pub_file = keygen(tmp, "thiduad")
            known_pub, _, _ = keygen(tmp, "known")
            stranger_pub, stranger_key, _ = keygen(tmp, "stranger")
            other_pub, _, _ = keygen(tmp, "not-thiduad")
            port = free_port()
            tcp = f"tcp://127.0.0.1:{port}"
            cfg = config(tmp, port, http, [known_pub], [
                ("thidua-webhook", ["--server-key", server_pub_file, "--key", stranger_key, "--name", "stranger"]),
                ("thidua-mail", ["--server-key", server_pub_file, "--name", "keyless"]),
            ])
            with Daemon(config=cfg, start_at=START) as d:
                # supervised: the daemon names the key it refused, the worker says what to do
                d.wait_log(f"refused a jobs connection from 127.0.0.1 with CURVE key {stranger_pub}")
                d.wait_log(f"refused this worker's key {stranger_pub}")
                d.wait_log("exited with status 1")
                # supervised without --key: the usage error reaches the daemon's log
                d.wait_log("where the worker needs its own secret key: --key FILE")
                d.wait_log("exited with status 2")
                # by hand: the refused worker exits 1 with the same message
                for program in ("thidua-webhook", "thidua-mail"):
                    p = worker(program, tcp, "--server-key", server_pub, "--key", stranger_key)
                    procs.append(p)
                    p.wait(30)
                    log = stop_worker(p)
                    eq(p.returncode, 1, f"{program}: {log}")
                    assert f"refused this worker's key {stranger_pub}" in log and "daemon.worker_keys" in log, log
                    assert secret_of(stranger_key) not in log, "the secret key in the worker's log"
                # a worker that does not know the daemon's key cannot even start a handshake:
                # it says so and keeps trying, until stopped
                p = worker("thidua-webhook", tcp, "--server-key", other_pub, "--key", stranger_key)
                procs.append(p)
                wait_for("the handshake warning", lambda: "is --server-key the daemon's public key" in worker_log(p))
                log = stop_worker(p)
                eq(p.returncode, 0, log)
                # nothing is delivered: no worker is known, the test message finds none
                eq(d.ctl("status").get("workers", []), [], "no worker connected")
                rc, out = d.ctl_raw("--timeout", "3", "notify", "test", "--channel", "tg")
                eq(rc, 1, out)
                eq(http.count(), 0, "posts")
                assert "stranger" not in [w["name"] for w in d.ctl("status").get("workers", [])]
                assert secret_of(stranger_key) not in d.read_log(), "a secret key in the daemon's log"
    finally:
        http.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_a_tcp_endpoint_without_keys_is_a_usage_error():
    with tempfile.TemporaryDirectory() as tmp:
        server_pub, _, _ = keygen(tmp, "thiduad")
        _, key, _ = keygen(tmp, "w")
        junk = os.path.join(tmp, "junk.key")
        write(junk, "not a key\n")
        tcp = "tcp://127.0.0.1:9"

        def run(program, *args):
            p = subprocess.run([os.path.join(BIN, program), "-e", tcp] + list(args),
                               capture_output=True, text=True, timeout=20)
            return p.returncode, p.stdout + p.stderr

        for program in ("thidua-webhook", "thidua-mail"):
            rc, out = run(program, "--server-key", server_pub)
            eq(rc, 2, out)
            assert "--key FILE" in out and "thiduactl keys generate NAME" in out and "daemon.worker_keys" in out, out
            assert f"{program}: {tcp} is a tcp endpoint" in out, out
            rc, out = run(program, "--key", key)
            eq(rc, 2, out)
            assert "--server-key KEY|FILE" in out and "--key FILE" not in out, out
            rc, out = run(program)
            eq(rc, 2, out)
            assert "--server-key KEY|FILE" in out and "--key FILE" in out, out
            # bad key files: named, with what is wrong
            rc, out = run(program, "--server-key", server_pub, "--key", junk)
            eq(rc, 1, out)
            assert f"--key: {junk} does not hold a secret key" in out, out
            rc, out = run(program, "--server-key", server_pub, "--key", os.path.join(tmp, "missing.key"))
            eq(rc, 1, out)
            assert "cannot read the secret key file " + os.path.join(tmp, "missing.key") in out, out
            rc, out = run(program, "--server-key", junk, "--key", key)
            eq(rc, 1, out)
            assert f"--server-key: '{junk}' is neither a 40-character key nor a file holding one" in out, out
            assert secret_of(key) not in out, "a secret key in a message"
            # the options are documented
            p = subprocess.run([os.path.join(BIN, program), "--help"], capture_output=True, text=True, timeout=20)
            eq(p.returncode, 0, p.stderr)
            assert "--server-key KEY|FILE" in p.stdout and "--key FILE" in p.stdout, p.stdout
