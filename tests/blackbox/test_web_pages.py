"""thidua-web's pages for offices, deciders, everyone and the administrator (workers/web:
page_office.c, page_decide.c, page_proposal.c, page_calendar.c, page_admin.c), spoken to
over HTTP as a browser does, on a real thiduad's web socket (webclient.py's Gateway and
Browser). Completeness as chart data and a table, its CSV, the review forms; the decider's
batch; the clerk's proposals; the calendar month and the reminders; the administrator's
channels, dead letters and audit chain. With each: who may not, forms without their token,
and markup in a unit's name written as text."""
import csv
import html
import io
import json
import re

from harness import eq, write
from webclient import ADMIN, Browser, WebSite

START = "2024-11-10T09:00:00+07:00"
PW = {
    "tran.van.binh": "mật khẩu của Bình 2024",    # CUCHI-GDDT reviewer, approver: receives BC-NAM
    "nguyen.thi.lan": "mật khẩu của Lan 2024",    # XA-ANPHU submitter, approver
    "huynh.van.nam": "mật khẩu của Nam 2024",     # XA-PHUHOADONG: decides the hamlets' GDHT proposals
    "tran.thi.thu": "mật khẩu của Thu 2024",      # AP-PHD-PHULOI (a hamlet of Phú Hòa Đông) submitter
    "quan.tri": "mật khẩu quản trị 2024",          # admin of HCM, the top unit
}
# The office's page asks the daemon some ten questions; a test loads pages faster than a
# person does, so the per-principal limit (daemon.requests_per_second) is lifted here.
NO_RATE = ("daemon = {", "daemon = { requests_per_second = 0;")
SCORES = {"TC1": 30, "TC2": 25, "TC3": 20, "TC4": 15}


class Pages(WebSite):
    """a daemon with passwords for PW's principals (and ADMIN), and a gateway"""

    def __init__(self, start=START, replace=(), config=None, rate_limit=False):
        super().__init__(PW, start, config=config, prefix="thidua-pages-",
                         replace=(() if rate_limit else (NO_RATE,)) + tuple(replace))


def submit(d, unit, files=(("bao-cao.pdf", b"%PDF bao cao"),), report="BC-NAM"):
    r = d.call("report.submit", files=list(files), unit=unit, report=report, period="2024")
    assert r["ok"], r
    return r["receipt"]


def obligation(d, unit, report="BC-NAM"):
    r = d.call("obligations.list", unit=unit, report=report, period="2024")
    assert r["ok"] and r["count"] == 1, r
    return r["obligations"][0]


def chart_data(page):
    m = re.search(r'<canvas data-chart="([^"]*)"', page.text)
    assert m, page.text[:3000]
    return json.loads(html.unescape(m.group(1)))


def review_form(page, unit):
    """the review form of a unit's row on /tong-hop"""
    for m in re.finditer(r'<form method="post" action="/tong-hop/xet" class="review">(.*?)</form>', page.text, re.S):
        if f'name="don_vi" value="{unit}"' in m.group(1):
            return m.group(1)
    return None


def no_inline_script(page):
    assert "<script>" not in page.text and " style=" not in page.text and " onclick=" not in page.text
    assert page.header("Content-Security-Policy").startswith("default-src 'self'; script-src 'self'")


def test_the_office_sees_completeness_as_a_chart_and_a_table_with_the_missing_and_the_files():
    with Pages() as s:
        an = submit(s.d, "XA-ANPHU", [("báo cáo An Phú.pdf", b"AN PHU 2024"), ("phụ lục.xlsx", b"PK bang")])
        submit(s.d, "XA-PHUHOADONG")
        assert s.d.call("report.return", unit="XA-PHUHOADONG", report="BC-NAM", period="2024", reason="Thiếu phụ lục")["ok"]
        assert s.d.call("clock.set", to="2024-11-18T09:00:00+07:00")["ok"]
        submit(s.d, "XA-TRUNGAN")                         # late
        b = s.login("tran.van.binh")
        page = b.get("/tong-hop")
        eq(page.status, 200, page.text[:2000])
        no_inline_script(page)
        # the default: BC-NAM (the first report the office receives with a period open), 2024, under CUCHI
        assert '<option value="BC-NAM" selected>' in page.text and '<option value="2024" selected>' in page.text
        want = s.d.call("completeness", report="BC-NAM", period="2024")
        eq(want["under"], "CUCHI", "the daemon's default unit")
        # the chart's data: one bar per row, on time / late / missing-not-returned / returned
        c = chart_data(page)
        eq(c["labels"], [r["name"] for r in want["rows"]], "a bar per unit, in the daemon's order")
        eq([x["label"] for x in c["datasets"]], ["Đúng hạn", "Muộn", "Chưa nộp", "Bị trả lại"])
        eq(c["datasets"][0]["data"], [r["on_time"] for r in want["rows"]], "on time")
        eq(c["datasets"][1]["data"], [r["late"] for r in want["rows"]], "late")
        eq(c["datasets"][2]["data"], [r["missing"] - r["returned"] for r in want["rows"]], "missing")
        eq(c["datasets"][3]["data"], [r["returned"] for r in want["rows"]], "returned")
        i = want["rows"].index(next(r for r in want["rows"] if r["unit"] == "XA-TRUNGAN"))
        eq((c["datasets"][0]["data"][i], c["datasets"][1]["data"][i]), (0, 1), "Trung An was late")
        # the same figures in the table beside it (the page reads without JavaScript)
        t = want["total"]
        row = re.search(r'<tr class="total"><th scope="row" data-label="Đơn vị">Tổng cộng</th>(.*?)</tr>', page.text).group(1)
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        eq(cells[:6], [str(t[k]) for k in ("expected", "on_time", "late", "missing", "returned", "waived")], "totals")
        eq(cells[6], ("%.1f" % t["submitted_pct"]).replace(".", ",") + "%", "a decimal comma")
        assert '<th scope="row" data-label="Đơn vị">Ủy ban nhân dân xã Trung An</th>' in page.text
        # the units still missing, with their contacts and the next step reaching the office
        missing = page.text.split('id="con-thieu"')[1].split("</table>")[0]
        eq(missing.count("<tr class="), len(want["missing"]), "every missing unit")
        assert "Ủy ban nhân dân xã Phú Hòa Đông" in missing and "Bị trả lại" in missing, "returned is missing too"
        assert "mailto:tckh@cuchi.example.org" in missing, "contacts from units.show"
        assert re.search(r"Báo cấp trên lúc 07:30 \d\d/11/2024", missing), missing[:3000]
        assert "XA-ANPHU" not in missing
        # each submission's files, downloaded through the daemon by receipt and hash
        rows = page.text.split('id="xet"')[1]
        for f in an["files"]:
            assert f'/tep/{an["number"]}/{f["sha256"]}' in rows, rows[:3000]
        assert "báo cáo An Phú.pdf" in rows
        got = b.get(f'/tep/{an["number"]}/{an["files"][0]["sha256"]}')
        eq((got.status, got.body), (200, b"AN PHU 2024"), "the office downloads a commune's file")
        # the GET form chooses; a report the office does not receive is the daemon's to refuse
        same = b.get("/tong-hop?bc=BC-NAM&ky=2024&dv=CUCHI")
        eq(chart_data(same), c, "the same selection")
        other = b.get("/tong-hop?bc=BC-TONGHOP&ky=2024")
        eq(other.status, 403, other.text[:1000])


