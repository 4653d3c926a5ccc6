"""The web pages in a real browser: Debian's chromium, headless, driven by chromium-driver
through python3-selenium, against the real thidua-web in front of the real thiduad.

A clerk sets her password from an invitation link (account.invite through the daemon),
logs out and in again, uploads a file and reads her receipt; the office logs in, sees the
completeness chart drawn (a screenshot of the canvas: not blank) and returns the report
with a reason; the clerk sees the reason on her page.

Without chromium, chromedriver or selenium these tests skip, saying which is missing
(Debian: apt-get install chromium chromium-driver python3-selenium; .ci/run does)."""
import hashlib
import os
import shutil
import struct
import tempfile
import unittest
import zlib

from harness import Daemon, eq
from webclient import Gateway

START = "2024-11-10T09:00:00+07:00"
PW_LAN = "mật khẩu của Lan 2024"
DOC = "Báo cáo kết quả năm 2024 của xã An Phú\n".encode() * 40
SHOTS = os.environ.get("THIDUA_WEB_SHOTS")     # a folder: keep screenshots of the pages there


def chrome():
    """a headless chromium under selenium, or SkipTest naming what is missing"""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise unittest.SkipTest("python3-selenium is not installed (apt-get install python3-selenium)")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/lib/chromium/chromedriver"
                                              if os.access("/usr/lib/chromium/chromedriver", os.X_OK) else None)
    if not browser:
        raise unittest.SkipTest("chromium is not installed (apt-get install chromium)")
    if not driver:
        raise unittest.SkipTest("chromedriver is not installed (apt-get install chromium-driver)")
    profile = tempfile.mkdtemp(prefix="thidua-chromium-")
    o = webdriver.ChromeOptions()
    o.binary_location = browser
    for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-extensions", "--disable-background-networking", "--disable-sync",
              "--window-size=1100,1400", "--lang=vi", f"--user-data-dir={profile}"):
        o.add_argument(a)
    if os.geteuid() == 0:
        o.add_argument("--no-sandbox")       # chromium refuses to run as root inside its sandbox
    try:
        b = webdriver.Chrome(service=Service(driver), options=o)
    except Exception as e:
        shutil.rmtree(profile, ignore_errors=True)
        raise unittest.SkipTest(f"chromium does not start under chromedriver here: {str(e).splitlines()[0]}")
    b.set_page_load_timeout(20)
    b.implicitly_wait(0)
    b._thidua_profile = profile
    return b


def quit_browser(b):
    try:
        b.quit()
    finally:
        shutil.rmtree(b._thidua_profile, ignore_errors=True)


def png_pixels(data):
    """(width, height, rows of RGBA bytes) of a PNG as chromium writes it (8-bit RGB or
    RGBA, not interlaced), decoded with zlib alone"""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not interlace, (depth, ctype, interlace)
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def colours(png):
    """the distinct colours of a PNG, and how many pixels are not its most common colour"""
    w, h, bpp, rows = png_pixels(png)
    counts = {}
    for line in rows:
        for x in range(0, w * bpp, bpp):
            px = line[x:x + 3]
            counts[px] = counts.get(px, 0) + 1
    return counts, w * h - max(counts.values())


def url(gw):
    return f"http://127.0.0.1:{gw.port}"


def shot(b, name, height=None):
    """with THIDUA_WEB_SHOTS=DIR, the page as DIR/NAME.png, 1000 pixels wide, cut at height
    (docs/web-*.png are made so)"""
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        size = b.get_window_size()
        b.set_window_size(1000, height or size["height"])
        b.save_screenshot(os.path.join(SHOTS, name + ".png"))
        b.set_window_size(size["width"], size["height"])


def by(b, css):
    from selenium.webdriver.common.by import By
    return b.find_element(By.CSS_SELECTOR, css)


def all_by(b, css):
    from selenium.webdriver.common.by import By
    return b.find_elements(By.CSS_SELECTOR, css)


