"""Issue 18: the district summary (BC-TONGHOP) as a Word document, drafted by thiduactl
summary from the daemon's data, read back with python-docx and checked against the
completeness and titles.list replies, the layout of Nghị định 30/2020/NĐ-CP (motto, fonts,
A4 and its margins), and rendered by LibreOffice where it is installed."""
import os
import re
import shutil
import subprocess
import tempfile
import zipfile

from harness import ROOT, Daemon, eq, ok

ALL_MET = {f"TC{i}": True for i in range(1, 6)}
SIGNER = "Nguyễn Văn <An> & \"Bình\""
MM = 36000  # EMU per millimetre


def a_2024_cycle(d):
    """A commune learning community (March), a certificate of merit (October), five annual
    reports: three on time, two late."""
    p = ok(d.call("proposal.create", programme="CDHT-XA", year=2024, unit="XA-ANPHU", scores=ALL_MET, submit=True))
    ok(d.call("proposal.decide", proposal=p["proposal"]["id"], action="approve", decision_no="15/QĐ-GDĐT"))
    d.ctl("clock", "set", "2024-10-07T09:00:00+07:00")
    for name in ("Ấp Xóm Chùa", "Ấp Bàu Tròn"):
        p = ok(d.call("proposal.create", programme="GK-TT", year=2024, unit="XA-BINHMY", nominee_name=name, submit=True))
        ok(d.call("proposal.decide", proposal=p["proposal"]["id"], action="approve", reason="Hội đồng TĐKT đề nghị"))
        ok(d.call("proposal.decide", proposal=p["proposal"]["id"], action="approve", decision_no="88/QĐ-UBND"))
    d.ctl("clock", "set", "2024-11-10T09:00:00+07:00")
    for u in ("XA-ANPHU", "XA-BINHMY", "CUCHI-HKH"):
        ok(d.call("report.submit", files=[("bc.pdf", b"x")], unit=u, report="BC-NAM", period="2024"))
    d.ctl("clock", "set", "2024-11-20T09:00:00+07:00")
    for u in ("XA-PHUHOADONG", "CUCHI-MTTQ"):
        ok(d.call("report.submit", files=[("bc.pdf", b"x")], unit=u, report="BC-NAM", period="2024"))


def summary(d, path, *extra):
    rc, out = d.ctl_raw("summary", "--report", "BC-TONGHOP", "--period", "2024", "--docx", path, *extra)
    eq(rc, 0, out)
    return out


def counts_of(table):
    """{unit name: [expected, on time, late, missing]} and the sum row of a count table"""
    rows, total = {}, None
    for r in table.rows[1:]:
        cells = [c.text for c in r.cells]
        if cells[1] == "Cộng":
            total = [int(x) for x in cells[2:6]]
        else:
            rows[cells[1]] = [int(x) for x in cells[2:6]]
    return rows, total


