"""Issue 18, Excel: every listing as an .xlsx workbook (title, frozen Vietnamese header, dates
as dates, numbers as numbers, percentages as percentages), --csv --excel for Excel's vi-VN
locale, and units and nominations imported from .xlsx with errors naming sheet, row and cell."""
import datetime
import json
import os
import subprocess
import tempfile
import zipfile

import openpyxl

from harness import ROOT, Daemon, eq

DOC = "Báo cáo kết quả năm 2024 — xã An Phú".encode()
NOW = "xuất lúc 03/03/2025 09:00:00 (UTC+07:00)"
HAMLETS = ["AP-PHD-PHULOI", "AP-PHD-PHUHIEP", "AP-PHD-PHUTHUAN"]


def build_dir():
    return os.environ.get("THIDUA_BUILD", os.path.join(ROOT, "build", "normal"))


def sheet(path):
    wb = openpyxl.load_workbook(path)
    eq(len(wb.worksheets), 1, "one sheet")
    return wb.worksheets[0]


def rows(ws):
    return [[c.value for c in r] for r in ws.iter_rows(min_row=3)]


def check_layout(ws, headers, title_parts):
    """Row 1 the title, row 2 the Vietnamese headers, frozen below them."""
    title = ws["A1"].value
    for part in title_parts:
        assert part in title, (part, title)
    eq([c.value for c in ws[2]], headers, "header row")
    eq(ws.freeze_panes, "A3", "title and header frozen")
    assert ws["A2"].font.b and ws["A1"].font.b, "bold title and header"


def width(ws, col):
    return ws.column_dimensions[col].width


def scenario(d, tmp):
    """A report submitted and one returned with a reason that looks like a formula, then three
    households recognised: something in every listing."""
    pdf = os.path.join(tmp, "bao-cao.pdf")
    with open(pdf, "wb") as fp:
        fp.write(DOC)
    eq(d.ctl_raw("submit", "--unit", "XA-ANPHU", "--report", "BC-NAM", "--period", "2024", pdf)[0], 0, "submit")
    eq(d.ctl_raw("submit", "--unit", "XA-BINHMY", "--report", "BC-NAM", "--period", "2024", pdf)[0], 0, "submit")
    eq(d.ctl_raw("review", "return", "--unit", "XA-BINHMY", "--report", "BC-NAM", "--period", "2024",
                 "--reason", "=Thiếu biểu mẫu số 2; bổ sung, ký tên")[0], 0, "returned")
    d.ctl("clock", "set", "2025-03-03T09:00:00+07:00")
    csv = os.path.join(tmp, "gdht.csv")
    with open(csv, "w", encoding="utf-8") as fp:
        fp.write("code,name,hamlet,TC1,TC2,TC3,TC4\n")
        for k in range(1, 4):
            fp.write(f"HGD-{k:05d},Hộ ông Nguyễn Văn {k},{HAMLETS[k - 1]},28,27,18,15\n")
    d.ctl("--as", "huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2025",
          "--unit", "XA-PHUHOADONG", csv)
    d.ctl("--as", "huynh.van.nam", "decide", "approve", "--batch", "1", "--decision-no", "45/QĐ-UBND",
          "--decision-date", "2025-03-03")


