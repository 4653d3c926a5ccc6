"""What the web tests share: thidua-web started on a daemon's web socket, and a small browser
(http.client, its own cookie jar, no redirects followed) that logs in, fills forms and
uploads files as a browser does (multipart/form-data)."""
import http.client
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid

from harness import BIN, CONFIG, ROOT, Daemon, eq, free_port, write

STATIC = os.path.join(ROOT, "workers", "web", "static")

ADMIN = '  { name = "quan.tri"; display_name = "Quản Trị Viên"; unit = "HCM"; roles = [ "admin" ]; },\n'


def config_with(tmp, extra_principals=ADMIN, replace=(), append=""):
    """the sample configuration with more principals, some text replaced, lines appended"""
    text = open(CONFIG, encoding="utf-8").read()
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    i = text.index("principals = (") + len("principals = (\n")
    text = text[:i] + extra_principals + text[i:] + append
    path = os.path.join(tmp, "web.cfg")
    write(path, text)
    return path


class Gateway:
    """bin/thidua-web on d's web socket, on a free loopback port; stopped on exit"""

    def __init__(self, d, args=()):
        self.port = free_port()
        self.log_path = os.path.join(d.dir, "thidua-web.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "thidua-web"), "-e", f"ipc://{d.dir}/web.sock", "--listen", f"127.0.0.1:{self.port}",
             "--static", STATIC, "-v"] + list(args), stdout=self.log, stderr=self.log)
        wait_http(self.port, self.proc, self.read_log)

    def read_log(self):
        with open(self.log_path, "rb") as fp:
            return fp.read().decode("utf-8", "replace")

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as fp:
            return int(re.search(r"VmRSS:\s+(\d+)", fp.read()).group(1))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        log = self.read_log()
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log or "LeakSanitizer" in log:
            raise AssertionError(f"sanitizer report from thidua-web:\n{log[-6000:]}")


def wait_http(port, proc=None, log=None, timeout=20):
    """until the port answers a request (an event, bounded)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"thidua-web exited with {proc.returncode}:\n{log() if log else ''}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/static/thidua.css")
            c.getresponse().read()
            c.close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"thidua-web not answering on {port}")


class Response:
    def __init__(self, r):
        self.status = r.status
        self.headers = r.getheaders()
        self.body = r.read()
        self.text = self.body.decode("utf-8", "replace")

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def cookies(self):
        return [v for k, v in self.headers if k.lower() == "set-cookie"]


class Browser:
    """cookies kept as a browser keeps them (Max-Age=0 removes one); no redirect followed"""

    def __init__(self, port):
        self.port = port
        self.jar = {}

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = dict(headers or {})
        if self.jar:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        c.request(method, path, body=body, headers=h)
        r = Response(c.getresponse())
        c.close()
        for sc in r.cookies():
            name, _, rest = sc.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in sc:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return r

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields, headers=None):
        from urllib.parse import urlencode
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self.request("POST", path, urlencode(fields).encode(), h)

    def post_multipart(self, path, fields, files):
        """files: (field, filename, bytes) triples"""
        boundary = "----thidua" + uuid.uuid4().hex
        parts = []
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() +
                         v.encode() + b"\r\n")
        for field, filename, data in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="'.encode() +
                         filename.encode() + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def field(self, page, name):
        m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page.text)
        return m.group(1) if m else None

    def login(self, name, password):
        page = self.get("/dang-nhap")
        r = self.post("/dang-nhap", {"pre": self.field(page, "pre"), "ten": name, "mat_khau": password})
        return r

    def csrf(self, path="/"):
        """the session's CSRF token, read from a page's logout form"""
        page = self.get(path)
        if page.status in (301, 302, 303):
            page = self.get(page.header("Location"))
        token = self.field(page, "csrf")
        assert token, page.text[:2000]
        return token


def daemon_with_accounts(tmp, start_at, passwords, **cfg):
    """a daemon on the configuration with the admin, and passwords set by the local
    administrator (account.passwd)"""
    d = Daemon(config=config_with(tmp, **cfg), start_at=start_at)
    d.start()
    for name, pw in passwords.items():
        r = d.call("account.passwd", name=name, password=pw)
        assert r["ok"], r
    return d


class WebSite:
    """a daemon whose principals have the passwords given (name: password), and a gateway
    on its web socket; on exit both stop and the temporary directory goes. The daemon runs
    on the sample configuration with the administrator and cfg's changes (config_with), or
    on config(tmp), a configuration file made in the temporary directory."""

    def __init__(self, passwords, start, gateway_args=(), config=None, prefix="thidua-web-", **cfg):
        self.passwords = dict(passwords)
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        if config:
            self.d = Daemon(config=config(self.tmp), start_at=start)
            self.d.start()
            for name, pw in self.passwords.items():
                assert self.d.call("account.passwd", name=name, password=pw)["ok"], name
        else:
            self.d = daemon_with_accounts(self.tmp, start, self.passwords, **cfg)
        try:
            self.g = Gateway(self.d, gateway_args)
        except BaseException:
            self.d.close()
            raise

    def browser(self, name=None, password=None):
        """a new browser; logged in as name (with its password unless another is given)"""
        b = Browser(self.g.port)
        if name:
            r = b.login(name, self.passwords[name] if password is None else password)
            eq(r.status, 303, f"login of {name}: {r.text[:500]}")
        return b

    def login(self, name):
        return self.browser(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.g.close()
        finally:
            self.d.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
