"""Issue 15: one timeline, 2023-2030, on the shipped configuration and the fake clock.

config/thidua.cfg holds the three levels until 30 June 2025 and the city with the 7 new
communes from 1 July 2025. Everything that names a unit has dates; on the reorganisation
day open work moves by the rules of the file.
"""
import os
import subprocess
import tempfile

from harness import BIN, CONFIG, Daemon, eq, write, ok, err

DOC = "Báo cáo".encode()


def submit(d, unit, report, period, **kw):
    return d.call("report.submit", files=(("báo cáo.pdf", DOC),), unit=unit, report=report, period=period, **kw)


def outbox(d, where="1"):
    con = d.db()
    rows = con.execute("SELECT recipient, kind, report, period, step FROM outbox WHERE " + where
                       + " ORDER BY id").fetchall()
    con.close()
    return rows


def check(text):
    """thiduad -n on text; (exit status, stderr)"""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "thidua.cfg")
        write(path, text)
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", path], capture_output=True, text=True)
        return p.returncode, p.stderr.replace(path, "thidua.cfg")


def test_the_shipped_file_is_true_on_every_date():
    rc, out = check(open(CONFIG, encoding="utf-8").read())
    eq(rc, 0, out)
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        eq(d.ctl("status")["units"]["active_by_level"], {"city": 2, "district": 16, "commune": 21, "hamlet": 6}, "2024")
        d.ctl("clock", "set", "2026-12-02T09:00:00+07:00")
        eq(d.ctl("status")["units"]["active_by_level"], {"city": 2, "district": 2, "commune": 7, "hamlet": 6},
           "today: the city, the 7 new communes, the 2 enterprises (reported under the city)")
        r = d.ctl("units", "list", "--under", "XA-PHUHOADONG-2025")
        assert {"AP-PHD-PHULOI", "AP-PHD-PHUHIEP", "AP-PHD-PHUTHUAN"} <= {u["code"] for u in r["units"]}, r


def test_thiduad_n_refuses_a_unit_named_outside_its_span():
    text = open(CONFIG, encoding="utf-8").read()
    # the district decides the Bằng khen after it closed
    old = '{ decider = "level:district"; role = "approver"; days = 10; until = "2025-06-30"; },'
    assert text.count(old) == 3
    bad = text.replace(old, '{ decider = "level:district"; role = "approver"; days = 10; },', 1)
    line = bad[:bad.index('{ decider = "level:district"; role = "approver"; days = 10; },')].count("\n") + 1
    rc, out = check(bad)
    eq(rc, 1, out)
    assert f"thidua.cfg:{line}: programme BK-TT: stage 1 (decider \"level:district\") names level:district, " \
           "but no unit of level district is in force on 2025-07-01" in out, out
    # the annual report still sent to the district's office in 2030
    old = '    yearly = { due = "11-15"; opens = "10-01"; first = 2024; last = 2030; };\n    until = "2025-06-30";\n'
    assert text.count(old) == 1
    bad = text.replace(old, '    yearly = { due = "11-15"; opens = "10-01"; first = 2024; last = 2030; };\n', 1)
    rc, out = check(bad)
    eq(rc, 1, out)
    assert "report BC-NAM: receiver names CUCHI-GDDT (Phòng Giáo dục và Đào tạo huyện Củ Chi), which is in force " \
           "from 2023-11-09 to 2025-06-30, but it is named from 2024-10-01 to 2030-11-15" in out, out
    # a principal of a closed office without an end to its roles
    bad = text.replace('unit = "CUCHI-GDDT";     roles = [ "reviewer", "approver" ]; until = "2025-06-30"; },',
                       'unit = "CUCHI-GDDT";     roles = [ "reviewer", "approver" ]; },', 1)
    rc, out = check(bad)
    eq(rc, 1, out)
    assert "principal tran.van.binh acts for CUCHI-GDDT" in out and 'until = "2025-06-30"' in out, out