def test_the_office_page_shows_every_missing_units_contacts_and_every_receipts_files_in_few_calls():
    """the contacts of all the missing units come from one units.show (codes) and the files
    of all the receipts from one obligations.list (with_files): a page with more than 8 of each
    is whole, and it fits a daemon.requests_per_second of 14 (a page of some 10 calls; one
    call per unit or receipt would be refused past the 14th)"""
    rate = ("daemon = {", "daemon = { requests_per_second = 14;")
    with Pages(rate_limit=True, replace=(rate,)) as s:
        units = [u["code"] for u in s.d.call("units.list", under="CUCHI", level="commune")["units"]]
        assert len(units) >= 18, units
        sent = units[:9]
        receipts = {u: submit(s.d, u, [(f"báo cáo {u}.pdf", u.encode())]) for u in sent}
        want = s.d.call("completeness", report="BC-NAM", period="2024")
        assert len(want["missing"]) > 8, want["missing"]
        b = s.login("tran.van.binh")
        page = b.get("/tong-hop")
        eq(page.status, 200, page.text[:2000])
        missing = page.text.split('id="con-thieu"')[1].split("</table>")[0]
        eq(missing.count("<tr class="), len(want["missing"]), "every missing unit")
        assert 'href="/lich-nhac?dv=' not in missing, "no unit left as a link"
        for m in want["missing"]:
            unit = s.d.call("units.show", code=m["unit"])["unit"]
            row = missing.split(f'<span class="code">{m["unit"]}</span>')[1].split("</tr>")[0]
            for e in unit["emails"]:
                assert f'href="mailto:{e}"' in row, (m["unit"], row)
            if not unit["emails"] and not unit["chats"]:
                assert "Chưa khai báo" in row, (m["unit"], row)
            assert "Không xem được liên hệ" not in row, row
        rows = page.text.split('id="xet"')[1]
        eq(rows.count('<ul class="files">'), len(sent), "the files of every receipt")
        for u, r in receipts.items():
            assert f'href="/tep/{r["number"]}/{r["files"][0]["sha256"]}">báo cáo {u}.pdf</a>' in rows, u


