"""thidua-web (workers/web): the web pages, spoken to over HTTP as a browser does, on a real
thiduad's web socket. Logging in and out, the CSRF tokens, sessions expiring by the
daemon's clock, a clerk held to their own commune, the clerk's pages (obligations, the
submission form and its errors, receipts, downloads), a 25 MiB upload, escaping, the
security headers of every response, and thiduad starting the gateway itself."""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT, Daemon, eq, free_port
from webclient import Browser, WebSite, config_with, wait_http

START = "2024-11-10T09:00:00+07:00"
PW_LAN = "mật khẩu của Lan 2024"
PW_NAM = "Huỳnh Văn Nam mật khẩu"
DOC = "Báo cáo kết quả năm 2024 của xã An Phú".encode()
SUBMIT = "/nop/XA-ANPHU/BC-NAM/2024"

SECURITY = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class Site(WebSite):
    """a daemon with passwords for lan (XA-ANPHU) and nam (XA-PHUHOADONG), and a gateway"""

    def __init__(self, gateway_args=(), **cfg):
        super().__init__({"nguyen.thi.lan": PW_LAN, "huynh.van.nam": PW_NAM}, START, gateway_args, **cfg)


def obligation(d, unit="XA-ANPHU"):
    r = d.call("obligations.list", unit=unit, report="BC-NAM", period="2024")
    assert r["ok"] and r["count"] == 1, r
    return r["obligations"][0]


def test_login_logout_and_a_wrong_password():
    with Site() as s:
        b = s.browser()
        page = b.get("/dang-nhap")
        eq(page.status, 200, "the login page")
        assert 'for="ten"' in page.text and 'for="mat_khau"' in page.text, "labels tied to the inputs"
        # a wrong password: one message, the name kept, no session
        r = b.post("/dang-nhap", {"pre": b.field(page, "pre"), "ten": "nguyen.thi.lan", "mat_khau": "sai mật khẩu rồi"})
        eq(r.status, 400, "refused")
        assert "Tên đăng nhập hoặc mật khẩu không đúng" in r.text, r.text
        assert 'value="nguyen.thi.lan"' in r.text, "the name stays in the field"
        assert "thidua_session" not in b.jar
        # an unknown name reads the same
        r2 = b.post("/dang-nhap", {"pre": b.field(page, "pre"), "ten": "khong.co.ai", "mat_khau": "sai mật khẩu rồi"})
        eq(r2.status, 400, "unknown name")
        assert "Tên đăng nhập hoặc mật khẩu không đúng" in r2.text
        # the right one: a session cookie, HttpOnly and SameSite=Strict, then the clerk's page
        r = b.post("/dang-nhap", {"pre": b.field(page, "pre"), "ten": "nguyen.thi.lan", "mat_khau": PW_LAN})
        eq((r.status, r.header("Location")), (303, "/"), "logged in")
        cookie = [c for c in r.cookies() if c.startswith("thidua_session=")][0]
        assert re.match(r"thidua_session=[0-9a-f]{64};", cookie), cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie, cookie
        assert "Secure" not in cookie, "plain http without a proxy: no Secure"
        home = b.get("/")
        eq((home.status, home.header("Location")), (303, "/viec-can-lam"), "a submitter starts at the obligations")
        todo = b.get("/viec-can-lam")
        eq(todo.status, 200, todo.text[:300])
        assert "Nguyễn Thị Lan" in todo.text and "Ủy ban nhân dân xã An Phú" in todo.text, todo.text
        # logout: the session ends in the daemon, the cookie goes
        token = b.jar["thidua_session"]
        out = b.post("/dang-xuat", {"csrf": b.field(todo, "csrf")})
        eq((out.status, out.header("Location")), (303, "/dang-nhap?tb=da-dang-xuat"), "logged out")
        assert "thidua_session" not in b.jar, "the cookie is removed"
        eq(s.d.call("session.show", session=token)["ok"], False, "the session is over in the daemon")
        again = Browser(s.g.port)
        again.jar["thidua_session"] = token
        r = again.get("/viec-can-lam")
        eq((r.status, r.header("Location")), (303, "/dang-nhap?tb=het-han"), "the old cookie leads to the login")
        # not logged in at all
        r = Browser(s.g.port).get("/viec-can-lam")
        eq((r.status, r.header("Location")), (303, "/dang-nhap?tb=can-dang-nhap"), "no cookie")