def test_a_closed_unit_cannot_submit_and_its_principals_lose_their_roles():
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        ok(submit(d, "XA-BINHMY", "KH-NAM", "2025"))
        assert d.call("status", **{"as": "huynh.van.nam"})["ok"]
        d.ctl("clock", "set", "2025-11-10T09:00:00+07:00")
        msg = err(submit(d, "XA-BINHMY", "KH-NAM", "2025"), "unit_closed")
        assert "XA-BINHMY" in msg and "30/06/2025" in msg and "XA-BINHMY-2025" in msg, msg
        msg = err(d.call("status", **{"as": "huynh.van.nam"}), "roles_ended")
        assert "XA-PHUHOADONG" in msg and "30/06/2025" in msg and "XA-PHUHOADONG-2025" in msg, msg
        # moved: the same login acts for its new post, and no longer for the old one
        ok(submit(d, "XA-ANNHONTAY-2025", "BC-NAM-XA", "2025", **{"as": "nguyen.thi.lan"}))
        msg = err(submit(d, "XA-BINHMY-2025", "BC-NAM-XA", "2025", **{"as": "nguyen.thi.lan"}), "forbidden")
        assert "XA-ANNHONTAY-2025" in msg, msg
        # the new commune's people act from 1 July 2025
        ok(d.call("status", **{"as": "ly.van.tam"}))
        ok(submit(d, "XA-BINHMY-2025", "BC-NAM-XA", "2025"))


def test_reorganisation_day_moves_open_work():
    """A Bằng khen waiting at the district on 30 June 2025 reaches the city; the old units'
    open obligations close with the reason; nobody chases a closed unit afterwards."""
    with Daemon(start_at="2025-06-20T09:00:00+07:00") as d:
        p = ok(d.call("proposal.create", programme="BK-TT", year=2025, unit="XA-ANPHU",
                      nominee_name="Trung tâm học tập cộng đồng xã An Phú", submit=True,
                      files=[("to-trinh.pdf", DOC)], **{"as": "nguyen.thi.lan"}))["proposal"]
        eq((p["stage"], p["decider"]), (1, "CUCHI"), "at the district")
        d.ctl("clock", "set", "2025-07-01T09:00:00+07:00")
        p = d.call("proposal.show", proposal=p["id"])["proposal"]
        eq((p["state"], p["stage"], p["decider"]), ("submitted", 2, "HCM"), "moved on to the city")
        move = p["history"][-1]
        eq((move["action"], move["principal"], move["stage"]), ("move", "thiduad", 1), "the move is in the history")
        assert "CUCHI" in move["reason"] and "30/06/2025" in move["reason"], move
        rows = d.ctl("audit", "list", "--object", f"proposal/{p['id']}")["rows"]
        assert any(r["op"] == "proposal.move" and r["detail"]["decider"] == "HCM" for r in rows), rows
        d.ctl("clock", "advance", "1h")
        told = outbox(d, "kind = 'proposal'")
        assert ("XA-ANNHONTAY-2025", "proposal", "BK-TT", "2025", "moved") in told, told
        assert ("HCM", "proposal", "BK-TT", "2025", "pending") in told, told
        # a 2025 plan never sent is past its lock (2 May): history, left as it was, not moved
        o = d.call("obligations.list", report="KH-NAM", period="2025", unit="CUCHI-TCKH")["obligations"]
        eq((o[0]["state"], o[0].get("reason")), ("missing", None), "past its lock: not moved, read as missing")
        # the old deciders lost their roles; the city decides
        err(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="1/QĐ",
                   **{"as": "pham.minh.tuan"}), "roles_ended")
        p = ok(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="2468/QĐ-UBND",
                      **{"as": "doan.van.hung"}))["proposal"]
        eq(p["state"], "granted", "granted by the city")
        d.ctl("clock", "set", "2025-12-31T09:00:00+07:00")
        closed = [r for r in outbox(d, "created_at >= strftime('%s', '2025-07-01T00:00:00+07:00')")
                  if r[0].startswith("CUCHI") or r[0] in ("XA-ANPHU", "XA-BINHMY")]
        eq(closed, [], "no message to a closed unit after the reorganisation")