def test_the_office_accepts_returns_and_waives_with_errors_next_to_the_field():
    with Pages() as s:
        submit(s.d, "XA-ANPHU")
        submit(s.d, "XA-PHUHOADONG")
        b = s.login("tran.van.binh")
        page = b.get("/tong-hop?bc=BC-NAM&ky=2024")
        form = review_form(page, "XA-ANPHU")
        assert form and 'value="accept"' in form and 'value="return"' in form and 'value="waive"' in form, form
        csrf = b.field(page, "csrf")
        base = {"csrf": csrf, "don_vi": "XA-ANPHU", "bc": "BC-NAM", "ky": "2024", "dv": "CUCHI"}
        # a return without a reason: refused by the gateway, said next to that row's field
        r = b.post("/tong-hop/xet", dict(base, hanh_dong="return", ly_do=""))
        eq(r.status, 400, r.text[:500])
        form = review_form(r, "XA-ANPHU")
        assert 'class="field has-error"' in form and "Hãy ghi lý do trả lại" in form, form
        assert "has-error" not in review_form(r, "XA-PHUHOADONG"), "only that row"
        eq(obligation(s.d, "XA-ANPHU")["state"], "submitted", "nothing done")
        # with one: returned, the reason stored, back to the page with a message
        r = b.post("/tong-hop/xet", dict(base, hanh_dong="return", ly_do="Thiếu bảng tổng hợp <tiêu chí>"))
        eq(r.status, 303, r.text[:500])
        assert r.header("Location").startswith("/tong-hop?bc=BC-NAM&ky=2024&dv=CUCHI&tb=da-tra-lai"), r.header("Location")
        o = obligation(s.d, "XA-ANPHU")
        eq((o["state"], o["reason"]), ("returned", "Thiếu bảng tổng hợp <tiêu chí>"), "returned")
        page = b.get(r.header("Location").split("#")[0])     # a browser keeps the fragment to itself
        assert "Đã trả lại báo cáo" in page.text and "Thiếu bảng tổng hợp &lt;tiêu chí&gt;" in page.text
        # what the daemon refuses comes back next to the row too: an open report cannot be accepted
        r = b.post("/tong-hop/xet", dict(base, don_vi="XA-TRUNGAN", hanh_dong="accept"))
        eq(r.status, 400, r.text[:500])
        form = review_form(r, "XA-TRUNGAN")
        assert "Tình trạng báo cáo hiện tại không cho phép" in form and "bad_state" not in form, form
        # accept, waive
        r = b.post("/tong-hop/xet", dict(base, don_vi="XA-PHUHOADONG", hanh_dong="accept"))
        eq(r.status, 303, r.text[:500])
        eq(obligation(s.d, "XA-PHUHOADONG")["state"], "accepted", "accepted")
        r = b.post("/tong-hop/xet", dict(base, don_vi="XA-TRUNGAN", hanh_dong="waive", ly_do="Đơn vị sáp nhập"))
        eq(r.status, 303, r.text[:500])
        eq(obligation(s.d, "XA-TRUNGAN")["state"], "waived", "waived")
        # a form without its token never reaches the daemon
        r = b.post("/tong-hop/xet", dict(base, csrf="0" * len(csrf), don_vi="XA-BINHMY", hanh_dong="waive", ly_do="x"))
        eq(r.status, 403, r.text[:300])
        eq(obligation(s.d, "XA-BINHMY")["state"], "open", "CSRF refused")


def test_the_completeness_csv_opens_in_excel_with_formulas_neutralised():
    name = "=HYPERLINK(\\\"http://x\\\",\\\"Xã\\\")"
    with Pages(replace=(('name = "Ủy ban nhân dân xã An Phú";', f'name = "{name}";'),)) as s:
        submit(s.d, "XA-ANPHU")
        b = s.login("tran.van.binh")
        page = b.get("/tong-hop")
        link = re.search(r'href="(/tong-hop\.csv\?[^"]*)"', page.text).group(1)
        r = b.get(html.unescape(link))
        eq(r.status, 200, r.text[:500])
        eq(r.header("Content-Type"), "text/csv; charset=utf-8", "CSV")
        assert r.header("Content-Disposition").startswith("attachment"), r.header("Content-Disposition")
        assert r.body.startswith(b"\xef\xbb\xbf"), "a BOM: Excel reads UTF-8"
        rows = list(csv.reader(io.StringIO(r.body[3:].decode("utf-8")), delimiter=";"))
        eq(rows[0][:3], ["Mã đơn vị", "Đơn vị", "Phải nộp"], "the header, in Vietnamese")
        want = s.d.call("completeness", report="BC-NAM", period="2024")
        eq(len(rows), len(want["rows"]) + 2, "a row per unit, and the total")
        an = next(x for x in rows if x[0] == "XA-ANPHU")
        eq(an[1], "'" + '=HYPERLINK("http://x","Xã")', "the formula is text")
        eq(an[2:4], ["1", "1"], "expected, on time")
        eq(an[9], "100,0", "a decimal comma")
        eq(rows[-1][1], "Tổng cộng", "the total")
        eq(rows[-1][2], str(want["total"]["expected"]), "its figures")


def test_a_clerk_sees_no_completeness_of_another_commune_nor_reviews():
    with Pages() as s:
        submit(s.d, "XA-PHUHOADONG")
        lan = s.login("nguyen.thi.lan")
        assert 'href="/tong-hop"' not in lan.get("/viec-can-lam").text, "not in a clerk's bar"
        for path in ("/tong-hop?bc=BC-NAM&ky=2024&dv=XA-PHUHOADONG", "/tong-hop?bc=BC-NAM&ky=2024",
                     "/tong-hop.csv?bc=BC-NAM&ky=2024&dv=XA-PHUHOADONG"):
            r = lan.get(path)
            eq(r.status, 403, f"{path}: {r.text[:500]}")
            assert "Ủy ban nhân dân xã Phú Hòa Đông" not in r.text and "không có quyền" in r.text, r.text
        r = lan.post("/tong-hop/xet", {"csrf": lan.csrf("/viec-can-lam"), "don_vi": "XA-PHUHOADONG", "bc": "BC-NAM",
                                       "ky": "2024", "dv": "", "hanh_dong": "return", "ly_do": "Không phải của tôi"})
        eq(r.status, 403, r.text[:500])
        eq(obligation(s.d, "XA-PHUHOADONG")["state"], "submitted", "the daemon refused")


def proposals(d, names, unit="AP-PHD-PHULOI"):
    ids = []
    for name in names:
        r = d.call("proposal.create", files=[("to-trinh.pdf", b"TO TRINH " + name.encode())], programme="GDHT",
                   year=2024, unit=unit, nominee_name=name, scores=SCORES, submit=True, **{"as": "tran.thi.thu"})
        assert r["ok"], r
        ids.append(r["proposal"]["id"])
    return ids