def test_every_listing_exports_a_workbook_people_can_read():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d, tempfile.TemporaryDirectory() as tmp:
        scenario(d, tmp)
        x = lambda name: os.path.join(tmp, name + ".xlsx")

        # completeness: counts as numbers, percentages as fractions with a % format, the total in bold
        rc, out = d.ctl_raw("completeness", "--report", "BC-NAM", "--period", "2024", "--under", "CUCHI",
                            "--xlsx", x("completeness"))
        eq((rc, out), (0, ""), "nothing on stdout")
        ws = sheet(x("completeness"))
        eq(ws.title, "Tình hình nộp báo cáo", "sheet name")
        check_layout(ws, ["Mã đơn vị", "Tên đơn vị", "Phải nộp", "Đúng hạn", "Trễ hạn", "Chưa nộp", "Đã chấp nhận",
                          "Trả lại", "Tỷ lệ đã nộp", "Tỷ lệ đúng hạn", "Đơn vị trước sắp xếp"],
                     ["Tình hình nộp báo cáo", "Báo cáo kết quả thực hiện phong trào thi đua năm 2024 (BC-NAM)",
                      "hạn 15/11/2024 23:59", "Ủy ban nhân dân huyện Củ Chi (CUCHI)", NOW])
        assert "kỳ" not in ws["A1"].value, ws["A1"].value   # the period as a reader writes it, not "năm kỳ 2024"
        want = d.ctl("completeness", "--report", "BC-NAM", "--period", "2024", "--under", "CUCHI")
        got = rows(ws)
        eq(len(got), len(want["rows"]) + 1, "a row per unit and the total")
        for row, w in zip(got, want["rows"] + [dict(want["total"], unit="Tổng cộng", name=None)]):
            eq(row[:8], [w["unit"], w["name"], w["expected"], w["on_time"], w["late"], w["missing"], w["accepted"],
                         w["returned"]], "counts")
            assert all(type(v) is int for v in row[2:8]), row
            assert abs(row[8] - w["submitted_pct"] / 100) < 1e-9 and abs(row[9] - w["on_time_pct"] / 100) < 1e-9, row
        anphu = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "XA-ANPHU")
        eq((anphu[1].value, anphu[8].value, anphu[8].number_format), ("Ủy ban nhân dân xã An Phú", 1, "0.0%"), "An Phú")
        total = list(ws.iter_rows(min_row=ws.max_row))[0]
        assert total[0].font.b and total[2].font.b and total[8].number_format == "0.0%", "total in bold"
        longest = max(len(w["name"]) for w in want["rows"])
        assert min(longest, 58) <= width(ws, "B") <= 62, (width(ws, "B"), longest)
        assert width(ws, "C") < width(ws, "B"), "columns as wide as their content"

        # obligations: due and submitted times are Excel dates; states in Vietnamese
        eq(d.ctl_raw("obligations", "--unit", "XA-BINHMY", "--report", "BC-NAM", "--xlsx", x("obligations"))[0], 0, "")
        ws = sheet(x("obligations"))
        check_layout(ws, ["Mã đơn vị", "Tên đơn vị", "Mã báo cáo", "Kỳ báo cáo", "Hạn nộp", "Trạng thái", "Thời hạn",
                          "Nộp lúc", "Số biên nhận", "Lần nộp", "Lý do", "Đơn vị trước sắp xếp"],
                     ["Nghĩa vụ báo cáo", "BC-NAM", "Ủy ban nhân dân xã Bình Mỹ (XA-BINHMY)", NOW])
        row = list(ws.iter_rows(min_row=3))[0]
        eq([c.value for c in row[:4]], ["XA-BINHMY", "Ủy ban nhân dân xã Bình Mỹ", "BC-NAM", "2024"], "text")
        eq(d.ctl_raw("obligations", "--unit", "XA-BINHMY", "--report", "BC-NAM", "--period", "2024",
                     "--xlsx", x("obligations-2024"))[0], 0, "")
        title = sheet(x("obligations-2024"))["A1"].value
        assert "BC-NAM – năm 2024 – " in title and "kỳ" not in title, title
        due = d.ctl("obligations", "--unit", "XA-BINHMY", "--report", "BC-NAM")["obligations"][0]["due_at"]
        eq(row[4].value, datetime.datetime.fromisoformat(due).replace(tzinfo=None), "due as a date and time")
        assert row[4].is_date and row[4].number_format == "dd/mm/yyyy hh:mm:ss", row[4].number_format
        eq(row[7].value, datetime.datetime(2024, 11, 10, 9, 0), "submitted at")
        eq((row[5].value, row[9].value, row[10].value), ("không nộp (quá hạn chót)", 1, "=Thiếu biểu mẫu số 2; bổ sung, ký tên"),
           "state (returned, and past its lock: missing), version, reason as text (never a formula)")
        eq(row[10].data_type, "s", "the reason is a string cell")

        # proposals and titles: numbers, dates, Vietnamese names exactly
        eq(d.ctl_raw("proposals", "list", "--programme", "GDHT", "--year", "2025", "--xlsx", x("proposals"))[0], 0, "")
        ws = sheet(x("proposals"))
        check_layout(ws, ["Số hồ sơ", "Phong trào", "Năm", "Cấp độ", "Mã đối tượng", "Tên đối tượng", "Nơi",
                          "Đơn vị đề nghị", "Trạng thái", "Bước", "Đơn vị xét", "Hạn xét", "Đợt nhập", "Dòng trong tệp",
                          "Số quyết định", "Lý do", "Đơn vị trước sắp xếp"], ["phong trào GDHT", "năm 2025", NOW])
        eq([(r[0], r[2], r[5], r[8], r[14]) for r in rows(ws)],
           [(k, 2025, f"Hộ ông Nguyễn Văn {k}", "đã công nhận", "45/QĐ-UBND") for k in (1, 2, 3)], "proposals")
        eq(d.ctl_raw("titles", "list", "--programme", "GDHT", "--under", "XA-PHUHOADONG", "--xlsx", x("titles"))[0], 0, "")
        ws = sheet(x("titles"))
        check_layout(ws, ["Phong trào", "Cấp độ", "Năm", "Mã đối tượng", "Tên đối tượng", "Nơi", "Đơn vị đề nghị",
                          "Đơn vị công nhận", "Số quyết định", "Ngày quyết định", "Hiệu lực từ", "Hiệu lực đến", "Số hồ sơ",
                          "Đơn vị trước sắp xếp"],
                     ["Danh hiệu", "Ủy ban nhân dân xã Phú Hòa Đông (XA-PHUHOADONG)", NOW])
        first = list(ws.iter_rows(min_row=3))[0]
        eq([c.value for c in first[9:12]], [datetime.datetime(2025, 3, 3), datetime.datetime(2025, 3, 3),
                                            datetime.datetime(2026, 3, 2)], "dates")
        assert all(c.is_date and c.number_format == "dd/mm/yyyy" for c in first[9:12]), [c.number_format for c in first]
        eq(first[4].value, "Hộ ông Nguyễn Văn 1", "name")

        # notifications and audit have --csv and --xlsx too
        eq(d.ctl_raw("notifications", "list", "--limit", "5", "--xlsx", x("notifications"))[0], 0, "")
        ws = sheet(x("notifications"))
        check_layout(ws, ["Số", "Gửi đến", "Tên đơn vị nhận", "Loại", "Báo cáo, phong trào", "Kỳ", "Bước", "Thời điểm",
                          "Gửi từ lúc", "Trạng thái", "Gửi bù", "Kênh", "Gửi lúc", "Số lần gửi", "Lỗi", "Số đơn vị"],
                     ["Thông báo", NOW, "còn dòng khác (tăng --limit"])
        want = d.ctl("notifications", "list", "--limit", "5")["notifications"]
        eq([(r[0], r[1], r[13]) for r in rows(ws)], [(n["id"], n["recipient"], n["attempts"]) for n in want], "outbox")
        assert all(isinstance(r[7], datetime.datetime) for r in rows(ws)), rows(ws)
        eq(d.ctl_raw("audit", "list", "--unit", "XA-BINHMY", "--xlsx", x("audit"))[0], 0, "")
        ws = sheet(x("audit"))
        check_layout(ws, ["Số thứ tự", "Thời điểm", "Người thực hiện", "Thao tác", "Đơn vị", "Đối tượng", "Chi tiết",
                          "Mã băm (SHA-256)"], ["Nhật ký", "Ủy ban nhân dân xã Bình Mỹ (XA-BINHMY)", NOW])
        want = d.ctl("audit", "list", "--unit", "XA-BINHMY")["rows"]
        eq([(r[0], r[3], json.loads(r[6]), r[7]) for r in rows(ws)],
           [(a["seq"], a["op"], a["detail"], a["hash"]) for a in want], "audit rows, detail as JSON")
        rc, out = d.ctl_raw("audit", "list", "--unit", "XA-BINHMY", "--csv")
        eq(out.splitlines()[0], "seq,at,principal,op,unit,object,detail,hash", "audit CSV header")
        eq(len(out.splitlines()), len(want) + 1, "a line per row")

        # a file that cannot be written: a usage error, no half-written workbook
        rc, out = d.ctl_raw("titles", "list", "--xlsx", os.path.join(tmp, "missing", "t.xlsx"))
        assert rc == 2 and "cannot write" in out, (rc, out)