def test_open_obligations_pass_to_the_successor_by_rule():
    extra = """,
  { code = "T-THANG6"; name = "Báo cáo thử tháng 6/2025";
    receiver = "HCM-SGDDT";
    submitters = { units = [ "XA-ANPHU", "XA-PHUMYHUNG", "XA-BINHMY" ]; };
    once = { period = "2025-T6"; due = "2025-06-20"; opens = "2025-06-01"; };
    late_until_days = 60; on_reorganisation = "successor";
  },
  { code = "T-THANG6B"; name = "Báo cáo thử tháng 6/2025 (đóng khi sắp xếp)";
    receiver = "HCM-SGDDT";
    submitters = { units = [ "XA-TANPHUTRUNG" ]; };
    once = { period = "2025-T6"; due = "2025-06-20"; opens = "2025-06-01"; };
    late_until_days = 60;
  }
);"""
    text = open(CONFIG, encoding="utf-8").read()
    end = text.rindex("\n);")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "thidua.cfg")
        write(cfg, text[:end] + extra + text[end + 3:])
        with Daemon(config=cfg, start_at="2025-06-25T09:00:00+07:00") as d:
            ok(submit(d, "XA-BINHMY", "T-THANG6", "2025-T6"))
            d.ctl("clock", "set", "2025-07-01T09:00:00+07:00")
            rows = {o["unit"]: (o["state"], o.get("reason")) for o in
                    d.call("obligations.list", report="T-THANG6", period="2025-T6")["obligations"]}
            eq(rows["XA-BINHMY"][0], "submitted", "a submitted report stays its unit's")
            eq(rows["XA-ANPHU"], ("waived", "đơn vị đã sắp xếp lại ngày 30/06/2025; nghĩa vụ chuyển cho XA-ANNHONTAY-2025 "
                                            "(Ủy ban nhân dân xã An Nhơn Tây)"), "passed on")
            eq(rows["XA-PHUMYHUNG"][0], "waived", "the second predecessor's obligation closes")
            assert "nghĩa vụ đã có ở XA-ANNHONTAY-2025" in rows["XA-PHUMYHUNG"][1], rows
            eq(rows["XA-ANNHONTAY-2025"][0], "open", "the successor owes it")
            assert "chuyển từ XA-ANPHU" in rows["XA-ANNHONTAY-2025"][1], rows
            assert "XA-BINHMY-2025" not in rows, rows
            # by default (on_reorganisation = "close") it closes with the reason
            o = d.call("obligations.list", report="T-THANG6B", period="2025-T6")["obligations"]
            eq([(x["unit"], x["state"], x["reason"]) for x in o],
               [("XA-TANPHUTRUNG", "waived", "đơn vị đã sắp xếp lại ngày 30/06/2025")], "closed with the reason")
            eq(outbox(d, "report = 'T-THANG6B' AND created_at >= strftime('%s', '2025-07-01T00:00:00+07:00')"), [],
               "and not chased afterwards")
            r = ok(submit(d, "XA-ANNHONTAY-2025", "T-THANG6", "2025-T6"))
            eq(r["receipt"]["on_time"], False, "late, within the late window")
            rows = [r for r in d.ctl("audit", "list", "--principal", "thiduad")["rows"] if r["op"] == "obligation.reorganise" and r["detail"]["report"] == "T-THANG6"]
            eq(sorted(r["unit"] for r in rows), ["XA-ANPHU", "XA-PHUMYHUNG"], "one audit row per obligation moved")