def results(page):
    """the report of a decision: {proposal number: text}"""
    sec = page.text.split('<section class="results"')[1].split("</section>")[0]
    return {int(n): re.sub(r"<[^>]+>", "", t) for n, t in
            re.findall(r'<td data-label="Hồ sơ">Số (\d+)[^<]*</td><td data-label="Kết quả">(.*?)</td></tr>', sec)}


def test_the_decider_sees_the_dossiers_and_decides_a_batch():
    with Pages() as s:
        a, b_, c = proposals(s.d, ["Gia đình ông Nguyễn Văn An", "Gia đình bà Lê Thị Bích", "Gia đình ông Trần Văn Cường"])
        nam = s.login("huynh.van.nam")
        page = nam.get("/xet-duyet")
        eq(page.status, 200, page.text[:1000])
        no_inline_script(page)
        for i in (a, b_, c):
            assert f'<input type="checkbox" name="ho_so" id="hs-{i}" value="{i}">' in page.text
            assert f'<label for="hs-{i}">' in page.text, "labels tied to the boxes"
        assert "to-trinh.pdf" in page.text and "Tổng: <strong>90</strong> / 100" in page.text, "files and scores"
        # each dossier file is a link, downloaded through the daemon (proposal.file)
        f = s.d.call("proposal.show", proposal=a)["proposal"]["files"][0]
        link = f'/tep-de-nghi/{a}/{f["sha256"]}'
        assert f'<a href="{link}">to-trinh.pdf</a>' in page.text, page.text[:3000]
        got = nam.get(link)
        eq((got.status, got.body), (200, "TO TRINH Gia đình ông Nguyễn Văn An".encode()), "the decider downloads it")
        assert "to-trinh.pdf" in got.header("Content-Disposition"), got.header("Content-Disposition")
        lan = s.login("nguyen.thi.lan")
        eq(lan.get(link).status, 403, "another commune's clerk does not")
        eq(nam.get(f"/tep-de-nghi/{a}/{'0' * 64}").status, 404, "no such file")
        assert "Gửi xét duyệt" in page.text and "tran.thi.thu" in page.text, "the history"
        # the filter form: by programme, by year
        clan = s.d.call("proposal.create", programme="DHHT", year=2024, unit="AP-PHD-PHULOI", nominee_name="Dòng họ Nguyễn",
                        scores={"TC1": 30, "TC2": 40, "TC3": 30}, submit=True, **{"as": "tran.thi.thu"})
        assert clan["ok"], clan
        k = clan["proposal"]["id"]
        assert 'for="ct"' in page.text and 'for="nam"' in page.text, "labelled filters"
        only = nam.get("/xet-duyet?ct=DHHT")
        assert f'id="hs-{k}"' in only.text and f'id="hs-{a}"' not in only.text, "one programme"
        assert f'id="hs-{k}"' in nam.get("/xet-duyet?ct=&nam=").text, "empty filters: all"
        assert "Không có hồ sơ nào" in nam.get("/xet-duyet?nam=2023").text, "another year"
        eq(nam.get("/xet-duyet?nam=hai-nghin").status, 400, "not a year")
        csrf = nam.field(page, "csrf")
        # what a person forgot is said next to its field, and nothing is decided
        r = nam.post("/xet-duyet", {"csrf": csrf, "hanh_dong": "approve", "so_qd": "15/QĐ-UBND"})
        eq(r.status, 400, r.text[:300])
        assert 'id="loi-chon" role="alert">Hãy chọn ít nhất một hồ sơ' in r.text
        r = nam.post("/xet-duyet", [("csrf", csrf), ("ho_so", a), ("hanh_dong", "reject"), ("ly_do", "")])
        eq(r.status, 400, r.text[:300])
        assert 'id="loi-ly-do" role="alert">Hãy ghi lý do từ chối' in r.text and f'id="hs-{a}" value="{a}" checked' in r.text
        r = nam.post("/xet-duyet", [("csrf", csrf), ("ho_so", a), ("hanh_dong", "approve")])
        eq(r.status, 400, r.text[:300])
        assert 'id="loi-so-qd" role="alert">Phê duyệt ở cấp cuối cần số quyết định' in r.text
        eq(s.d.call("proposal.show", proposal=a)["proposal"]["state"], "submitted", "nothing decided")
        # two approved at once, with the decision number; a report per proposal
        r = nam.post("/xet-duyet", [("csrf", csrf), ("ho_so", a), ("ho_so", b_), ("hanh_dong", "approve"),
                                    ("so_qd", "15/QĐ-UBND")])
        eq(r.status, 200, r.text[:1000])
        got = results(r)
        eq(sorted(got), [a, b_], "one line each")
        assert all("Đã phê duyệt" in t and "Đã công nhận" in t for t in got.values()), got
        for i in (a, b_):
            p = s.d.call("proposal.show", proposal=i)["proposal"]
            eq((p["state"], p["decision_no"]), ("granted", "15/QĐ-UBND"), f"proposal {i}")
        assert f'id="hs-{a}"' not in r.text and f'id="hs-{c}"' in r.text, "the list is what still waits"
        # a return with its reason; then one already decided: the daemon's refusal in the report
        r = nam.post("/xet-duyet", [("csrf", csrf), ("ho_so", c), ("ho_so", a), ("hanh_dong", "return"),
                                    ("ly_do", "Bổ sung biên bản họp ấp")])
        eq(r.status, 400, r.text[:1000])
        got = results(r)
        assert "Đã trả lại" in got[c] and "Bị trả lại" in got[c], got
        assert "Không thực hiện được" in got[a], got
        eq(s.d.call("proposal.show", proposal=c)["proposal"]["reason"], "Bổ sung biên bản họp ấp", "the reason")
        # without the token: refused before anything
        r = nam.post("/xet-duyet", [("csrf", "x" * len(csrf)), ("ho_so", c), ("hanh_dong", "reject"), ("ly_do", "x")])
        eq(r.status, 403, r.text[:300])
        eq(s.d.call("proposal.show", proposal=c)["proposal"]["state"], "returned", "CSRF refused")