def wait_for(b, css, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(b, timeout).until(lambda x: all_by(x, css) and all_by(x, css)[0])


def text(b):
    return by(b, "body").text


def log_in(b, gw, name, password):
    b.get(url(gw) + "/dang-nhap")
    by(b, "#ten").send_keys(name)
    by(b, "#mat_khau").send_keys(password)
    by(b, "form[action='/dang-nhap'] button[type=submit]").click()
    wait_for(b, "form[action='/dang-xuat']")


def log_out(b):
    by(b, "form[action='/dang-xuat'] button").click()
    wait_for(b, "#ten")


def clerk_submits(b, gw, d, tmp):
    """the clerk's half: invitation, password, logout, login, upload, receipt; the receipt"""
    inv = d.call("account.invite", name="nguyen.thi.lan")
    assert inv["ok"], inv
    token = inv["link"].rsplit("/", 1)[1]
    b.get(f"{url(gw)}/moi/{token}")
    assert "Đặt mật khẩu" in text(b), text(b)
    by(b, "#mat_khau").send_keys(PW_LAN)
    by(b, "#nhap_lai").send_keys(PW_LAN)
    by(b, "form button[type=submit]").click()
    wait_for(b, "form[action='/dang-xuat']")
    assert "Nguyễn Thị Lan" in text(b), text(b)
    # the invitation is spent: the link says so instead of a form
    log_out(b)
    b.get(f"{url(gw)}/moi/{token}")
    by(b, "#mat_khau").send_keys(PW_LAN)
    by(b, "#nhap_lai").send_keys(PW_LAN)
    by(b, "form button[type=submit]").click()
    wait_for(b, ".flash.error")	# the answer to the POST, not the form before it
    assert not all_by(b, "form[action='/dang-xuat']"), "a spent invitation logged in again"

    log_in(b, gw, "nguyen.thi.lan", PW_LAN)
    b.get(url(gw) + "/viec-can-lam")
    assert "Việc cần làm" in text(b), text(b)
    links = [a for a in all_by(b, "a.button") if a.get_attribute("href").split("/nop/", 1)[-1].startswith("XA-ANPHU/")]
    assert links, "no report to submit on the clerk's page:\n" + text(b)
    links.sort(key=lambda a: "/BC-NAM/" not in a.get_attribute("href"))     # the yearly report first
    target = links[0].get_attribute("href").split("/nop/", 1)[1]
    shot(b, "viec-can-lam", 420)
    links[0].click()
    wait_for(b, "#tep")
    path = os.path.join(tmp, "bao-cao-an-phu.txt")
    with open(path, "wb") as fp:
        fp.write(DOC)
    by(b, "#tep").send_keys(path)
    by(b, "#ghi_chu").send_keys("Gửi báo cáo năm, xin xem.")
    by(b, "form[enctype='multipart/form-data'] button[type=submit]").click()
    number = wait_for(b, ".receipt .number").text
    page = text(b)
    assert number and number in page, page
    assert "bao-cao-an-phu.txt" in page, page
    assert hashlib.sha256(DOC).hexdigest() in page, "the file's SHA-256 on the receipt:\n" + page
    assert "Gửi báo cáo năm, xin xem." in page, page
    shot(b, "bien-nhan", 760)
    # the daemon holds what the browser sent, byte for byte
    rc = d.call("report.receipt", number=number)
    assert rc["ok"], rc
    files = (rc.get("receipt") or rc).get("files")
    eq([(f["name"], f["size"], f["sha256"]) for f in files],
       [("bao-cao-an-phu.txt", len(DOC), hashlib.sha256(DOC).hexdigest())], "the stored file")
    return number, target


def chart_drawn(b, canvas, timeout=10):
    """a screenshot of the canvas once Chart.js has drawn in it (its animation done):
    (distinct colours, pixels not of the background), or AssertionError"""
    import time
    deadline = time.monotonic() + timeout
    got = (0, 0)
    while time.monotonic() < deadline:
        counts, drawn = colours(canvas.screenshot_as_png)
        got = (len(counts), drawn)
        w, h = canvas.size["width"], canvas.size["height"]
        if got[0] >= 4 and got[1] >= w * h // 100:
            return got
        time.sleep(0.1)
    raise AssertionError(f"the chart stays blank: {got[0]} colours, {got[1]} pixels drawn")


def office_returns(b, gw, d, report, period, reason):
    """the office's half: logs in, sees the chart drawn, returns An Phú's report"""
    r = d.call("account.passwd", name="tran.van.binh", password="mật khẩu phòng GD 2024")
    assert r["ok"], r
    log_in(b, gw, "tran.van.binh", "mật khẩu phòng GD 2024")
    b.get(f"{url(gw)}/tong-hop?bc={report}&ky={period}")
    assert "Tổng hợp tình hình nộp báo cáo" in text(b), text(b)
    canvas = wait_for(b, "canvas[data-chart]")
    n, drawn = chart_drawn(b, canvas)
    shot(b, "tong-hop", 900)
    # the page reads without JavaScript too: the table beside the chart
    assert all_by(b, "table.counts"), "no table beside the chart"
    forms = [f for f in all_by(b, "form.review")
             if by(f, "input[name=don_vi]").get_attribute("value") == "XA-ANPHU"]
    assert forms, "no review form for XA-ANPHU:\n" + text(b)
    by(forms[0], "textarea[name=ly_do]").send_keys(reason)
    by(forms[0], "button[value=return]").click()
    wait_for(b, "h1")
    assert reason in text(b), "the office's page shows the reason given:\n" + text(b)
    log_out(b)
    return n, drawn


def test_a_clerk_submits_in_a_browser_the_office_returns_it_the_clerk_reads_why():
    b = chrome()
    tmp = tempfile.mkdtemp(prefix="thidua-browser-")
    reason = "Thiếu bảng số liệu phụ lục 2 và chữ ký của Chủ tịch UBND xã."
    try:
        with Daemon(start_at=START) as d, Gateway(d) as gw:
            number, target = clerk_submits(b, gw, d, tmp)
            log_out(b)
            unit, report, period = target.split("/")[:3]
            office_returns(b, gw, d, report, period, reason)
            # the clerk sees the reason on her page, and may send a new version
            log_in(b, gw, "nguyen.thi.lan", PW_LAN)
            b.get(url(gw) + "/viec-can-lam")
            page = text(b)
            assert "Lý do trả lại" in page and reason in page, page
            assert all_by(b, f"a.button[href$='/nop/{unit}/{report}/{period}']"), "no link to send it again"
            shot(b, "tra-lai", 480)
            eq(d.call("report.receipt", number=number)["ok"], True, "the receipt stands")
            assert gw.proc.poll() is None, gw.read_log()
    finally:
        quit_browser(b)
        shutil.rmtree(tmp, ignore_errors=True)