def test_forms_without_their_token_are_refused():
    with Site() as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        csrf = b.csrf("/viec-can-lam")
        # logout without the token, or with another: refused, the session stays
        eq(b.post("/dang-xuat", {}).status, 403, "no token")
        eq(b.post("/dang-xuat", {"csrf": "0" * len(csrf)}).status, 403, "a wrong token")
        eq(b.get("/viec-can-lam").status, 200, "still logged in")
        # a submission with a wrong token never reaches the daemon
        r = b.post_multipart(SUBMIT, {"csrf": "x" + csrf[1:]}, [("tep", "bao-cao.pdf", DOC)])
        eq(r.status, 403, r.text[:500])
        assert "chống giả mạo" in r.text
        eq(obligation(s.d)["version"], 0, "nothing was submitted")
        # a form posted from another site is refused even with the token
        r = b.post("/dang-xuat", {"csrf": csrf}, headers={"Origin": "https://evil.example"})
        eq(r.status, 403, "another origin")
        eq(b.get("/viec-can-lam").status, 200, "still logged in")
        # the login form has its own token (cookie thidua_pre and field)
        anon = Browser(s.g.port)
        r = anon.post("/dang-nhap", {"ten": "nguyen.thi.lan", "mat_khau": PW_LAN})
        eq(r.status, 403, "a login without the form's token")
        assert "thidua_session" not in anon.jar
        # with the right one, logout works
        r = b.post("/dang-xuat", {"csrf": csrf})
        eq(r.status, 303, "the right token")


def test_a_session_expires_by_the_daemons_clock():
    with Site() as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        eq(b.get("/viec-can-lam").status, 200, "fresh")
        assert s.d.call("clock.advance", by="29m")["ok"]
        eq(b.get("/viec-can-lam").status, 200, "29 minutes idle: still on (and refreshed)")
        assert s.d.call("clock.advance", by="31m")["ok"]
        r = b.get("/viec-can-lam")
        eq((r.status, r.header("Location")), (303, "/dang-nhap?tb=het-han"), "31 minutes idle")
        assert "thidua_session" not in b.jar, "the expired cookie is removed"
        page = b.get("/dang-nhap?tb=het-han")
        assert "Phiên làm việc đã hết hạn" in page.text, page.text


def test_a_clerk_sees_and_submits_for_their_own_commune_only():
    with Site() as s:
        nam = s.d.call("report.submit", files=[("xa-phu-hoa-dong.pdf", b"PHD 2024")], unit="XA-PHUHOADONG",
                       report="BC-NAM", period="2024")
        assert nam["ok"], nam
        number, sha = nam["receipt"]["number"], nam["receipt"]["files"][0]["sha256"]
        b = s.browser("nguyen.thi.lan", PW_LAN)
        todo = b.get("/viec-can-lam")
        assert "XA-PHUHOADONG" not in todo.text and "/nop/XA-ANPHU/BC-NAM/2024" in todo.text, todo.text
        r = b.get("/nop/XA-PHUHOADONG/BC-NAM/2024")
        eq(r.status, 404, "another commune's form is not shown")
        csrf = b.csrf()
        r = b.post_multipart("/nop/XA-PHUHOADONG/BC-NAM/2024", {"csrf": csrf}, [("tep", "gia.pdf", b"not theirs")])
        eq(r.status, 403, r.text[:500])
        eq(obligation(s.d, "XA-PHUHOADONG")["version"], 1, "nothing more stored for the other commune")
        eq(b.get(f"/bien-nhan/{number}").status, 403, "another commune's receipt")
        eq(b.get(f"/tep/{number}/{sha}").status, 403, "another commune's file")
        assert number not in b.get("/bien-nhan").text, "not in the receipts list"
        # nam, of that commune, sees them
        n = s.browser("huynh.van.nam", PW_NAM)
        eq(n.get(f"/bien-nhan/{number}").status, 200, "the commune's own receipt")
        f = n.get(f"/tep/{number}/{sha}")
        eq((f.status, f.body), (200, b"PHD 2024"), "the file through the daemon")
        assert "attachment" in f.header("Content-Disposition") and "xa-phu-hoa-dong.pdf" in f.header("Content-Disposition")