def test_csv_for_machines_and_for_excel():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d, tempfile.TemporaryDirectory() as tmp:
        scenario(d, tmp)
        p = subprocess.run([os.path.join(os.environ.get("THIDUA_BIN", os.path.join(ROOT, "bin")), "thiduactl"),
                            "-e", d.endpoint, "obligations", "--unit", "XA-BINHMY", "--report", "BC-NAM", "--csv"],
                           capture_output=True)
        plain = p.stdout
        assert plain.startswith(b"unit,unit_name,report,"), plain[:40]
        assert '"=Thiếu biểu mẫu số 2; bổ sung, ký tên",\r\n'.encode() in plain, plain  # no predecessor
        p = subprocess.run([os.path.join(os.environ.get("THIDUA_BIN", os.path.join(ROOT, "bin")), "thiduactl"),
                            "-e", d.endpoint, "obligations", "--unit", "XA-BINHMY", "--report", "BC-NAM", "--csv",
                            "--excel"], capture_output=True)
        excel = p.stdout
        assert excel.startswith(b"\xef\xbb\xbfunit;unit_name;report;"), excel[:40]
        # ';' between fields, so a field holding ';' is quoted; a formula-like text is defused
        assert '"\'=Thiếu biểu mẫu số 2; bổ sung, ký tên";\r\n'.encode() in excel, excel
        assert "Ủy ban nhân dân xã Bình Mỹ".encode() in excel
        # a decimal comma for the percentages
        rc, out = d.ctl_raw("completeness", "--report", "BC-NAM", "--period", "2024", "--csv", "--excel")
        total = out.splitlines()[-1].split(";")
        want = d.ctl("completeness", "--report", "BC-NAM", "--period", "2024")["total"]
        eq(total[0], "TOTAL", "total row")
        assert abs(float(total[8].replace(",", ".")) - want["submitted_pct"]) < 1e-9, (total, want)
        assert "," in total[8] and "." not in total[8], total
        rc, out = d.ctl_raw("completeness", "--report", "BC-NAM", "--period", "2024", "--csv")
        assert not out.startswith("\ufeff") and out.splitlines()[-1].split(",")[0] == "TOTAL", out[-200:]
        rc, out = d.ctl_raw("titles", "list", "--excel")
        assert rc == 2 and "--csv --excel" in out, (rc, out)