def test_the_timeline_walk():
    """2024 under the district, the reform day with a Bằng khen in flight, the 2025 and 2026
    cycles of the new communes, history read under a successor, the 2030 tổng kết."""
    with Daemon(start_at="2024-10-01T09:00:00+07:00") as d:
        # --- 2024: three levels; the communes report to Phòng GD&ĐT huyện
        d.ctl("clock", "set", "2024-11-14T09:00:00+07:00")
        ok(submit(d, "XA-ANPHU", "BC-NAM", "2024"))
        d.ctl("clock", "set", "2024-11-20T09:00:00+07:00")
        eq(ok(submit(d, "XA-ANNHONTAY", "BC-NAM", "2024"))["receipt"]["on_time"], False, "late")
        c = d.call("completeness", report="BC-NAM", period="2024", under="CUCHI")
        eq((c["total"]["expected"], c["total"]["on_time"], c["total"]["late"]), (33, 1, 1), "2024 under the district")

        # --- a Bằng khen waits at UBND huyện on 30 June 2025
        d.ctl("clock", "set", "2025-06-23T09:00:00+07:00")
        pid = ok(d.call("proposal.create", programme="BK-TT", year=2025, unit="XA-ANPHU",
                        nominee_name="Chi hội Khuyến học xã An Phú", submit=True, files=[("to-trinh.pdf", DOC)],
                        **{"as": "nguyen.thi.lan"}))["proposal"]["id"]

        # --- the reform day
        d.ctl("clock", "set", "2025-07-01T09:00:00+07:00")
        eq(d.ctl("status")["units"]["active_by_level"], {"city": 2, "district": 2, "commune": 7, "hamlet": 6}, "two levels")
        p = d.call("proposal.show", proposal=pid)["proposal"]
        eq((p["stage"], p["decider"], p["history"][-1]["action"]), (2, "HCM", "move"), "reached the city")
        eq([(x["status"], x["may_decide"]) for x in p["path"]], [("skipped", []), ("deciding", ["doan.van.hung"])],
           "the district stage passed without a decision; only the city's approver")
        err(d.call("status", **{"as": "huynh.van.nam"}), "roles_ended")
        ok(d.call("status", **{"as": "nguyen.thi.lan"}))   # moved to the new commune
        err(submit(d, "XA-ANPHU", "BC-NAM", "2024"), "unit_closed")
        ok(d.call("proposal.decide", proposal=pid, action="approve", decision_no="2025/QĐ-UBND", **{"as": "doan.van.hung"}))

        # --- 2025: the units' sơ kết and annual report go to the city's Sở GD&ĐT
        owed = {o["unit"] for o in d.call("obligations.list", report="SK-DONVI", period="2023-2025")["obligations"]}
        eq(len(owed), 9, "the 7 new communes and the 2 enterprises review 2023-2025")
        assert "XA-ANNHONTAY-2025" in owed and not any(u.startswith("CUCHI") for u in owed), owed
        ok(submit(d, "XA-ANNHONTAY-2025", "SK-DONVI", "2023-2025", **{"as": "ly.van.tam"}))
        d.ctl("clock", "set", "2025-09-08T09:00:00+07:00")
        p = ok(d.call("proposal.create", programme="BK-TT", year=2025, unit="XA-ANNHONTAY-2025",
                      nominee_name="Trung tâm học tập cộng đồng xã An Nhơn Tây", submit=True,
                      files=[("to-trinh.pdf", DOC)], **{"as": "ly.van.tam"}))["proposal"]
        eq((p["stage"], p["decider"]), (2, "HCM"), "a new commune's Bằng khen goes straight to the city")
        eq([(x["status"], x.get("unit")) for x in p["path"]], [("skipped", None), ("deciding", "HCM")], "the path")
        d.ctl("clock", "set", "2025-11-10T09:00:00+07:00")
        ok(submit(d, "XA-ANNHONTAY-2025", "BC-NAM-XA", "2025"))
        eq(d.call("obligations.list", report="SK-TP", period="2023-2025")["obligations"][0]["unit"], "HCM-SGDDT",
           "Sở GD&ĐT compiles the sơ kết for the city")

        # --- 2026
        d.ctl("clock", "set", "2026-02-20T09:00:00+07:00")
        ok(submit(d, "XA-ANNHONTAY-2025", "KH-NAM-XA", "2026"))
        d.ctl("clock", "set", "2026-11-10T09:00:00+07:00")
        ok(submit(d, "XA-ANNHONTAY-2025", "BC-NAM-XA", "2026"))
        eq(d.call("obligations.list", report="BC-NAM-XA", period="2026")["count"], 9, "2026 cycle")

        # --- history under the successor
        c = d.call("completeness", report="BC-NAM", period="2024", under="XA-ANNHONTAY-2025")
        eq(sorted((r["unit"], r["predecessor"], r["expected"], r["on_time"], r["late"]) for r in c["rows"]),
           [("XA-ANNHONTAY", "XA-ANNHONTAY", 1, 0, 1), ("XA-ANPHU", "XA-ANPHU", 1, 1, 0),
            ("XA-PHUMYHUNG", "XA-PHUMYHUNG", 1, 0, 0)], "2024 counted under the 2025 commune")
        eq((c["total"]["expected"], c["total"]["missing"]), (3, 1), "its 3 predecessors")
        rows = d.call("obligations.list", under="XA-ANNHONTAY-2025")["obligations"]
        got = {(o["report"], o["period"], o["unit"], o.get("predecessor")) for o in rows}
        assert ("BC-NAM", "2024", "XA-ANPHU", "XA-ANPHU") in got, got
        assert ("BC-NAM-XA", "2025", "XA-ANNHONTAY-2025", None) in got, got
        t = d.call("titles.list", under="XA-ANNHONTAY-2025")["titles"]
        eq(sorted((x["decision_no"], x["proposer"], x.get("predecessor")) for x in t),
           [("2025/QĐ-UBND", "XA-ANPHU", "XA-ANPHU")], "the predecessor's award, marked")
        pr = d.call("proposals.list", under="XA-ANNHONTAY-2025")["proposals"]
        eq(sorted((x["proposer"], x.get("predecessor")) for x in pr),
           [("XA-ANNHONTAY-2025", None), ("XA-ANPHU", "XA-ANPHU")], "proposals of both")

        # --- 2030: each unit's own tổng kết, then Sở GD&ĐT's for the city
        d.ctl("clock", "set", "2030-10-02T09:00:00+07:00")
        eq(d.call("obligations.list", report="TK-DONVI", period="2023-2030")["count"], 9, "units' own tổng kết")
        eq([o["unit"] for o in d.call("obligations.list", report="TK-2030", period="2023-2030")["obligations"]],
           ["HCM-SGDDT"], "the final review")


