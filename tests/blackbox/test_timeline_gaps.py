"""Issue 15, what the timeline left: ladder steps to units that closed, `thiduad -n` over
every day of a span, and the predecessor marker in thiduactl's text and exports."""
import os
import tempfile

from harness import CONFIG, Daemon, eq, write
from test_timeline import check

SHIPPED = open(CONFIG, encoding="utf-8").read()

# a commune split in two on 1 July 2025 (several successors)
SPLIT = '''units = (
  { code = "XA-TACH"; name = "Ủy ban nhân dân xã Tách"; level = "commune"; parent = "CUCHI"; kind = "commune";
    active_from = "2023-11-09"; active_to = "2025-06-30"; successors = [ "XA-ANNHONTAY-2025", "XA-PHUHOADONG-2025" ]; },
'''

# owed by an enterprise (its district closes with no successor) and a hamlet (its commune
# merges into XA-PHUHOADONG-2025), due before the reorganisation, chased after it
LADDER = '''report_types = (
  { code = "T-CHASE"; name = "Báo cáo thử";
    receiver = "HCM-SGDDT";
    submitters = { units = [ "DN-MAYMAC-TPT", "AP-PHD-PHULOI" ]; };
    once = { period = "2025-Q2"; due = "2025-06-20"; opens = "2025-06-01"; };
    late_until_days = 60;
    escalation = ( { after = "10wd"; to = [ "parent", "unit:XA-ANPHU", "unit:XA-TACH", "level:commune" ]; } );
  },
'''


def test_a_ladder_step_to_a_closed_unit_reaches_its_successor_or_is_dropped_in_sight():
    text = SHIPPED.replace("units = (\n", SPLIT, 1).replace("report_types = (\n", LADDER, 1)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "thidua.cfg")
        write(cfg, text)
        with Daemon(config=cfg, start_at="2025-06-10T09:00:00+07:00") as d:
            # the step falls on 4 July 2025, ten working days after the due date
            d.ctl("clock", "set", "2025-07-04T09:30:00+07:00")
            con = d.db()
            rows = con.execute("SELECT o.unit, n.recipient FROM notices n JOIN obligations o ON o.id = n.obligation"
                               " WHERE o.report = 'T-CHASE' ORDER BY o.unit, n.recipient").fetchall()
            con.close()
            eq(sorted(rows), sorted([
                # the hamlet: its parent and the split commune's half over it, the merged commune's successor
                ("AP-PHD-PHULOI", "XA-ANNHONTAY-2025"),
                ("AP-PHD-PHULOI", "XA-PHUHOADONG-2025"),
                # the enterprise: XA-ANPHU's only successor; its district and the split commune have none over it
                ("DN-MAYMAC-TPT", "XA-ANNHONTAY-2025"),
            ]), "no notice to a unit closed on the step's day")
            r = d.ctl("audit", "list", "--unit", "DN-MAYMAC-TPT")["rows"]
            dropped = sorted((x["detail"]["to"], x["detail"]["closed_unit"]) for x in r if x["op"] == "notice.dropped")
            eq(dropped, [("parent", "CUCHI"), ("unit:XA-TACH", "XA-TACH")],
               "the district closed with no successor; no half of the split commune is over the enterprise")
            assert all(x["detail"]["report"] == "T-CHASE" and x["detail"]["closed"] == "2025-06-30"
                       for x in r if x["op"] == "notice.dropped"), r
            log = d.read_log()
            assert "T-CHASE 2025-Q2 of DN-MAYMAC-TPT: step" in log and "to parent dropped: CUCHI" in log, log
            r = d.ctl("audit", "list", "--unit", "AP-PHD-PHULOI")["rows"]
            assert not [x for x in r if x["op"] == "notice.dropped"], r


def line_of(text, what):
    return text[:text.index(what)].count("\n") + 1