def test_the_summary_holds_the_numbers_of_completeness_and_titles():
    import docx
    with Daemon(start_at="2024-02-01T09:00:00+07:00") as d:
        a_2024_cycle(d)
        d.ctl("clock", "set", "2024-11-25T09:00:00+07:00")
        path = os.path.join(d.dir, "bao-cao-tong-hop-2024.docx")
        summary(d, path, "--position", "TRƯỞNG PHÒNG", "--signer", SIGNER)
        doc = docx.Document(path)
        body = [p.text for p in doc.paragraphs]

        # the head: issuing body over its parent at the left, the motto at the right
        head = doc.tables[0].rows[0].cells
        eq(head[0].text.split("\n")[:2], ["Ủy ban nhân dân huyện Củ Chi", "Phòng Giáo dục và Đào tạo huyện Củ Chi"],
           "cơ quan chủ quản, cơ quan ban hành")
        assert "Số:" in head[0].text, head[0].text
        eq(head[1].text.split("\n")[:2], ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"], "motto")
        assert "Củ Chi, ngày …… tháng …… năm ……" in head[1].text, head[1].text
        assert doc.tables[0]._tbl.xpath(".//w:tblBorders/w:top[@w:val='nil']"), "the head table has no borders"
        eq(body[0], "BÁO CÁO", "title")
        assert body[1].startswith("Tổng hợp kết quả thực hiện Phong trào thi đua “Cả nước xây dựng xã hội học tập"), body[1]
        assert body[1].endswith("năm 2024"), body[1]

        # completeness of the annual report, by commune and by office, and who is missing
        c = d.call("completeness", report="BC-NAM", period="2024")
        want = {r["name"]: [r["expected"], r["on_time"], r["late"], r["missing"]] for r in c["rows"]}
        i = body.index("1. Báo cáo kết quả thực hiện phong trào thi đua năm 2024 (hạn gửi 15/11/2024)")
        t = c["total"]
        eq(body[i + 1], f"Số đơn vị phải gửi: {t['expected']}; đã gửi đúng hạn: {t['on_time']}; gửi trễ hạn: "
                        f"{t['late']}; chưa gửi: {t['missing']}; tỷ lệ đã gửi: 15,2%.", "totals")
        eq((t["expected"], t["on_time"], t["late"], t["missing"]), (33, 3, 2, 28), "the cycle as played")
        count_tables = [tb for tb in doc.tables[1:] if tb.rows[0].cells[1].text == "Đơn vị"]
        eq(len(count_tables), 2, "BC-NAM by commune and by office (nothing of KH-NAM is owed before the plan)")
        communes, ctotal = counts_of(count_tables[0])
        offices, ototal = counts_of(count_tables[1])
        eq(len(communes), 21, "21 communes")
        eq(sorted({**communes, **offices}.items()), sorted(want.items()), "every row as completeness counts it")
        eq(communes["Ủy ban nhân dân xã Phú Hòa Đông"], [1, 0, 1, 0], "late commune")
        eq(offices["Hội Khuyến học huyện Củ Chi"], [1, 1, 0, 0], "office on time")
        eq([a + b for a, b in zip(ctotal, ototal)], [t["expected"], t["on_time"], t["late"], t["missing"]], "sums")
        j = body.index("c) Các đơn vị chưa gửi báo cáo (28):", i)
        eq(body[j + 1:j + 29], [f"- {m['name']};" for m in c["missing"]], "the units still missing")

        # titles and awards granted in 2024, by level, and valid at its end
        titles = d.call("titles.list")["titles"]
        tt = [tb for tb in doc.tables if tb.rows[0].cells[1].text == "Danh hiệu, hình thức khen thưởng"][0]
        got = {(r.cells[1].text, r.cells[2].text): r.cells[3].text for r in tt.rows[1:]}
        want_t = {}
        for x in titles:
            if x["decision_date"].startswith("2024"):
                k = (x["programme_name"], "-" if x["level"] is None else str(x["level"]))   # an award has no level
                want_t[k] = str(int(want_t.get(k, "0")) + 1)
        eq(got, want_t, "granted in the period")
        eq(want_t, {("Cộng đồng học tập cấp xã", "1"): "1", ("Giấy khen (tập thể)", "-"): "2"}, "as played")
        assert "Số xã, thị trấn đạt danh hiệu “Cộng đồng học tập cấp xã” còn hiệu lực ngày 31/12/2024: 1/21." in body

        # recipients and signature; every text escaped, Vietnamese exact
        sign = doc.tables[-1].rows[0].cells
        assert "- Phòng Nội vụ huyện Củ Chi;" in sign[0].text, sign[0].text
        eq([x for x in sign[1].text.split("\n") if x], ["TRƯỞNG PHÒNG", SIGNER], "signature block")

        # A4, the decree's margins, Times New Roman 13-14 (11-12 for Nơi nhận)
        s = doc.sections[0]
        eq((round(s.page_width / MM), round(s.page_height / MM)), (210, 297), "A4")
        assert 20 <= s.top_margin / MM <= 25 and 20 <= s.bottom_margin / MM <= 25, (s.top_margin, s.bottom_margin)
        assert 30 <= s.left_margin / MM <= 35 and 15 <= s.right_margin / MM <= 20, (s.left_margin, s.right_margin)
        normal = doc.styles["Normal"].font
        eq((normal.name, normal.size.pt), ("Times New Roman", 14.0), "Normal")
        eq(doc.styles["Ô bảng"].font.size.pt, 13.0, "table cells")
        runs = [r for p in doc.paragraphs for r in p.runs]
        runs += [r for tb in doc.tables for row in tb.rows for cell in row.cells for p in cell.paragraphs for r in p.runs]
        assert runs and all(r.font.name in (None, "Times New Roman") for r in runs)
        sizes = {r.font.size.pt for r in runs if r.font.size}
        assert sizes <= {11.0, 12.0, 13.0, 14.0}, sizes
        # --under narrows both: the completeness of that subtree, the titles of its units
        path2 = os.path.join(d.dir, "binh-my.docx")
        summary(d, path2, "--under", "XA-BINHMY")
        doc2 = docx.Document(path2)
        tt2 = [tb for tb in doc2.tables if tb.rows[0].cells[1].text == "Danh hiệu, hình thức khen thưởng"][0]
        eq([(r.cells[1].text, r.cells[3].text) for r in tt2.rows[1:]], [("Giấy khen (tập thể)", "2")],
           "only Bình Mỹ's awards")
        eq(len(d.call("titles.list", under="XA-BINHMY")["titles"]), 2, "titles.list agrees")
        c2 = d.call("completeness", report="BC-NAM", period="2024", under="XA-BINHMY")["total"]
        body2 = [p.text for p in doc2.paragraphs]
        i2 = body2.index("1. Báo cáo kết quả thực hiện phong trào thi đua năm 2024 (hạn gửi 15/11/2024)")
        eq(body2[i2 + 2], "Không có đơn vị nào thuộc XA-BINHMY phải gửi báo cáo này.", "hamlets owe no annual report")
        assert body2[i2 + 1].startswith(f"Số đơn vị phải gửi: {c2['expected']}; đã gửi đúng hạn: {c2['on_time']};"), \
            (body2[i2 + 1], c2)

        with zipfile.ZipFile(path) as z:
            eq(z.namelist()[0], "[Content_Types].xml", "first part")
            main = re.sub(r"<!--.*?-->", "", z.read("word/document.xml").decode(), flags=re.S)
            assert "{{" not in main and "Nguyễn Văn &lt;An&gt; &amp; &quot;Bình&quot;" in main, "filled, escaped"


def test_a_template_the_office_replaced_and_refusals():
    with Daemon(start_at="2024-11-25T09:00:00+07:00") as d:
        tmp = tempfile.mkdtemp(prefix="thidua-tmpl-")
        try:
            tmpl = os.path.join(tmp, "mau")
            shutil.copytree(os.path.join(ROOT, "config", "templates", "bao-cao"), tmpl)
            docxml = os.path.join(tmpl, "word", "document.xml")
            with open(docxml, encoding="utf-8") as fp:
                text = fp.read()
            with open(docxml, "w", encoding="utf-8") as fp:
                fp.write(text.replace("- Lưu: VT.", "- Lưu: VT, P.GDĐT (bản của phòng)."))
            out = os.path.join(tmp, "a.docx")
            summary(d, out, "--template", tmpl, "--place", "Thành phố Hồ Chí Minh")
            import docx
            doc = docx.Document(out)
            assert "Lưu: VT, P.GDĐT (bản của phòng)." in doc.tables[-1].rows[0].cells[0].text
            assert "Thành phố Hồ Chí Minh, ngày" in doc.tables[0].rows[0].cells[1].text
            # an unknown placeholder: named, and nothing written
            with open(docxml, "w", encoding="utf-8") as fp:
                fp.write(text.replace("{{ky}}", "{{nam_bao_cao}}"))
            bad = os.path.join(tmp, "b.docx")
            rc, msg = d.ctl_raw("summary", "--report", "BC-TONGHOP", "--period", "2024", "--docx", bad, "--template", tmpl)
            assert rc == 1 and "{{nam_bao_cao}}" in msg and "word/document.xml" in msg, (rc, msg)
            assert not os.path.exists(bad)
            rc, msg = d.ctl_raw("summary", "--report", "BC-TONGHOP", "--period", "2024", "--docx", bad,
                                "--template", os.path.join(tmp, "none"))
            assert rc == 1 and "cannot open the template directory" in msg, msg
            rc, msg = d.ctl_raw("summary", "--report", "BC-TONGHOP", "--period", "2024")
            assert rc == 2 and "--docx FILE" in msg, msg
            rc, msg = d.ctl_raw("summary", "--report", "BC-TONGHOPP", "--period", "2024", "--docx", bad)
            assert rc == 1 and "no report type BC-TONGHOPP" in msg, msg
            rc, msg = d.ctl_raw("summary", "--report", "BC-TONGHOP", "--period", "năm 2024", "--docx", bad)
            assert rc == 2 and "cannot tell the days of period" in msg, msg
            assert not os.path.exists(bad)
            eq(d.call("status")["documents"]["place"], "Củ Chi", "the configured place")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def test_libreoffice_renders_a_first_page_that_is_not_blank():
    lo = shutil.which("libreoffice") or shutil.which("soffice")
    if not lo or not shutil.which("pdftoppm"):
        print("skipped: LibreOffice (libreoffice-writer-nogui) or pdftoppm (poppler-utils) is not installed")
        return
    with Daemon(start_at="2024-02-01T09:00:00+07:00") as d:
        a_2024_cycle(d)
        d.ctl("clock", "set", "2024-11-25T09:00:00+07:00")
        path = os.path.join(d.dir, "tong-hop.docx")
        summary(d, path)
        p = subprocess.run([lo, "--headless", f"-env:UserInstallation=file://{d.dir}/lo", "--convert-to", "pdf",
                            "--outdir", d.dir, path], capture_output=True, timeout=300)
        pdf = os.path.join(d.dir, "tong-hop.pdf")
        assert os.path.exists(pdf), p.stdout + p.stderr
        subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", pdf, os.path.join(d.dir, "p")],
                       check=True, timeout=120)
        page = [f for f in os.listdir(d.dir) if f.startswith("p-") and f.endswith(".pgm")][0]
        with open(os.path.join(d.dir, page), "rb") as fp:
            data = fp.read()
        # P5: "P5\nW H\n255\n" then one byte per pixel
        fields = data.split(b"\n", 3)
        w, h = (int(x) for x in fields[1].split())
        pixels = fields[3][:w * h]
        eq((round(w / h, 2)), round(210 / 297, 2), "an A4 page")
        dark = sum(1 for b in pixels if b < 128)
        assert dark > w * h // 200, f"the first page is blank: {dark} dark pixels of {w * h}"
        # the page has text at its top (the head) and further down (the body)
        top = sum(1 for b in pixels[:w * h // 5] if b < 128)
        assert top > 0 and dark > top, (top, dark)


def test_titles_beyond_one_page_are_all_counted():
    """titles.list answers at most 1000 rows a page: the summary asks page after page, so
    1,200 learning families recognised in 2024 are 1,200 in the document, not 1,000."""
    import docx
    from test_proposals import households_csv
    with Daemon(start_at="2024-09-09T09:00:00+07:00") as d:
        csv = os.path.join(d.dir, "gdht-2024.csv")
        with open(csv, "wb") as fp:
            fp.write(households_csv(1200))
        r = d.ctl("--as", "huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2024",
                  "--unit", "XA-PHUHOADONG", csv)
        batch = r["batch"]["id"]
        d.ctl("--as", "huynh.van.nam", "decide", "approve", "--batch", str(batch), "--decision-no", "45/QĐ-UBND",
              "--reason", "Hội đồng xét công nhận theo điểm thực tế tại ấp")
        first = d.call("titles.list", programme="GDHT")
        eq((first["count"], first["more"]), (1000, True), "the daemon answers a page")
        d.ctl("clock", "set", "2024-11-20T09:00:00+07:00")	# the summary is owed by then
        path = os.path.join(d.dir, "tong-hop.docx")
        summary(d, path)
        cells = [[c.text for c in row.cells] for t in docx.Document(path).tables for row in t.rows]
        gdht = [c for c in cells if len(c) > 3 and c[1].startswith("Gia đình học tập")]
        assert gdht and gdht[0][3] == "1200", cells