# --- imports -------------------------------------------------------------------------------

CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
      '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
      '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
      '</Types>')
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="%s"' % REL


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def workbook(path, cells, shared=(), sheet_name="Đơn vị mới", sheet_xml=None):
    """A minimal workbook as Excel writes one, by hand: a hidden first sheet (skipped), then
    the sheet of cells {"C7": ("s"|"inline"|"n"|"date"|"e"|"f", value)}; shared strings may
    be rich text (a list of runs)."""
    sst = "".join("<si>" + ("".join(f'<r><rPr><b/></rPr><t xml:space="preserve">{esc(run)}</t></r>' for run in s)
                            if isinstance(s, list) else f"<t>{esc(s)}</t><rPh sb=\"0\" eb=\"1\"><t>ふりがな</t></rPh>")
                  + "</si>" for s in shared)
    by_row = {}
    for ref, cell in cells.items():
        r = int("".join(ch for ch in ref if ch.isdigit()))
        by_row.setdefault(r, []).append((ref, cell))
    body = ""
    for r in sorted(by_row):
        body += f'<row r="{r}">'
        for ref, (kind, v) in sorted(by_row[r], key=lambda rc: (len(rc[0]), rc[0])):
            if kind == "s":
                body += f'<c r="{ref}" t="s"><v>{v}</v></c>'
            elif kind == "inline":
                body += f'<c r="{ref}" t="inlineStr"><is><t>{esc(v)}</t></is></c>'
            elif kind == "date":
                body += f'<c r="{ref}" s="1"><v>{v}</v></c>'
            elif kind == "e":
                body += f'<c r="{ref}" t="e"><v>{v}</v></c>'
            elif kind == "f":
                body += f'<c r="{ref}"><f>{v}</f></c>'
            else:
                body += f'<c r="{ref}"><v>{v}</v></c>'
        body += "</row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {NS}><sheets>'
                   f'<sheet name="Hướng dẫn" sheetId="2" state="hidden" r:id="rId2"/>'
                   f'<sheet name="{esc(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                   f'<Relationship Id="rId2" Type="{REL}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
                   f'<Relationship Id="rId3" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                   f'<Relationship Id="rId4" Type="{REL}/styles" Target="styles.xml"/></Relationships>')
        z.writestr("xl/styles.xml", f'<?xml version="1.0"?><styleSheet {NS}><numFmts count="1">'
                   '<numFmt numFmtId="164" formatCode="dd/mm/yyyy;@"/></numFmts>'
                   '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>')
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst {NS} count="{len(shared)}">{sst}</sst>')
        z.writestr("xl/worksheets/sheet2.xml", f'<?xml version="1.0"?><worksheet {NS}><sheetData><row r="1">'
                   '<c r="A1" t="inlineStr"><is><t>not this sheet</t></is></c></row></sheetData></worksheet>')
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml or
                   f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet {NS}><sheetData>{body}</sheetData></worksheet>')