def test_thiduad_n_checks_every_day_of_a_span_not_only_its_ends():
    # a district-level unit again from 2026: level:district has units at both ends of
    # 2024-2027, and none from 1 July to 31 December 2025
    again = '''units = (
  { code = "KHU-MOI"; name = "Ban quản lý khu mới"; level = "district"; parent = "HCM"; kind = "government";
    active_from = "2026-01-01"; },
'''
    ladder = '''report_types = (
  { code = "T-LEVEL"; name = "Báo cáo thử";
    receiver = "HCM-SGDDT";
    submitters = { units = [ "DN-MAYMAC-TPT" ]; };
    yearly = { due = "11-15"; opens = "10-01"; first = 2024; last = 2027; };
    escalation = ( { after = "5wd"; to = [ "level:district" ]; } );
  },
'''
    text = SHIPPED.replace("units = (\n", again, 1).replace("report_types = (\n", ladder, 1)
    rc, out = check(text)
    eq(rc, 1, out)
    line = line_of(text, 'code = "T-LEVEL"')
    assert f"thidua.cfg:{line}: report T-LEVEL: escalation step " in out, out
    assert "names level:district, but no unit of level district is in force on 2025-07-01 (nor up to 2025-12-31)" \
           " (it is named from 2024-10-01 to 2027-11-15)" in out, out
    # from 2026 on, the same ladder is true
    rc, out = check(text.replace('first = 2024; last = 2027; };\n    escalation = ( { after = "5wd"; to = [ "level:district"',
                                 'first = 2026; last = 2027; };\n    escalation = ( { after = "5wd"; to = [ "level:district"', 1))
    eq(rc, 0, out)


def test_thiduad_n_refuses_a_parent_decider_that_closes_inside_the_span():
    # the enterprises' parent (the district) closes on 30 June 2025 with no successor; the
    # old communes close with it and the hamlets' communes each pass to one successor
    prog = '''programmes = (
  { code = "GK-DN"; name = "Giấy khen doanh nghiệp"; nominee = "unit";
    proposers = { kinds = [ "enterprise", "hamlet", "commune" ]; };
    stages = ( { decider = "parent"; days = 10; } );
  },
'''
    text = SHIPPED.replace("programmes = (\n", prog, 1)
    rc, out = check(text)
    eq(rc, 1, out)
    line = line_of(text, '{ decider = "parent"; days = 10; }')
    errs = [x for x in out.splitlines() if "GK-DN" in x]
    eq(len(errs), 2, out)
    for code in ("DN-MAYMAC-TPT", "HTX-NN-PHUHOADONG"):
        assert f"thidua.cfg:{line}: programme GK-DN: stage 1 (decider \"parent\"): the parent of proposer {code}, " \
               "CUCHI (Ủy ban nhân dân huyện Củ Chi), closes on 2025-06-30 (no successor) inside the span from " \
               f"2023-11-09 to no end in which {code} may propose" in out, out
    # ended with the district, the stage is true
    rc, out = check(text.replace('{ decider = "parent"; days = 10; }',
                                 '{ decider = "parent"; days = 10; until = "2025-06-30"; }, '
                                 '{ decider = "unit:HCM"; days = 10; from = "2025-07-01"; }', 1))
    eq(rc, 0, out)


