"""Remote access: a tcp api endpoint is a CURVE server; a client's key maps to a principal
of the configuration; an unknown key is refused and logged with its key."""
import os
import subprocess
import tempfile

import zmq

from harness import BIN, CONFIG, Daemon, eq, free_port, remote_api_config, write


def test_curve_keys_map_to_principals_and_strangers_are_refused():
    with tempfile.TemporaryDirectory() as tmp:
        server_pub, server_sec = zmq.curve_keypair()
        lan_pub, lan_sec = zmq.curve_keypair()
        stranger_pub, stranger_sec = zmq.curve_keypair()
        keys = {}
        for name, key in (("thiduad.key", server_sec), ("lan.key", lan_sec), ("stranger.key", stranger_sec)):
            keys[name] = os.path.join(tmp, name)
            write(keys[name], key.decode() + "\n")
            os.chmod(keys[name], 0o600)
        port = free_port()
        # the first principal of the shipped config gets lan's key
        cfg, name = remote_api_config(tmp, port, keys["thiduad.key"], lan_pub.decode())
        with Daemon(config=cfg, start_at="2025-02-10T09:00:00+07:00") as d:
            tcp = f"tcp://127.0.0.1:{port}"
            base = [os.path.join(BIN, "thiduactl"), "-e", tcp, "--timeout", "3", "--server-key", server_pub.decode()]
            # the daemon answers over tcp only to a known key
            def ctl(key, *args):
                return subprocess.run(base + ["--key", keys[key], "--json"] + list(args), capture_output=True, text=True)
            p = ctl("lan.key", "status")
            eq(p.returncode, 0, p.stderr)
            p = ctl("lan.key", "--as", "someone.else", "status")
            eq(p.returncode, 1, p.stdout)
            assert "forbidden" in p.stdout, p.stdout
            p = ctl("stranger.key", "status")
            eq(p.returncode, 3, p.stdout + p.stderr)
            log = d.read_log()
            assert "refused a api connection" in log and stranger_pub.decode() in log, log[-1500:]
            assert server_sec.decode() not in log and lan_sec.decode() not in log, "secret key in the log"
            # without keys at all: refused too
            p = subprocess.run([os.path.join(BIN, "thiduactl"), "-e", tcp, "--timeout", "2", "status"],
                               capture_output=True, text=True)
            eq(p.returncode, 3, p.stdout + p.stderr)
            # what a keyed principal does is recorded under its name
            p = ctl("lan.key", "clock", "advance", "1d")          # not this principal's to do
            eq(p.returncode, 1, p.stdout + p.stderr)
            assert "forbidden" in p.stdout, p.stdout
            p = ctl("lan.key", "review", "waive", "--unit", "XA-ANPHU", "--report", "KH-NAM", "--period", "2025",
                    "--reason", "Đơn vị đã sáp nhập")
            eq(p.returncode, 0, p.stdout + p.stderr)
            rows = d.ctl("audit", "list", "--principal", name)["rows"]
            assert rows and rows[0]["op"] == "report.waive", rows


def test_a_tcp_endpoint_without_keys_is_a_configuration_error():
    with tempfile.TemporaryDirectory() as tmp:
        text = open(CONFIG, encoding="utf-8").read().replace("daemon = {", 'daemon = {\n  api = "tcp://127.0.0.1:9";', 1)
        cfg = os.path.join(tmp, "open.cfg")
        write(cfg, text)
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-c", cfg, "--state-dir", os.path.join(tmp, "s")],
                           capture_output=True, text=True, timeout=20)
        eq(p.returncode, 1, p.stderr)
        assert "needs CURVE keys" in p.stderr, p.stderr
