"""thidua-web's own ZMTP client (workers/web/zmtp.c) against a fake thiduad web socket in
Python: the greeting and READY it sends, a PING answered and an unknown command ignored
before a reply, a reply whose frame claims more than the gateway takes refused without
allocating it, a connection closed while waiting, and a connection made again after each.
(A real daemon stopped and started again: test_web_limits.)"""
import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time

from harness import eq
from webclient import Browser, Gateway

TOKEN = "ab" * 32


def read_exact(c, n):
    got = b""
    while len(got) < n:
        chunk = c.recv(n - len(got))
        if not chunk:
            raise EOFError("the gateway closed the connection")
        got += chunk
    return got


def read_frame(c):
    """(flags, body) of the next frame"""
    flags = read_exact(c, 1)[0]
    size = int.from_bytes(read_exact(c, 8), "big") if flags & 2 else read_exact(c, 1)[0]
    return flags, read_exact(c, size)


def frame(body, more=False, command=False):
    flags = (1 if more else 0) | (4 if command else 0)
    if len(body) > 255:
        return bytes([flags | 2]) + len(body).to_bytes(8, "big") + body
    return bytes([flags, len(body)]) + body


def prop(name, value):
    return bytes([len(name)]) + name + len(value).to_bytes(4, "big") + value


class FakeDaemon:
    """a ROUTER-like peer on PATH: each connection is handed to the next function of
    `script` (after the handshake, which it checks), with the request's frames"""

    def __init__(self, path, script):
        self.path, self.script, self.seen, self.errors = path, list(script), [], []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(8)
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while self.script:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            act = self.script.pop(0)
            try:
                with c:
                    self.handshake(c)
                    frames, more = [], True
                    while more:
                        flags, body = read_frame(c)
                        assert not flags & 4, f"a command where a message was due: {body!r}"
                        frames.append(body)
                        more = flags & 1
                    self.seen.append(frames)
                    act(c, json.loads(frames[1]))
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(repr(e))

    def handshake(self, c):
        g = read_exact(c, 64)
        assert g[0] == 0xFF and g[9] == 0x7F, f"signature {g[:10]!r}"
        assert g[10] == 3, f"version {g[10]}.{g[11]}"
        assert g[12:32] == b"NULL" + b"\0" * 16, f"mechanism {g[12:32]!r}"
        assert g[32] == 0, "as-server"
        c.sendall(b"\xff" + b"\0" * 7 + b"\x01\x7f" + bytes([3, 1]) + b"NULL" + b"\0" * 16 + b"\0" * 32)
        flags, body = read_frame(c)
        assert flags == 4 and body.startswith(b"\x05READY"), (flags, body)
        assert prop(b"Socket-Type", b"DEALER") in body, body
        c.sendall(frame(b"\x05READY" + prop(b"Socket-Type", b"ROUTER"), command=True))

    def close(self):
        self.srv.close()


def expired(c, req):
    """the reply a daemon gives to a session it does not know"""
    c.sendall(frame(b"", more=True) + frame(json.dumps({"id": req["id"], "ok": False, "error": {
        "code": "session_expired", "message": "the session has ended"}}).encode()))
    time.sleep(0.3)     # the gateway reads the reply before the connection closes


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as fp:
        return int(re.search(r"VmRSS:\s+(\d+)", fp.read()).group(1))


class Setup:
    def __init__(self, script):
        self.dir = tempfile.mkdtemp(prefix="thidua-zmtp-")
        self.fake = FakeDaemon(os.path.join(self.dir, "web.sock"), script)
        self.g = Gateway(self)

    def page(self):
        b = Browser(self.g.port)
        b.jar["thidua_session"] = TOKEN
        t0 = time.monotonic()
        r = b.get("/viec-can-lam")
        return r, time.monotonic() - t0

    def close(self):
        self.g.close()
        self.fake.close()
        assert not self.fake.errors, self.fake.errors
        shutil.rmtree(self.dir, ignore_errors=True)


def test_the_handshake_a_ping_and_an_unknown_command_before_the_reply():
    pongs = []

    def ping_first(c, req):
        assert req["op"] == "session.show" and req["session"] == TOKEN, req
        c.sendall(frame(b"\x04PING" + b"\x00\x0a" + b"ctx-1", command=True)
                  + frame(b"\x05HELLO" + b"whatever", command=True))
        flags, body = read_frame(c)
        pongs.append((flags, body))
        expired(c, req)

    s = Setup([ping_first])
    try:
        r, _ = s.page()
        eq((r.status, r.header("Location")), (303, "/dang-nhap?tb=het-han"), "the reply after the commands")
        eq(pongs, [(4, b"\x04PONGctx-1")], "PING answered with PONG and its context")
        eq(s.fake.seen[0][0], b"", "the empty delimiter frame first")
    finally:
        s.close()


def test_a_reply_over_the_bound_is_refused_and_a_lost_connection_made_again():
    def huge(c, req):
        # a frame that claims 1 TiB: refused on its header, nothing allocated for it
        c.sendall(frame(b"", more=True) + b"\x02" + (1 << 40).to_bytes(8, "big") + b"x" * 1000)
        time.sleep(1)

    def hang_up(c, req):
        pass            # the connection closes with the request unanswered

    s = Setup([huge, hang_up, expired])
    try:
        rss0 = vm_rss_kib(s.g.proc.pid)
        r, took = s.page()
        eq(r.status, 503, "a reply over the bound: the daemon is unavailable")
        assert took < 10, f"refused at once, not after the 120 s timeout ({took:.1f} s)"
        assert vm_rss_kib(s.g.proc.pid) < rss0 + 20 * 1024, "the claimed size was not allocated"
        assert "a reply larger than the gateway takes" in s.g.read_log(), s.g.read_log()[-2000:]
        r, took = s.page()
        eq(r.status, 503, "the connection closed while waiting for the reply")
        assert took < 10, f"told at once ({took:.1f} s)"
        r, _ = s.page()
        eq((r.status, r.header("Location")), (303, "/dang-nhap?tb=het-han"), "a new connection serves")
        eq(len(s.fake.seen), 3, "one connection for each request")
    finally:
        s.close()