def test_the_clerk_submits_and_gets_a_printable_receipt():
    with Site() as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        todo = b.get("/viec-can-lam")
        assert "còn 5 ngày" in todo.text and "Chưa nộp" in todo.text, todo.text
        form = b.get(SUBMIT)
        eq(form.status, 200, form.text[:300])
        assert 'enctype="multipart/form-data"' in form.text and 'for="tep"' in form.text and 'for="ghi_chu"' in form.text
        r = b.post_multipart(SUBMIT, {"csrf": b.field(form, "csrf"), "ghi_chu": "Kính gửi Phòng GD&ĐT"},
                             [("tep", "báo cáo năm 2024.pdf", DOC), ("tep", "phụ lục.xlsx", b"PK\x03\x04 bang")])
        eq(r.status, 303, r.text[:1000])
        loc = r.header("Location")
        assert loc.startswith("/bien-nhan/BN-2024-") and loc.endswith("?tb=da-nop"), loc
        number = loc.split("/")[2].split("?")[0]
        rc = b.get(loc)
        eq(rc.status, 200, rc.text[:300])
        for text in (number, "Đúng hạn", "báo cáo năm 2024.pdf", "phụ lục.xlsx", hashlib.sha256(DOC).hexdigest(),
                     f"{len(DOC)} byte", "Kính gửi Phòng GD&amp;ĐT", "Đã nộp báo cáo"):
            assert text in rc.text, (text, rc.text)
        stored = s.d.call("report.receipt", number=number)["receipt"]
        eq([f["name"] for f in stored["files"]], ["báo cáo năm 2024.pdf", "phụ lục.xlsx"], "names round-trip")
        eq(stored["note"], "Kính gửi Phòng GD&ĐT", "the note")
        # the list, and the obligation now submitted
        lst = b.get("/bien-nhan")
        assert number in lst.text and "Đúng hạn" in lst.text, lst.text
        assert "Đã nộp, chờ xem xét" in b.get("/viec-can-lam").text
        # a return shows its reason and the new due date to the clerk
        assert s.d.call("report.return", unit="XA-ANPHU", report="BC-NAM", period="2024",
                        reason="Thiếu bảng tổng hợp tiêu chí")["ok"]
        todo = b.get("/viec-can-lam")
        assert "Bị trả lại" in todo.text and "Thiếu bảng tổng hợp tiêu chí" in todo.text, todo.text
        due = obligation(s.d)["due_at"]
        assert f"{due[8:10]}/{due[5:7]}/{due[0:4]}" in todo.text.split("Hạn nộp lại")[1][:80], (due, todo.text)
        # a late version after the due date reads late
        assert s.d.call("clock.set", to="2024-11-25T10:00:00+07:00")["ok"]
        b = s.browser("nguyen.thi.lan", PW_LAN)     # the session ended with the days gone by
        r = b.post_multipart(SUBMIT, {"csrf": b.csrf()}, [("tep", "ban-sua.pdf", b"v2")])
        eq(r.status, 303, r.text[:800])
        second = b.get(r.header("Location")).text
        assert "Nộp muộn" in second
        # the report's history on its receipt: both versions, the return between them with its reason
        number2 = r.header("Location").split("/")[2].split("?")[0]
        hist = second.split("Lịch sử các lần nộp")[1].split("</ol>")[0]
        items = re.findall(r"<li>(.*?)</li>", hist)
        eq(len(items), 3, hist)
        assert "lần nộp 1" in items[0] and f'<a href="/bien-nhan/{number}">{number}</a>' in items[0], items[0]
        assert "đúng hạn" in items[0], items[0]
        assert "Bị trả lại" in items[1] and "Thiếu bảng tổng hợp tiêu chí" in items[1] and "hạn nộp lại" in items[1]
        assert "lần nộp 2" in items[2] and f"biên nhận {number2} (biên nhận này)" in items[2] and "muộn" in items[2]
        first = b.get(f"/bien-nhan/{number}").text
        assert f'<a href="/bien-nhan/{number2}">{number2}</a>' in first, "the first version's page leads to the later"
        got = s.d.call("report.receipt", number=number)
        eq([(v["number"], v["version"], v["on_time"]) for v in got["versions"]], [(number, 1, True), (number2, 2, False)])
        eq([(x["action"], x["reason"]) for x in got["reviews"]], [("return", "Thiếu bảng tổng hợp tiêu chí")])
        eq(got["reviews"][0]["due_at"], due, "the due moment the return set")