HEAD = ["code", "name", "level", "parent", "kind", "emails", "active_from"]


def units_cells(rows, start=1):
    """rows of values: str -> shared string index (the caller's list), int -> number, etc."""
    cells = {}
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is not None:
                cells[f"{'ABCDEFG'[j]}{start + i}"] = v
    return cells


def hamlet_count(d):
    return d.ctl("units", "list", "--under", "XA-ANPHU", "--all")["count"]


def test_units_import_from_an_xlsx_written_by_hand():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d, tempfile.TemporaryDirectory() as tmp:
        before = hamlet_count(d)
        shared = HEAD + ["AP-ANPHU-1", ["Ấp An Hòa, ", "xã An Phú & Lò Gạch"], "hamlet", "XA-ANPHU",
                         "ap1@cuchi.example.org", "village", "XA-ANPHUU", "Ấp Xóm Mới"]
        s = {v if isinstance(v, str) else "rich": i for i, v in enumerate(shared)}
        good = [[("s", s[h]) for h in HEAD],
                [("s", s["AP-ANPHU-1"]), ("s", s["rich"]), ("s", s["hamlet"]), ("s", s["XA-ANPHU"]),
                 ("inline", "hamlet"), ("s", s["ap1@cuchi.example.org"]), ("date", 45292)],
                [("inline", "AP-ANPHU-2"), ("inline", "Ấp Xóm Mới"), ("inline", "hamlet"), ("inline", "XA-ANPHU"),
                 ("inline", "hamlet"), None, None]]
        # two mistakes: a level that does not exist (C5) and a parent misspelt (D7); row 4 is empty
        bad = good + [[("inline", "AP-ANPHU-3"), ("inline", "Ấp Bàu Chứa"), ("s", s["village"]), ("s", s["XA-ANPHU"]),
                       ("inline", "hamlet"), None, None]]
        bad_cells = units_cells(bad[:3])
        bad_cells.update(units_cells(bad[3:], start=5))
        bad_cells.update(units_cells([[("inline", "AP-ANPHU-4"), ("inline", "Ấp Bốn"), ("inline", "hamlet"),
                                       ("s", s["XA-ANPHUU"]), ("inline", "hamlet"), None, None]], start=7))
        path = os.path.join(tmp, "don-vi.xlsx")
        workbook(path, bad_cells, shared)
        rc, out = d.ctl_raw("units", "import", path)
        eq(rc, 1, out)
        assert "don-vi.xlsx, sheet 'Đơn vị mới', cell C5 (column level): unit AP-ANPHU-3: level 'village'" in out, out
        assert "don-vi.xlsx, sheet 'Đơn vị mới', cell D7 (column parent): unit AP-ANPHU-4: parent 'XA-ANPHUU'" in out, out
        assert "nothing was imported" in out and ".csv" not in out, out
        r = d.ctl("units", "import", path, ok=False)
        assert any("cell C5 (column level)" in e for e in r["error"]["errors"]), r
        eq(hamlet_count(d), before, "nothing imported")
        # --sheet names another sheet, even a hidden one; an unknown name lists the sheets
        rc, out = d.ctl_raw("units", "import", "--sheet", "Hướng dẫn", path)
        assert rc == 1 and "don-vi.xlsx, sheet 'Hướng dẫn', row 1:" in out and "the file has no units" in out, out
        rc, out = d.ctl_raw("units", "import", "--sheet", "Khác", path)
        assert rc == 1 and "the workbook has no sheet 'Khác' (its sheets: 'Hướng dẫn', 'Đơn vị mới')" in out, out
        csv = os.path.join(tmp, "don-vi.csv")
        with open(csv, "w") as fp:
            fp.write("code,name,level,kind\n")
        rc, out = d.ctl_raw("units", "import", "--sheet", "Đơn vị mới", csv)
        assert rc == 2 and "--sheet is for Excel workbooks" in out, out

        workbook(path, units_cells(good), shared)
        rc, out = d.ctl_raw("units", "import", "--sheet", "Đơn vị mới", path)
        eq((rc, out.strip()), (0, f"imported 2 units from {path}, sheet 'Đơn vị mới'"), "imported")
        u = d.ctl("units", "show", "AP-ANPHU-1")["unit"]
        eq((u["name"], u["active_from"], u["emails"], u["parent"]),
           ("Ấp An Hòa, xã An Phú & Lò Gạch", "2024-01-01", ["ap1@cuchi.example.org"], "XA-ANPHU"),
           "rich text joined, entities decoded, the phonetic run left out, a date cell as a date")
        eq(d.ctl("units", "show", "AP-ANPHU-2")["unit"]["name"], "Ấp Xóm Mới", "inline string")
        eq(hamlet_count(d), before + 2, "imported")


