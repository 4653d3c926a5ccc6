"""thidua-web for the black-box tests: the real gateway on a free loopback port in front of a
harness.Daemon, started and stopped by the test. Waiting is for events (the port answers),
bounded."""
import http.client
import os
import socket
import subprocess
import time

from harness import BIN, ROOT, free_port


class Gateway:
    """bin/thidua-web talking to d's web socket. Use as a context manager."""

    def __init__(self, d, args=()):
        self.d = d
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(d.dir, "thidua-web.log")
        self.spool = os.path.join(d.dir, "web-spool")
        os.makedirs(self.spool, exist_ok=True)
        self.args = list(args)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def start(self):
        cmd = [os.path.join(BIN, "thidua-web"), "-e", f"ipc://{self.d.dir}/web.sock",
               "-l", f"127.0.0.1:{self.port}", "--static", os.path.join(ROOT, "workers", "web", "static"),
               "--spool", self.spool, "-v"] + self.args
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"thidua-web exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.01)
        raise AssertionError(f"thidua-web not listening within 20s:\n{self.read_log()}")

    def read_log(self):
        with open(self.log_path, "rb") as fp:
            return fp.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def get(self, path, headers=None, timeout=10):
        """(status, headers, body) of one GET on a fresh connection"""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def rss_kib(self):
        """resident memory of the gateway now, in KiB"""
        with open(f"/proc/{self.proc.pid}/status") as fp:
            for line in fp:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        log = self.read_log() if os.path.exists(self.log_path) else ""
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log or "LeakSanitizer" in log:
            raise AssertionError(f"sanitizer report from thidua-web:\n{log[-6000:]}")