def test_upload_errors_are_shown_next_to_the_field_and_nothing_is_stored():
    with Site(gateway_args=("--max-file-bytes", "4096")) as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        csrf = b.csrf()
        cases = [
            ([("tep", "rong.pdf", b"")], "rong.pdf", "tệp rỗng", "empty_file"),
            ([("tep", "lon.pdf", b"x" * 4097)], "lon.pdf", "tệp quá lớn", "file_too_large"),
            ([("tep", "\u202egpj.exe", b"MZ")], "&lt;U+202E&gt;gpj.exe", "ký tự điều khiển hoặc ký tự ẩn",
             "invalid_file_name"),
            ([("tep", "..", b"x")], "..", "không được là . hoặc ..", "invalid_file_name"),
            ([("tep", "a.pdf", b"1"), ("tep", "a.pdf", b"2")], "a.pdf", "trùng tên", "invalid_file_name"),
            ([("tep", "", b"")], None, "Chưa chọn tệp nào", "no_file"),
            ([("tep", f"tep-{i}.pdf", b"%d" % i) for i in range(65)], None, "Quá 64 tệp", "too_many_frames"),
        ]
        for files, shown, why, code in cases:
            r = b.post_multipart(SUBMIT, {"csrf": csrf, "ghi_chu": "ghi chú <b>giữ lại</b>"}, files)
            eq(r.status, 400, f"{why}: {r.text[:300]}")
            m = re.search(r'<ul class="field-error" id="loi-tep" role="alert">(.*?)</ul>', r.text)
            assert m and why in m.group(1) and f"({code})" in m.group(1), (why, r.text)
            if shown:
                assert shown in m.group(1), (shown, m.group(1))
            assert "ghi chú &lt;b&gt;giữ lại&lt;/b&gt;</textarea>" in r.text, "the note stays, escaped"
        eq(obligation(s.d)["version"], 0, "nothing reached the daemon")
        # what only the daemon knows comes back next to the form too: the report is accepted
        assert s.d.call("report.submit", files=[("a.pdf", b"1")], unit="XA-ANPHU", report="BC-NAM", period="2024")["ok"]
        assert s.d.call("report.accept", unit="XA-ANPHU", report="BC-NAM", period="2024")["ok"]
        r = b.post_multipart(SUBMIT, {"csrf": csrf}, [("tep", "b.pdf", b"2")])
        eq(r.status, 400, r.text[:300])
        assert "đã được chấp nhận" in r.text, r.text
        eq(obligation(s.d)["version"], 1, "refused by the daemon")


def test_a_25_mib_upload_is_acknowledged_with_its_sha256():
    with Site() as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        data = os.urandom(1 << 20) * 25          # 26214400 bytes: the default limit exactly
        r = b.post_multipart(SUBMIT, {"csrf": b.csrf()}, [("tep", "bao-cao-25MiB.bin", data)])
        eq(r.status, 303, r.text[:1000])
        number = r.header("Location").split("/")[2].split("?")[0]
        want = hashlib.sha256(data).hexdigest()
        rc = s.d.call("report.receipt", number=number)["receipt"]
        eq((rc["files"][0]["size"], rc["files"][0]["sha256"]), (len(data), want), "stored whole")
        page = b.get(f"/bien-nhan/{number}")
        assert want in page.text and "26214400 byte" in page.text, page.text
        f = b.get(f"/tep/{number}/{want}")
        eq((f.status, hashlib.sha256(f.body).hexdigest()), (200, want), "downloaded back")
        assert s.g.rss_kib() < 32 * 1024, f"thidua-web holds {s.g.rss_kib()} KiB after a 25 MiB upload"
        # one byte more is refused by the gateway, next to the field
        r = b.post_multipart(SUBMIT, {"csrf": b.csrf()}, [("tep", "qua-lon.bin", data + b"x")])
        eq(r.status, 400, r.text[:500])
        assert "tệp quá lớn" in r.text


def test_a_unit_name_full_of_markup_is_written_as_text():
    evil = "<script>alert('x')</script> & \"Xã\" <img src=x onerror=alert(1)>"
    with Site(replace=(('name = "Ủy ban nhân dân xã An Phú";', 'name = "%s";' % evil.replace('"', '\\"')),)) as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Xã&quot; &lt;img src=x onerror=alert(1)&gt;"
        for path in ("/viec-can-lam", SUBMIT):
            page = b.get(path)
            eq(page.status, 200, path)
            assert escaped in page.text, (path, page.text)
            assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
        r = b.post_multipart(SUBMIT, {"csrf": b.csrf(), "ghi_chu": "</textarea><script>x()</script>"},
                             [("tep", "<b onclick=x()>đậm.pdf", DOC)])
        eq(r.status, 303, r.text[:500])
        page = b.get(r.header("Location"))
        assert escaped in page.text and "&lt;b onclick=x()&gt;đậm.pdf" in page.text, page.text
        assert "&lt;/textarea&gt;&lt;script&gt;x()&lt;/script&gt;" in page.text and "<script>x()" not in page.text