def test_every_waiting_proposal_shows_its_dossier_a_page_of_50_at_a_time_within_the_rate_limit():
    """/xet-duyet takes the dossiers from one proposals.list with with_dossier, not one
    proposal.show per proposal: all 55 waiting show files, scores and history (50 on the
    first page, 5 on the next), under the daemon's per-principal limit of requests."""
    with Pages(rate_limit=True) as s:
        own = proposals(s.d, ["Gia đình ông Nguyễn Văn An", "Gia đình bà Lê Thị Bích"])
        rows = "".join(f"HGD-{k:05d},Hộ ông Phạm Văn {k},AP-PHD-PHULOI,28,27,18,15\n" for k in range(1, 54))
        r = s.d.call("proposals.import", files=[("gdht.csv", ("code,name,hamlet,TC1,TC2,TC3,TC4\n" + rows).encode())],
                     programme="GDHT", year=2024, unit="XA-PHUHOADONG", filename="gdht.csv", **{"as": "huynh.van.nam"})
        assert r["ok"], r
        waiting = [p["id"] for p in s.d.call("proposals.list", stage="XA-PHUHOADONG")["proposals"]]
        eq(len(waiting), 55, "55 waiting at the commune")
        nam = s.login("huynh.van.nam")
        for _ in range(3):      # several loads in a second stay within the limit
            page = nam.get("/xet-duyet")
            eq(page.status, 200, page.text[:1000])
        articles = re.findall(r'<article class="proposal">(.*?)</article>', page.text, re.S)
        eq(len(articles), 50, "a page of 50")
        for i, art in zip(waiting, articles):
            assert f'id="hs-{i}"' in art, (i, art[:500])
            assert '<details class="more"><summary>Hồ sơ, điểm và lịch sử</summary>' in art, f"#{i}: {art[:1500]}"
            assert '<ol class="history"><li>' in art and "Tổng: <strong>" in art, f"#{i}: {art[:1500]}"
        assert "Xem hồ sơ, điểm và lịch sử" not in page.text, "no proposal without its dossier"
        f = s.d.call("proposal.show", proposal=own[1])["proposal"]["files"][0]
        assert f'<a href="/tep-de-nghi/{own[1]}/{f["sha256"]}">to-trinh.pdf</a>' in articles[1], "the files"
        assert "Hộ ông Phạm Văn 53" in page.text or "Hộ ông Phạm Văn 48" in page.text, "imported ones too"
        nxt = re.search(r'<a href="(/xet-duyet\?ct=&amp;nam=&amp;sau=(\d+))" rel="next">', page.text)
        assert nxt, page.text[-2000:]
        eq(int(nxt.group(2)), waiting[49], "the next page starts after the last one shown")
        rest = nam.get(html.unescape(nxt.group(1)))
        eq(rest.status, 200, rest.text[:1000])
        articles = re.findall(r'<article class="proposal">(.*?)</article>', rest.text, re.S)
        eq(len(articles), 5, "the other 5")
        for i, art in zip(waiting[50:], articles):
            assert f'id="hs-{i}"' in art and '<ol class="history"><li>' in art, f"#{i}: {art[:1500]}"
        assert 'rel="next"' not in rest.text and 'rel="first"' in rest.text, "the last page links to the first"
        # the filter goes with the page; a page address that is not a number is refused
        only = nam.get(f"/xet-duyet?ct=GDHT&nam=2024&sau={waiting[49]}")
        eq(len(re.findall(r'<article class="proposal">', only.text)), 5, "filtered, next page")
        eq(nam.get("/xet-duyet?sau=abc").status, 400, "not a number")
        # deciding from the second page works as from the first
        csrf = nam.field(rest, "csrf")
        r = nam.post("/xet-duyet", [("csrf", csrf), ("ho_so", waiting[54]), ("hanh_dong", "return"),
                                    ("ly_do", "Bổ sung biên bản họp ấp")])
        eq(r.status, 200, r.text[:1000])
        eq(s.d.call("proposal.show", proposal=waiting[54])["proposal"]["state"], "returned", "decided")


def test_a_clerk_cannot_decide():
    with Pages() as s:
        (a,) = proposals(s.d, ["Gia đình ông Nguyễn Văn An"])
        thu = s.login("tran.thi.thu")
        page = thu.get("/de-nghi")
        assert 'href="/xet-duyet"' not in page.text, "not in a clerk's bar"
        r = thu.get("/xet-duyet")
        assert f'id="hs-{a}"' not in r.text, "nothing waits for a hamlet's clerk"
        r = thu.post("/xet-duyet", [("csrf", thu.field(page, "csrf")), ("ho_so", a), ("hanh_dong", "approve"),
                                    ("so_qd", "1/QĐ")])
        eq(r.status, 403, r.text[:1000])
        assert "Không thực hiện được" in results(r)[a] and "không có quyền" in results(r)[a], results(r)
        eq(s.d.call("proposal.show", proposal=a)["proposal"]["state"], "submitted", "not decided")
        # nor can a commune's clerk of another commune (lan is an approver of An Phú, not of Phú Hòa Đông)
        lan = s.login("nguyen.thi.lan")
        r = lan.post("/xet-duyet", [("csrf", lan.csrf("/viec-can-lam")), ("ho_so", a), ("hanh_dong", "reject"),
                                    ("ly_do", "không")])
        eq(r.status, 403, r.text[:1000])
        eq(s.d.call("proposal.show", proposal=a)["proposal"]["state"], "submitted", "not decided")