def xlsx_make(path, sheet_name, rows):
    tool = os.path.join(build_dir(), "tools", "xlsx_make")
    p = subprocess.run([tool, path], input=json.dumps({"sheet": sheet_name, "rows": rows}).encode(), capture_output=True)
    eq(p.returncode, 0, p.stderr)


def test_nominations_import_from_a_libxlsxwriter_workbook():
    with Daemon(start_at="2025-03-03T09:00:00+07:00") as d, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gdht-2025.xlsx")
        head = ["code", "name", "hamlet", "TC1", "TC2", "TC3", "TC4"]
        good = [[f"HGD-{k:05d}", f"Hộ bà Trần Thị Ánh {k}", HAMLETS[k % 3], 28, 27, 18, 15] for k in range(1, 6)]
        bad = [list(r) for r in good]
        bad[2][3] = 31                      # row 4, D4: over the 30 points of TC1
        bad[4] = list(good[0])              # row 6: the first household again
        xlsx_make(path, "Danh sách hộ", [head] + bad)
        imp = ("--as", "huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2025",
               "--unit", "XA-PHUHOADONG", "--draft")
        rc, out = d.ctl_raw(*imp, path)
        eq(rc, 1, out)
        assert "gdht-2025.xlsx, sheet 'Danh sách hộ', cell D4 (column TC1): TC1" in out and 'not "31"' in out, out
        assert "gdht-2025.xlsx, sheet 'Danh sách hộ', cell A6 (column code):" in out and "also on row 2" in out, out
        eq(d.call("proposals.list")["count"], 0, "nothing imported")

        xlsx_make(path, "Danh sách hộ", [head] + good)
        r = d.ctl(*imp, path)
        eq(r["imported"], 5, "imported")
        eq(r["batch"]["filename"], "gdht-2025.xlsx.csv", "the batch keeps the CSV made of the sheet")
        got = [(p["nominee"], p["nominee_name"], p["line"]) for p in d.call("proposals.list")["proposals"]]
        eq(sorted(got), [(f"HGD-{k:05d}", f"Hộ bà Trần Thị Ánh {k}", k + 1) for k in range(1, 6)],
           "names exactly; each proposal's line is its row in the sheet")