def test_every_response_carries_the_security_headers():
    with Site() as s:
        anon = Browser(s.g.port)
        b = s.browser("nguyen.thi.lan", PW_LAN)
        r = s.d.call("report.submit", files=[("a.pdf", DOC)], unit="XA-ANPHU", report="BC-NAM", period="2024")
        number, sha = r["receipt"]["number"], r["receipt"]["files"][0]["sha256"]
        seen = [anon.get("/dang-nhap"), anon.get("/"), anon.get("/khong-co"), anon.get("/static/thidua.css"),
                anon.get("/static/thidua.js"), anon.get("/static/chart.js"), anon.get("/static/khong-co.js"),
                anon.post("/dang-nhap", {}), b.get("/"), b.get("/viec-can-lam"), b.get("/bien-nhan"),
                b.get(f"/bien-nhan/{number}"), b.get("/bien-nhan/BN-2099-999999"), b.get(f"/tep/{number}/{sha}"),
                b.get(SUBMIT), b.post("/dang-xuat", {}), b.get("/bien-nhan/%FF%FE"),
                anon.request("PUT", "/dang-nhap", b"x")]
        for r in seen:
            for name, value in SECURITY.items():
                eq(r.header(name), value, f"{name} on a {r.status} response")
            assert r.header("X-Frame-Options") == "DENY"
        pages = [r for r in seen if (r.header("Content-Type") or "").startswith("text/html")]
        assert all(r.header("Cache-Control") == "no-store" for r in pages), "pages are not cached"
        eq(seen[3].header("Content-Type"), "text/css; charset=utf-8", "the style sheet")
        eq(seen[5].status, 200, "Chart.js from libjs-chart.js")
        assert b"Chart.js v" in seen[5].body[:200], seen[5].body[:200]
        eq(seen[6].status, 404, "nothing else of the file system")
        eq(seen[2].status, 404, "an unknown page")
        eq(seen[-1].status, 405, "a method the page does not take")
        eq(seen[-2].status, 404, "a path that is not UTF-8")
        for r in pages:
            assert "<script>" not in r.text and " style=" not in r.text and " on" + "click=" not in r.text, \
                "no inline script or style (the policy forbids it)"


def test_an_invitation_link_sets_the_password_and_logs_in():
    with Site() as s:
        inv = s.d.call("account.invite", name="tran.thi.thu")
        assert inv["ok"], inv
        path = "/moi/" + inv["link"].rsplit("/", 1)[1]
        b = Browser(s.g.port)
        form = b.get(path)
        eq(form.status, 200, form.text[:300])
        pre = b.field(form, "pre")
        r = b.post(path, {"pre": pre, "mat_khau": "một mật khẩu dài", "nhap_lai": "một mật khẩu khác"})
        eq(r.status, 400, "the two entries differ")
        assert "không giống nhau" in r.text
        r = b.post(path, {"pre": pre, "mat_khau": "ngắn", "nhap_lai": "ngắn"})
        eq(r.status, 400, "too short: the daemon's rule")
        r = b.post(path, {"pre": pre, "mat_khau": "Trần Thị Thu 2024!", "nhap_lai": "Trần Thị Thu 2024!"})
        eq((r.status, r.header("Location")), (303, "/"), r.text[:500])
        assert "Trần Thị Thu" in b.get("/viec-can-lam").text
        r = Browser(s.g.port)
        form = r.get(path)
        again = r.post(path, {"pre": r.field(form, "pre"), "mat_khau": "một mật khẩu khác nữa", "nhap_lai": "một mật khẩu khác nữa"})
        eq(again.status, 400, "used once")
        assert "không hợp lệ hoặc đã được dùng" in again.text