def test_thiduactl_marks_the_rows_of_a_predecessor_in_text_csv_and_xlsx():
    import csv
    import io
    import openpyxl
    doc = "Báo cáo".encode()
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        assert d.call("report.submit", files=(("báo cáo.pdf", doc),), unit="XA-ANPHU", report="BC-NAM",
                      period="2024")["ok"]
        d.ctl("clock", "set", "2025-06-23T09:00:00+07:00")
        r = d.call("proposal.create", programme="BK-TT", year=2025, unit="XA-ANPHU", submit=True,
                   nominee_name="Chi hội Khuyến học xã An Phú", files=[("to-trinh.pdf", doc)],
                   **{"as": "nguyen.thi.lan"})
        assert r["ok"], r
        d.ctl("clock", "set", "2025-07-01T09:00:00+07:00")
        assert d.call("proposal.decide", proposal=r["proposal"]["id"], action="approve", decision_no="2025/QĐ-UBND",
                      **{"as": "doan.van.hung"})["ok"]
        under = ("--under", "XA-ANNHONTAY-2025")
        listings = {
            "obligations": ("obligations",) + under,
            "completeness": ("completeness", "--report", "BC-NAM", "--period", "2024") + under,
            "proposals": ("proposals", "list") + under,
            "titles": ("titles", "list") + under,
        }
        for what, args in listings.items():
            rc, out = d.ctl_raw(*args)
            eq(rc, 0, out)
            line = [x for x in out.splitlines() if "XA-ANPHU" in x]
            assert line and all("(trước: XA-ANPHU)" in x for x in line), (what, out)
            assert "(trước: XA-ANNHONTAY-2025)" not in out, (what, out)
            rc, out = d.ctl_raw(*args, "--csv")
            eq(rc, 0, out)
            table = list(csv.DictReader(io.StringIO(out)))
            assert "predecessor" in table[0], (what, out)
            marks = {x["predecessor"] for x in table if x.get("unit", x.get("proposer")) == "XA-ANPHU"}
            eq(marks, {"XA-ANPHU"}, what + " --csv")
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, what + ".xlsx")
                rc, out = d.ctl_raw(*args, "--xlsx", path)
                eq(rc, 0, out)
                ws = openpyxl.load_workbook(path).worksheets[0]
                head = [c.value for c in ws[2]]
                eq(head[-1], "Đơn vị trước sắp xếp", what + " --xlsx header")
                col = len(head) - 1
                got = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
                assert any(r[col] == "XA-ANPHU" for r in got), (what, got)


def test_make_run_today_shows_what_is_true_on_2_december_2026():
    """The shipped file on a fresh database, on the day of writing: the new structure,
    and nothing long past reads as still owed."""
    with Daemon(start_at="2026-12-02T09:00:00+07:00") as d:
        eq(d.ctl("status")["units"]["active_by_level"], {"city": 2, "district": 2, "commune": 7, "hamlet": 6}, "status")
        # the two "district" units are the enterprises attached to the closed district
        eq(d.ctl("status")["units"]["attached_by_level"], {"city": 1, "district": 2}, "attached")
        rc, out = d.ctl_raw("status")
        assert "units:     city 2 (1 attached) district 2 (2 attached) commune 7 hamlet 6\n" in out, out
        communes = {u["code"] for u in d.ctl("units", "list", "--level", "commune")["units"]}
        eq(len(communes), 7, "the 7 new communes")
        assert all(c.endswith("-2025") for c in communes), communes
        rows = d.ctl("obligations")["obligations"]
        state = {(o["report"], o["period"], o["unit"]): o["state"] for o in rows}
        # the sơ kết 2023-2025 was due in 2025: a unit's review a month before the
        # compilation was due, the compilation in January 2026
        sk = {k: v for k, v in state.items() if k[0] in ("SK-DONVI", "SK-TP")}
        eq(len(sk), 10, "9 units' reviews and the compilation")
        eq(set(sk.values()), {"missing"}, "the sơ kết 2023-2025 is history, not open work")
        # this year's report is late and still taken (until 16 December 2026)
        eq({v for k, v in state.items() if k[:2] == ("BC-NAM-XA", "2026")}, {"open"}, "2026 still taken late")
        # nothing is owed by a unit that closed
        closed = {u["code"] for u in d.ctl("units", "list", "--at", "2025-06-30")["units"]} - \
                 {u["code"] for u in d.ctl("units", "list")["units"]}
        assert closed, "units closed on 30 June 2025"
        eq([k for k, v in state.items() if k[2] in closed and v in ("open", "returned")], [], "closed units owe nothing")
