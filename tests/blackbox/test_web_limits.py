"""thidua-web's bounds and its upload path under bad input: headers past what a connection holds (16 KiB), a body
declared or sent past the limit, form fields past 64 KiB, malformed multipart bodies and
headers (a seeded mutation run), a dead daemon. After each, the gateway still serves, and
nothing reached the daemon."""
import random
import socket

from harness import eq
from test_web import PW_LAN, SUBMIT, Site, obligation
from webclient import Browser


def raw(port, data, read=True):
    """send bytes as they are; the answer's status (0 when the connection was closed)"""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass        # the server answered and closed before taking it all: read what it said
        if not read:
            return 0
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
        return int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/1.") else 0
    finally:
        s.close()


def alive(s):
    eq(Browser(s.g.port).get("/dang-nhap").status, 200, "the gateway still serves")


def multipart(csrf, files, boundary):
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'.encode()]
    for name, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="tep"; filename="{name}"\r\n'
                     f'Content-Type: application/pdf\r\n\r\n'.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def test_headers_and_bodies_past_their_limits_are_refused():
    with Site(gateway_args=("--max-file-bytes", "65536")) as s:
        port = s.g.port
        # 40 KiB of headers: libmicrohttpd answers 431 (or closes), never serves it
        big = b"GET /dang-nhap HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 40000 + b"\r\n\r\n"
        assert raw(port, big) in (0, 431, 413, 400), "headers past the connection's memory"
        alive(s)
        b = s.browser("nguyen.thi.lan", PW_LAN)
        csrf = b.csrf()
        cookie = "thidua_session=" + b.jar["thidua_session"]
        # a body declared larger than the limit (the daemon's 32 MiB and 1 MiB of form) is
        # refused before it is read
        head = (f"POST {SUBMIT} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
                f"Content-Type: multipart/form-data; boundary=bbbb\r\nContent-Length: {40 << 20}\r\n\r\n").encode()
        eq(raw(port, head), 413, "a declared body past the limit")
        # a body sent past the limit in chunks, without a length
        body = multipart(csrf, [("a.pdf", b"x" * (34 << 20))], "bb")
        chunked = (f"POST {SUBMIT} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
                   f"Content-Type: multipart/form-data; boundary=bb\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
        chunked += b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                            for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
        assert raw(port, chunked) in (0, 413), "a sent body past the limit"
        # text fields past 64 KiB are not kept: the form is refused, nothing stored
        r = b.post_multipart(SUBMIT, {"csrf": csrf, "ghi_chu": "ư" * 40000}, [("tep", "a.pdf", b"1")])
        eq(r.status, 400, r.text[:300])
        eq(obligation(s.d)["version"], 0, "nothing reached the daemon")
        alive(s)


def test_malformed_uploads_never_break_the_gateway():
    rnd = random.Random(20241110)
    # 300 requests at once from one person: the daemon's per-principal rate is not tested here
    with Site(gateway_args=("--max-file-bytes", "65536"),
              replace=(('state_dir = "/var/lib/thidua";', 'state_dir = "/var/lib/thidua"; requests_per_second = 0;'),)) as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        csrf = b.csrf()
        cookie = "thidua_session=" + b.jar["thidua_session"]
        base = multipart(csrf, [("bao-cao.pdf", b"%PDF-1.4 " + bytes(range(256))), ("phu-luc.xlsx", b"PK\x03\x04")],
                         "XyZ")
        statuses = {}
        for i in range(300):
            body = bytearray(base)
            for _ in range(rnd.randint(1, 8)):
                if not body:
                    break
                op = rnd.randrange(4)
                pos = rnd.randrange(len(body))
                if op == 0:
                    body[pos] = rnd.randrange(256)
                elif op == 1:
                    del body[pos:pos + rnd.randint(1, 40)]
                elif op == 2:
                    body[pos:pos] = rnd.choice([b"\r\n", b"--XyZ", b'"', b";", b"\x00", b"\xff\xfe", b"--XyZ--\r\n",
                                                b'filename="', b"\r\n\r\n", b"Content-Disposition: form-data"])
                else:
                    body = body[:pos]
            ctype = rnd.choice(["multipart/form-data; boundary=XyZ", "multipart/form-data; boundary=\"XyZ\"",
                                "multipart/form-data", "multipart/form-data; boundary=", "text/plain",
                                "multipart/form-data; boundary=" + "Z" * 300])
            req = (f"POST {SUBMIT} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n"
                   f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + bytes(body)
            st = raw(s.g.port, req)
            statuses[st] = statuses.get(st, 0) + 1
            assert st != 500, f"mutation {i}: 500"
            assert s.g.proc.poll() is None, f"mutation {i}: the gateway exited:\n{s.g.read_log()[-3000:]}"
        assert set(statuses) <= {0, 303, 400, 403, 413}, statuses
        alive(s)
        # whatever got through is a well-formed submission the daemon took
        got = obligation(s.d)["version"]
        eq(got, statuses.get(303, 0), "each 303 is one version stored")


def test_a_stopped_daemon_is_told_as_such_and_a_restarted_one_served_again():
    with Site() as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        s.d.stop()
        r = b.get("/viec-can-lam")
        eq(r.status, 503, r.text[:300])
        assert "Hãy thử lại sau ít phút" in r.text
        r = Browser(s.g.port).login("nguyen.thi.lan", PW_LAN)
        eq(r.status, 503, "login while the daemon is down")
        assert "chưa sẵn sàng" in r.text, r.text
        # the daemon back on the same state: the gateway's sockets connect again, the
        # session (kept by the daemon) goes on
        s.d.start()
        eq(b.get("/viec-can-lam").status, 200, "served again, same session")