def test_the_clerk_creates_a_proposal_follows_it_and_resubmits_it_when_returned():
    with Pages() as s:
        thu = s.login("tran.thi.thu")
        page = thu.get("/de-nghi")
        eq(page.status, 200, page.text[:500])
        assert 'enctype="multipart/form-data"' in page.text
        for f in ("chuong_trinh", "nam", "doi_tuong", "diem", "tep", "ghi_chu"):
            assert f'<label for="{f}">' in page.text and f'id="{f}"' in page.text, f
        csrf = thu.field(page, "csrf")
        fields = {"csrf": csrf, "chuong_trinh": "GDHT", "nam": "2024", "doi_tuong": "Gia đình ông Võ Văn Dũng",
                  "diem": "TC1 = 30\nTC2 = 25\nTC3 = 20\nTC4 = 15", "gui": "1"}
        # a scores line that is not one, a bad file name: next to their fields, nothing created
        r = thu.post_multipart("/de-nghi", dict(fields, diem="TC1 30"), [("tep", "to-trinh.pdf", b"x")])
        eq(r.status, 400, r.text[:500])
        assert 'id="loi-diem" role="alert">Mỗi dòng một tiêu chí' in r.text and "TC1 30</textarea>" in r.text
        r = thu.post_multipart("/de-nghi", fields, [("tep", "\u202egpj.exe", b"x")])
        eq(r.status, 400, r.text[:500])
        assert 'id="loi-tep" role="alert">tên tệp chứa ký tự điều khiển' in r.text
        # the daemon's refusal too: a programme that does not exist
        r = thu.post_multipart("/de-nghi", dict(fields, chuong_trinh="KHONG-CO"), [("tep", "to-trinh.pdf", b"x")])
        eq(r.status, 400, r.text[:500])
        assert 'id="loi-ct" role="alert">Không có danh hiệu' in r.text, r.text
        eq(s.d.call("proposals.list")["count"], 0, "nothing created")
        # created and submitted at once, with its dossier
        r = thu.post_multipart("/de-nghi", fields, [("tep", "tờ trình.pdf", b"TO TRINH"), ("tep", "tự đánh giá.docx", b"DOCX")])
        eq(r.status, 303, r.text[:1000])
        loc = r.header("Location")
        assert re.match(r"^/de-nghi/\d+\?tb=da-nop-de-nghi$", loc), loc
        pid = int(loc.split("/")[2].split("?")[0])
        p = s.d.call("proposal.show", proposal=pid)["proposal"]
        eq((p["state"], p["nominee_name"], [f["name"] for f in p["files"]]),
           ("submitted", "Gia đình ông Võ Văn Dũng", ["tờ trình.pdf", "tự đánh giá.docx"]), "stored")
        eq(p["self_assessment"]["total"], 90, "the scores")
        one = thu.get(loc)
        assert "Đã gửi hồ sơ đề nghị" in one.text and "Ủy ban nhân dân xã Phú Hòa Đông" in one.text, "where it waits"
        assert "tờ trình.pdf" in one.text and "Chờ xét duyệt" in one.text
        for f in p["files"]:
            link = f'/tep-de-nghi/{pid}/{f["sha256"]}'
            assert f'<a href="{link}">{f["name"]}</a>' in one.text, one.text[:3000]
        eq(thu.get(f'/tep-de-nghi/{pid}/{p["files"][1]["sha256"]}').body, b"DOCX", "the clerk downloads its dossier")
        assert 'action="/de-nghi/%d"' % pid not in one.text, "no resubmission form while it waits"
        assert f'href="/de-nghi/{pid}"' in thu.get("/de-nghi").text, "in the unit's list"
        # returned by the decider: the reason, then corrected and sent again
        assert s.d.call("proposal.decide", proposal=pid, action="return", reason="Thiếu biên bản họp",
                        **{"as": "huynh.van.nam"})["ok"]
        one = thu.get(f"/de-nghi/{pid}")
        assert "Thiếu biên bản họp" in one.text and "Sửa và gửi lại" in one.text, one.text
        r = thu.post_multipart(f"/de-nghi/{pid}", {"csrf": csrf, "diem": "TC4 = 18", "ghi_chu": "Đã bổ sung"},
                               [("tep", "biên bản.pdf", b"BIEN BAN")])
        eq(r.status, 303, r.text[:1000])
        p = s.d.call("proposal.show", proposal=pid)["proposal"]
        eq((p["state"], p["version"], p["self_assessment"]["scores"]["TC4"]), ("submitted", 2, 18), "resubmitted")
        assert "biên bản.pdf" in [f["name"] for f in p["files"]]
        # without the token nothing happens
        assert s.d.call("proposal.decide", proposal=pid, action="return", reason="Lần nữa", **{"as": "huynh.van.nam"})["ok"]
        r = thu.post_multipart(f"/de-nghi/{pid}", {"csrf": "y" * len(csrf)}, [])
        eq(r.status, 403, r.text[:300])
        eq(s.d.call("proposal.show", proposal=pid)["proposal"]["state"], "returned", "CSRF refused")
        r = thu.post_multipart("/de-nghi", dict(fields, csrf=""), [("tep", "a.pdf", b"a")])
        eq(r.status, 403, r.text[:300])
        # another unit's proposal is not shown to a clerk who does not read it
        lan = s.login("nguyen.thi.lan")
        eq(lan.get(f"/de-nghi/{pid}").status, 403, "Phú Lợi's proposal to An Phú's clerk")


