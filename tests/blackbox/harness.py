"""The black-box harness: start the real thiduad in a temporary directory, talk to it with
the real thiduactl (or raw ZeroMQ frames), stop it. Waiting is always for an event (a
socket file, a log line, a reply), bounded; never for time to pass."""
import json
import os
import shutil
import signal as sigmod
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def served_ops():
    """The op names of the daemon's op table (daemon/server/api.c), read from the source: an
    entry names its op by a constant of common/proto.h (OP_STATUS) or by a string."""
    import re
    with open(os.path.join(ROOT, "common", "proto.h"), encoding="utf-8") as fp:
        names = dict(re.findall(r'^#define (OP_[A-Z0-9_]+)\s+"([^"]+)"', fp.read(), re.M))
    with open(os.path.join(ROOT, "daemon", "server", "api.c"), encoding="utf-8") as fp:
        src = fp.read()
    table = src[src.index("} ops[] = {"):]
    table = table[:table.index("\n};")]
    ops = []
    for literal, const in re.findall(r'\{\s*(?:"([^"]+)"|(OP_[A-Z0-9_]+)),\s*op_\w+', table):
        assert literal or const in names, f"{const} of daemon/server/api.c is not in common/proto.h"
        ops.append(literal or names[const])
    assert len(ops) > 20, f"the op table of daemon/server/api.c was not found: {ops}"
    return ops
BIN = os.environ.get("THIDUA_BIN", os.path.join(ROOT, "bin"))
CONFIG = os.path.join(ROOT, "config", "thidua.cfg")
CONFIG_2025 = os.path.join(ROOT, "config", "examples", "hcmc-2025.cfg")


class Daemon:
    """One thiduad on a fresh state directory. Use as a context manager."""

    def __init__(self, config=CONFIG, fake_clock=True, start_at=None, args=(), state_dir=None):
        self.dir = state_dir or tempfile.mkdtemp(prefix="thidua-test-")
        self.config = config
        self.fake_clock = fake_clock
        self.args = list(args)
        self.endpoint = f"ipc://{self.dir}/api.sock"
        self.log_path = os.path.join(self.dir, "thiduad.log")
        self.proc = None
        self.start_at = start_at

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self, wait=True):
        cmd = [os.path.join(BIN, "thiduad"), "-c", self.config, "--state-dir", self.dir, "-v"]
        if self.fake_clock and self.start_at:
            cmd.append("--fake-clock=" + self.start_at)
        elif self.fake_clock:
            cmd.append("--fake-clock")
        cmd += self.args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        sock = os.path.join(self.dir, "api.sock")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"thiduad exited with {self.proc.returncode}:\n{self.read_log()}")
            if os.path.exists(sock):
                rc, _ = self.ctl_raw("--timeout", "2", "status")
                if rc == 0:
                    return
            time.sleep(0.01)
        raise AssertionError(f"thiduad not ready within {timeout}s:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path, "rb") as fp:
            return fp.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=20, after=0):
        """Wait until text appears in the log past offset after (an event, bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.read_log()[after:]:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"log never said {text!r}:\n{self.read_log()}")

    def ctl_raw(self, *args, input=None, timeout=60):
        p = subprocess.run([os.path.join(BIN, "thiduactl"), "-e", self.endpoint] + list(args),
                           capture_output=True, input=input, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8") + p.stderr.decode("utf-8")

    def ctl(self, *args, ok=True):
        """thiduactl --json ARGS; returns the parsed reply. ok=None accepts either."""
        p = subprocess.run([os.path.join(BIN, "thiduactl"), "-e", self.endpoint, "--json"] + list(args),
                           capture_output=True, timeout=60)
        out = p.stdout.decode("utf-8")
        try:
            reply = json.loads(out) if out.strip() else None
        except ValueError:
            raise AssertionError(f"thiduactl {args}: not JSON: {out!r} {p.stderr!r}")
        if ok is True and p.returncode != 0:
            raise AssertionError(f"thiduactl {args} failed ({p.returncode}): {out} {p.stderr.decode()}")
        if ok is False and p.returncode == 0:
            raise AssertionError(f"thiduactl {args} should have failed: {out}")
        return reply

    def call(self, op, files=(), **fields):
        """One raw request over ZeroMQ: files are (name, bytes) pairs. Returns the reply."""
        import zmq
        req = dict(fields, op=op)
        if files:
            req["files"] = [name for name, _ in files]
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 20000)
        s.connect(self.endpoint)
        try:
            s.send_multipart([b"", json.dumps(req).encode()] + [data for _, data in files])
            return json.loads(s.recv_multipart()[-1])
        finally:
            s.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=sigmod.SIGTERM, timeout=20):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def close(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.stop()
            except Exception:
                self.kill()
        rc = self.proc.returncode if self.proc else 0
        log = self.read_log() if os.path.exists(self.log_path) else ""
        shutil.rmtree(self.dir, ignore_errors=True)
        # a sanitizer report makes the test fail even if the daemon exited otherwise
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log or "LeakSanitizer" in log:
            raise AssertionError(f"sanitizer report from thiduad (exit {rc}):\n{log[-6000:]}")

    def db(self):
        import sqlite3
        return sqlite3.connect(os.path.join(self.dir, "thidua.db"))


def write(path, text):
    with open(path, "w", encoding="utf-8") as fp:
        fp.write(text)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def ok(r):
    """a reply that says ok (returned), else the test fails with it"""
    assert r["ok"], r
    return r


def refusal(r, code):
    """a refusal with this error code: its error object"""
    assert not r["ok"], r
    eq(r["error"]["code"], code, r["error"]["message"])
    return r["error"]


def err(r, code):
    """a refusal with this error code: its message"""
    return refusal(r, code)["message"]


def free_port():
    """A tcp port on loopback that nothing listens on now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remote_api_config(tmp, port, server_key_file, public_key):
    """The shipped configuration with a CURVE api on tcp://127.0.0.1:port (the daemon's secret
    key in server_key_file) and public_key given to its first principal, written in tmp.
    Returns (configuration path, that principal's name)."""
    text = open(CONFIG, encoding="utf-8").read()
    text = text.replace("daemon = {", f'daemon = {{\n  api = "tcp://127.0.0.1:{port}";\n'
                        f'  curve_key_file = "{server_key_file}";', 1)
    i = text.index("principals = (")
    j = text.index('name = "', i) + len('name = "')
    name = text[j:text.index('"', j)]
    text = text[:j] + text[j:].replace(";", f'; public_key = "{public_key}";', 1)
    cfg = os.path.join(tmp, "remote.cfg")
    write(cfg, text)
    return cfg, name