def test_a_daemon_down_on_the_reorganisation_night_catches_up():
    """The sweep runs at start-up: a daemon stopped on 30 June 2025 and started on 3 July
    moves the open work of that night, once; a Bằng khen waiting at the district too."""
    extra = """,
  { code = "T-THANG6"; name = "Báo cáo thử tháng 6/2025";
    receiver = "HCM-SGDDT";
    submitters = { units = [ "XA-TANPHUTRUNG" ]; };
    once = { period = "2025-T6"; due = "2025-06-20"; opens = "2025-06-01"; };
    late_until_days = 60;
  }
);"""
    text = open(CONFIG, encoding="utf-8").read()
    end = text.rindex("\n);")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "thidua.cfg")
        write(cfg, text[:end] + extra + text[end + 3:])
        with Daemon(config=cfg, start_at="2025-06-30T16:00:00+07:00") as d:
            pid = ok(d.call("proposal.create", programme="BK-TT", year=2025, unit="XA-TANPHUTRUNG",
                            nominee_name="Ấp Chợ", submit=True, files=[("to-trinh.pdf", DOC)]))["proposal"]["id"]
            eq(d.call("obligations.list", report="T-THANG6")["obligations"][0]["state"], "open", "open on 30 June")
            eq(d.stop(), 0, "stopped that evening")
            d.start_at = "2025-07-03T09:00:00+07:00"
            d.start()
            o = d.call("obligations.list", report="T-THANG6")["obligations"][0]
            eq((o["state"], o["reason"]), ("waived", "đơn vị đã sắp xếp lại ngày 30/06/2025"), "caught up at start-up")
            p = d.call("proposal.show", proposal=pid)["proposal"]
            eq((p["stage"], p["decider"]), (2, "HCM"), "the dossier moved on")
            eq(d.stop(), 0, "stopped again")
            d.start()
            p = d.call("proposal.show", proposal=pid)["proposal"]
            eq([h["action"] for h in p["history"]].count("move"), 1, "moved once, not at every start")