def test_the_calendar_month_with_days_off_and_deadlines():
    with Pages() as s:
        b = s.login("nguyen.thi.lan")
        page = b.get("/lich")
        eq(page.status, 200, page.text[:500])
        assert "Lịch tháng 11/2024" in page.text, "the daemon's month by default"
        assert 'href="/lich?thang=2024-10"' in page.text and 'href="/lich?thang=2024-12"' in page.text
        assert "Hạn: BC-NAM 2024" in page.text.split('data-label="Thứ Sáu 15"')[1].split("</td>")[0], "BC-NAM is due on the 15th"
        assert "Báo cáo kết quả thực hiện phong trào thi đua năm" in page.text.split("Hạn nộp báo cáo trong tháng")[1]
        # moved deadlines say why (30/11/2024 is a Saturday: BC-TONGHOP moves to Monday 2 December)
        dec = b.get("/lich?thang=2024-12")
        assert "Hạn: BC-TONGHOP 2024" in dec.text.split('data-label="Thứ Hai 02"')[1].split("</td>")[0]
        assert "Điều 148" in dec.text
        sep = b.get("/lich?thang=2024-09")
        cal = s.d.call("calendar.show", month="2024-09")
        off = [d for d in cal["days"] if d["why"] == "holiday"]
        assert off, cal
        for d in off:
            cell = re.search(r'<td class="off[^"]*" data-label="[^"]* %s">(.*?)</td>' % d["date"][8:], sep.text)
            assert cell and d["name"] in html.unescape(cell.group(1)), (d, sep.text[:3000])
        # an unconfirmed day is marked as such
        months = {}
        for y in (2025, 2026):
            for m in range(1, 13):
                c = s.d.call("calendar.show", month=f"{y}-{m:02d}")
                for d in c["days"]:
                    if d["confirmed"] is False:
                        months.setdefault(f"{y}-{m:02d}", d)
        assert months, "the sample calendar has an unconfirmed day"
        month, d = next(iter(months.items()))
        page = b.get(f"/lich?thang={month}")
        cell = re.search(r'<td class="[^"]*unconfirmed" data-label="[^"]* %s">(.*?)</td>' % d["date"][8:], page.text)
        assert cell and "chưa công bố chính thức" in cell.group(1), (d, page.text[:3000])
        r = b.get("/lich?thang=2024-13")
        eq(r.status, 400, "not a month")


def test_the_reminders_of_the_unit():
    with Pages() as s:
        b = s.login("nguyen.thi.lan")
        page = b.get("/lich-nhac")
        eq(page.status, 200, page.text[:500])
        want = s.d.call("schedule", unit="XA-ANPHU")
        assert want["about"], want
        first = want["about"][0]
        m = first["moment"]
        assert f"{m[11:16]} {m[8:10]}/{m[5:7]}/{m[0:4]}" in page.text and first["step"] in page.text, page.text
        assert "mailto:ubnd.anphu@cuchi.example.org" in page.text, "the unit's contacts"
        # another commune's schedule is not lan's to read: its contacts are, the schedule is refused
        other = b.get("/lich-nhac?dv=XA-PHUHOADONG")
        eq(other.status, 200, other.text[:300])
        assert "Không xem được lịch nhắc của đơn vị này" in other.text
        assert "r3wd" not in other.text


AUDITOR = '  { name = "kiem.toan"; display_name = "Kiểm Toán Viên"; unit = "HCM"; roles = [ "auditor" ]; },\n'
PW_AUDITOR = "mật khẩu kiểm toán 2024"


def admin_config(http, smtp):
    def make(tmp):
        from test_channels import fake_config
        path = fake_config(tmp, http, smtp, {"XA-ANPHU": "json-ok", "XA-TRUNGAN": "flaky"})
        text = open(path, encoding="utf-8").read()
        i = text.index("principals = (") + len("principals = (\n")
        write(path, (text[:i] + ADMIN + AUDITOR + text[i:]).replace(*NO_RATE))
        return path
    return make