def test_a_broken_or_hostile_workbook_is_refused_with_its_reason():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d, tempfile.TemporaryDirectory() as tmp:
        before = hamlet_count(d)
        path = os.path.join(tmp, "x.xlsx")
        head = {f"{'ABCDE'[i]}1": ("inline", h) for i, h in enumerate(HEAD[:5])}
        row = {"A2": ("inline", "AP-X"), "B2": ("inline", "Ấp X"), "C2": ("inline", "hamlet"),
               "D2": ("inline", "XA-ANPHU"), "E2": ("inline", "hamlet")}
        cases = [
            ({**head, **row, "B2": ("e", "#N/A")}, "sheet 'Đơn vị mới', cell B2 holds the error #N/A"),
            ({**head, **row, "B2": ("f", "CONCATENATE(A1)")}, "cell B2: the formula there has no computed value"),
            ({**head, **row, "B2": ("s", 99)}, "cell B2: refers to text 99, which the workbook does not have"),
        ]
        for cells, want in cases:
            workbook(path, cells, ["x"])
            rc, out = d.ctl_raw("units", "import", path)
            assert rc == 1 and want in out and "nothing was imported" in out, (want, out)
        laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
                  f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
                  '</sheetData></worksheet>')
        workbook(path, {}, [], sheet_xml=laughs)
        rc, out = d.ctl_raw("units", "import", path)
        assert rc == 1 and "declares a document type" in out, out
        # a sheet that unpacks to more than the limit (128 MiB of blanks in a small zip)
        workbook(path, {**head, **row}, [])
        big = os.path.join(tmp, "big.xlsx")
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (129 << 20))
                dst.writestr(item, data)
        assert os.path.getsize(big) < (1 << 20)
        rc, out = d.ctl_raw("units", "import", big)
        assert rc == 1 and "over 128 MiB unpacked" in out, out
        for data, want in ((b"code,name\n", "is named .xlsx but is not an Excel workbook"),
                           (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "is an Excel 97-2003 workbook (.xls)"),
                           (b"PK\x03\x04 damaged", "not a readable .xlsx workbook")):
            with open(path, "wb") as fp:
                fp.write(data)
            rc, out = d.ctl_raw("units", "import", path)
            assert rc == 1 and want in out, (want, out)
        eq(hamlet_count(d), before, "nothing imported")
        eq(d.ctl("units", "import", os.path.join(tmp, "x.xlsx"), ok=False), None, "a local refusal prints no JSON")
