"""config/examples/nginx-thidua.conf in front of thidua-web --trust-proxy, as shipped (only
the ports, the certificate and nginx's own files moved into a temporary directory): TLS,
the Secure cookie, the client's address as nginx saw it (a client's own X-Forwarded-For is
not believed), an upload through the proxy, the body limit and the login rate limit.
Skipped when nginx or openssl is not installed."""
import http.client
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import ROOT, eq, free_port
from test_web import PW_LAN, SUBMIT, Site, obligation
from webclient import Browser

EXAMPLE = os.path.join(ROOT, "config", "examples", "nginx-thidua.conf")


class TLSBrowser(Browser):
    """the Browser over https, certificate not checked (a self-signed one)"""

    def request(self, method, path, body=None, headers=None):
        real = http.client.HTTPConnection
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        http.client.HTTPConnection = lambda host, port, timeout: http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ctx)
        try:
            return super().request(method, path, body, headers)
        finally:
            http.client.HTTPConnection = real


def nginx_in_front(tmp, gateway_port):
    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not os.access(nginx, os.X_OK) or not openssl:
        raise unittest.SkipTest("nginx or openssl is not installed (Debian: nginx-light, openssl)")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem"], check=True, capture_output=True)
    https, plain = free_port(), free_port()
    site = open(EXAMPLE, encoding="utf-8").read()
    for old, new in (("/etc/ssl/thidua/fullchain.pem", f"{tmp}/cert.pem"), ("/etc/ssl/thidua/privkey.pem", f"{tmp}/key.pem"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"), ("listen [::]:443 ssl http2;", ""),
                     ("listen 80;", f"listen 127.0.0.1:{plain};"), ("listen [::]:80;", ""),
                     ("server 127.0.0.1:8470;", f"server 127.0.0.1:{gateway_port};")):
        assert old in site, old
        site = site.replace(old, new)
    with open(f"{tmp}/site.conf", "w", encoding="utf-8") as fp:
        fp.write(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    with open(f"{tmp}/nginx.conf", "w", encoding="utf-8") as fp:
        fp.write(f"{user}pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\n"
                 f"http {{ access_log off; client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;\n"
                 f"  fastcgi_temp_path {tmp}/f; uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;\n"
                 f"  include {tmp}/site.conf; }}\n")
    p = subprocess.Popen([nginx, "-c", f"{tmp}/nginx.conf", "-p", tmp, "-g", "daemon off;"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise AssertionError(f"nginx exited: {p.stderr.read().decode()}")
        try:
            TLSBrowser(https).get("/static/thidua.css")
            return p, https, plain
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise AssertionError("nginx did not answer")


def test_nginx_in_front_as_the_example_configures_it():
    with Site(gateway_args=("--trust-proxy",)) as s:
        tmp = tempfile.mkdtemp(prefix="thidua-nginx-")
        p = None
        try:
            p, https, plain = nginx_in_front(tmp, s.g.port)
            r = Browser(plain).get("/dang-nhap")
            eq((r.status, r.header("Location")), (301, "https://127.0.0.1/dang-nhap"), "http goes to https")
            b = TLSBrowser(https)
            page = b.get("/dang-nhap")
            eq(page.status, 200, "the login page through nginx")
            assert page.header("Strict-Transport-Security"), "HSTS"
            assert page.header("Content-Security-Policy"), "thidua-web's headers pass through"
            assert "Secure" in [c for c in page.cookies() if c.startswith("thidua_pre=")][0], "the form's cookie"
            # a failed login is counted for the address nginx saw, not one the client claims
            r = b.post("/dang-nhap", {"pre": b.field(page, "pre"), "ten": "nguyen.thi.lan", "mat_khau": "sai rồi đấy nhé"},
                       headers={"X-Forwarded-For": "198.51.100.66"})
            eq(r.status, 400, r.text[:300])
            eq([a for (a,) in s.d.db().execute("SELECT address FROM login_failures")], ["127.0.0.1"],
               "the address is nginx's $remote_addr")
            r = b.post("/dang-nhap", {"pre": b.field(page, "pre"), "ten": "nguyen.thi.lan", "mat_khau": PW_LAN})
            eq(r.status, 303, r.text[:300])
            cookie = [c for c in r.cookies() if c.startswith("thidua_session=")][0]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
            # an upload through the proxy (request buffering off: streamed on)
            data = os.urandom(3 << 20)
            r = b.post_multipart(SUBMIT, {"csrf": b.csrf()}, [("tep", "qua-nginx.bin", data)])
            eq(r.status, 303, r.text[:500])
            eq(obligation(s.d)["version"], 1, "stored")
            # past client_max_body_size: nginx refuses it
            csrf = b.csrf()
            try:
                status = b.post_multipart(SUBMIT, {"csrf": csrf}, [("tep", "qua-lon.bin", b"\0" * (35 << 20))]).status
            except OSError:
                status = "closed"   # nginx answered 413 and closed while the body was still going
            assert status in (413, "closed"), status
            eq(obligation(s.d)["version"], 1, "nothing more stored")
            # login POSTs: 10 a minute per address with a burst of 5 (two were made above), then
            # 429; showing the form is not counted
            eq([TLSBrowser(https).get("/dang-nhap").status for _ in range(8)], [200] * 8, "the form, again and again")
            statuses = [TLSBrowser(https).post("/dang-nhap", {"ten": "x", "mat_khau": "y"}).status for _ in range(10)]
            n = statuses.count(403)     # 4, or a few more when the run was slow (one a 6 s)
            eq(statuses, [403] * n + [429] * (10 - n), "the burst, then refused by nginx")
            assert 4 <= n <= 7, statuses
        finally:
            if p:
                p.terminate()
                p.wait(10)
            shutil.rmtree(tmp, ignore_errors=True)