def test_the_administrator_sees_workers_channels_dead_letters_and_the_audit_chain():
    from test_channels import FakeWorker, channel
    from test_delivery import Receiver, Smtp, wait_for
    http, smtp = Receiver(), Smtp()
    try:
        with Pages(start="2024-10-31T12:00:00+07:00", config=admin_config(http, smtp)) as s:
            mail = FakeWorker(s.d, "mail", capacity=64, name="fake-mail")
            hook = FakeWorker(s.d, "webhook", capacity=8, name="fake-hook")
            assert s.d.call("clock.set", to="2024-11-01T07:30:00+07:00")["ok"]
            j = mail.job()
            assert j, "a mail job"
            while j:                                   # every mail sent: a message fails on its webhook alone
                mail.result(j, "sent", code=250)
                j = mail.job(timeout=1)
            jobs = [hook.job(), hook.job()]
            assert all(jobs), jobs
            by = {x["payload"]["channel"]["name"]: x for x in jobs}
            hook.result(by["flaky"], "failed", code=500, reason="HTTP 500 <b>lỗi</b>")
            hook.result(by["json-ok"], "failed", code=410, reason="HTTP 410", disable=True)
            wait_for("disabled", lambda: channel(s.d, "json-ok")["state"] == "disabled")
            dead = wait_for("a dead letter", lambda: s.d.call("notifications.list", state="failed")["notifications"])
            admin = s.login("quan.tri")
            page = admin.get("/quan-tri")
            eq(page.status, 200, page.text[:1000])
            no_inline_script(page)
            assert "fake-hook" in page.text and "fake-mail" in page.text, "the workers"
            assert "Đang tắt" in page.text and "Bật lại kênh json-ok" in page.text, "the disabled channel"
            assert "Bật lại kênh flaky" not in page.text, "an enabled channel has no button"
            assert f"Gửi lại thông báo {dead[0]['id']}" in page.text and "HTTP 500 &lt;b&gt;lỗi&lt;/b&gt;" in page.text
            assert "Chuỗi nhật ký toàn vẹn" in page.text, "audit.verify"
            # an auditor reads it and changes nothing: no buttons, its forms refused
            assert s.d.call("account.passwd", name="kiem.toan", password=PW_AUDITOR)["ok"]
            aud = Browser(s.g.port)
            eq(aud.login("kiem.toan", PW_AUDITOR).status, 303, "the auditor")
            apage = aud.get("/quan-tri")
            eq(apage.status, 200, apage.text[:500])
            assert "Chuỗi nhật ký toàn vẹn" in apage.text and "HTTP 500 &lt;b&gt;lỗi&lt;/b&gt;" in apage.text, apage.text
            assert "Gửi lại thông báo" not in apage.text and "Bật lại kênh" not in apage.text, "no buttons"
            eq(aud.post("/quan-tri/gui-lai", {"csrf": aud.field(apage, "csrf"), "thong_bao": dead[0]["id"]}).status, 403,
               "the auditor retries nothing")
            csrf = admin.field(page, "csrf")
            # CSRF first: nothing changes
            eq(admin.post("/quan-tri/kenh", {"csrf": "z" * len(csrf), "kenh": "json-ok"}).status, 403, "no token")
            eq(admin.post("/quan-tri/gui-lai", {"kenh": "json-ok", "thong_bao": dead[0]["id"]}).status, 403, "no token")
            eq(channel(s.d, "json-ok")["state"], "disabled", "still")
            r = admin.post("/quan-tri/kenh", {"csrf": csrf, "kenh": "json-ok"})
            eq((r.status, r.header("Location")), (303, "/quan-tri?tb=da-bat-kenh#kenh"), r.text[:500])
            eq(channel(s.d, "json-ok")["state"], "enabled", "enabled")
            r = admin.post("/quan-tri/gui-lai", {"csrf": csrf, "thong_bao": dead[0]["id"]})
            eq(r.status, 303, r.text[:500])
            eq(s.d.call("notifications.show", notification=dead[0]["id"])["notification"]["state"], "queued", "retried")
            r = admin.post("/quan-tri/gui-lai", {"csrf": csrf, "thong_bao": dead[0]["id"]})
            eq(r.status, 409, "not failed any more")
            assert "không ở trạng thái gửi lỗi" in r.text
            # a clerk, an office: no /quan-tri, and its forms refused
            for name in ("nguyen.thi.lan", "tran.van.binh"):
                b = s.login(name)
                assert 'href="/quan-tri"' not in b.get("/lich").text, name
                eq(b.get("/quan-tri").status, 403, name)
                eq(b.post("/quan-tri/kenh", {"csrf": b.csrf("/lich"), "kenh": "flaky"}).status, 403, name)
            mail.close()
            hook.close()
    finally:
        http.close()
        smtp.close()


def test_a_unit_name_full_of_markup_is_text_on_every_page():
    evil = "<script>alert('x')</script> & \"Xã\" <img src=x onerror=alert(1)>"
    esc = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Xã&quot; &lt;img src=x onerror=alert(1)&gt;"
    cfg = evil.replace('"', '\\"')
    with Pages(replace=(('name = "Ủy ban nhân dân xã An Phú";', f'name = "{cfg}";'),
                        ('name = "Ủy ban nhân dân xã Phú Hòa Đông";', f'name = "{cfg} PHD";'),
                        ('name = "Ấp Phú Lợi";', f'name = "{cfg} ấp";'))) as s:
        submit(s.d, "XA-ANPHU")
        proposals(s.d, [evil + " gia đình"])
        pages = [(s.login("tran.van.binh"), ["/tong-hop", "/tong-hop?bc=BC-NAM&ky=2024&dv=CUCHI"]),
                 (s.login("huynh.van.nam"), ["/xet-duyet", "/de-nghi/1", "/lich-nhac"]),
                 (s.login("tran.thi.thu"), ["/de-nghi"]),
                 (s.login("nguyen.thi.lan"), ["/lich-nhac", "/lich"])]
        for b, paths in pages:
            for path in paths:
                page = b.get(path)
                eq(page.status, 200, f"{path}: {page.text[:300]}")
                if path != "/lich":
                    assert esc in page.text, (path, page.text[:4000])
                assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
        # the chart's data, decoded by the browser, is the name as text
        c = chart_data(pages[0][0].get("/tong-hop"))
        assert evil in c["labels"], c["labels"]