def test_thiduad_starts_the_gateway_on_its_web_socket():
    tmp = tempfile.mkdtemp(prefix="thidua-web-")
    port = free_port()
    try:
        cfg = config_with(tmp, append='\nworkers = ( { program = "thidua-web"; args = [ "--listen", "127.0.0.1:%d" ]; } );\n'
                          % port)
        with Daemon(config=cfg, start_at=START) as d:
            assert d.call("account.passwd", name="nguyen.thi.lan", password=PW_LAN)["ok"]
            wait_http(port)
            b = Browser(port)
            eq(b.login("nguyen.thi.lan", PW_LAN).status, 303, "through the supervised gateway")
            eq(b.get("/viec-can-lam").status, 200, "its pages")
            assert "supervisor: started" in d.read_log() and "thidua-web (pid" in d.read_log(), d.read_log()
            eq(d.stop(), 0, "the daemon stops, and the gateway with it")
        try:
            wait_http(port, timeout=0.5)
            raise AssertionError("the gateway outlived the daemon")
        except AssertionError as e:
            assert "not answering" in str(e), e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_the_gateways_unit_is_hardened():
    if not shutil.which("systemd-analyze"):
        raise unittest.SkipTest("systemd-analyze is not installed")
    tmp = tempfile.mkdtemp(prefix="thidua-unit-")
    try:
        text = open(os.path.join(ROOT, "systemd", "thidua-web.service"), encoding="utf-8").read()
        path = os.path.join(tmp, "thidua-web.service")
        with open(path, "w", encoding="utf-8") as fp:
            fp.write(text.replace("@SBINDIR@", "/usr/sbin"))
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", path],
                           capture_output=True, text=True)
        if "--offline" in p.stderr and p.returncode != 0:
            raise unittest.SkipTest(f"systemd-analyze security --offline is not supported here: {p.stderr.strip()}")
        m = re.search(r"Overall exposure level for thidua-web\.service: ([0-9.]+)", p.stdout)
        assert m, p.stdout[-2000:] + p.stderr
        assert float(m.group(1)) <= 2.0, f"exposure {m.group(1)}"
        # the database stays out of reach: only the socket is bound into an empty state directory
        for line in ("TemporaryFileSystem=/var/lib/thidua:ro", "BindPaths=/var/lib/thidua/web.sock", "DynamicUser=yes"):
            assert line in text, line
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_limit_only_the_daemon_knows_is_shown_next_to_the_field_too():
    # the report type takes files of at most 1000 bytes; the gateway's own limit is 25 MiB
    with Site(replace=(('{ code = "BC-NAM"; name = "Báo cáo kết quả thực hiện phong trào thi đua năm";',
                        '{ code = "BC-NAM"; name = "Báo cáo kết quả thực hiện phong trào thi đua năm"; max_file_bytes = 1000;'),)) as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        r = b.post_multipart(SUBMIT, {"csrf": b.csrf()}, [("tep", "bao-cao.pdf", b"x" * 1001)])
        eq(r.status, 400, r.text[:300])
        m = re.search(r'<ul class="field-error" id="loi-tep" role="alert">(.*?)</ul>', r.text)
        assert m and "Tệp quá lớn" in m.group(1) and "(file_too_large)" in m.group(1), r.text
        eq(obligation(s.d)["version"], 0, "refused by the daemon")
        r = b.post_multipart(SUBMIT, {"csrf": b.csrf()}, [("tep", "bao-cao.pdf", b"x" * 1000)])
        eq(r.status, 303, "at the limit")


def test_a_file_the_daemon_refuses_while_it_arrives_is_told_and_nothing_is_left():
    # the daemon takes at most 64 KiB a request: the gateway's own limit is 25 MiB, so the
    # refusal comes from the daemon, for the part that takes the upload past it
    with Site(replace=(('state_dir = "/var/lib/thidua";', 'state_dir = "/var/lib/thidua"; max_request_bytes = 65536;'),)) as s:
        b = s.browser("nguyen.thi.lan", PW_LAN)
        r = b.post_multipart(SUBMIT, {"csrf": b.csrf()}, [("tep", "bao-cao.pdf", os.urandom(100000))])
        eq(r.status, 400, r.text[r.text.find("<main"):][:1500])
        assert "Dữ liệu gửi lên quá lớn." in r.text and "max_request_bytes" in r.text, r.text
        eq(obligation(s.d)["version"], 0, "nothing stored")
        s.d.call("status")
        eq(os.listdir(os.path.join(s.d.dir, "uploads")), [], "the upload was cancelled")
        # a file within the bound goes through, in parts, on the same page
        data = os.urandom(60000)
        r = b.post_multipart(SUBMIT, {"csrf": b.csrf()}, [("tep", "bao-cao.pdf", data)])
        eq(r.status, 303, r.text[:300])
        eq(obligation(s.d)["version"], 1, "stored")
