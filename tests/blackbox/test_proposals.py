"""Issue 6: approval workflows for titles and awards, on the fake clock.

Principals and programmes are those of config/thidua.cfg: nguyen.thi.lan (XA-ANPHU,
submitter and approver), huynh.van.nam (XA-PHUHOADONG), tran.thi.thu (hamlet Phú Lợi),
tran.van.binh (Phòng GD&ĐT, approver), pham.minh.tuan (UBND huyện), doan.van.hung (UBND
Thành phố), hoang.thi.mai (Sở GD&ĐT), vo.thanh.son (district council), ngo.thi.kim (Hội
Khuyến học huyện).
"""
import email
import email.policy
import json
import os
import sqlite3

from harness import Daemon, eq, ok, err

DOSSIER = "Tờ trình đề nghị công nhận".encode()
ALL_MET = ["--score", "TC1=yes", "--score", "TC2=yes", "--score", "TC3=yes", "--score", "TC4=yes", "--score", "TC5=yes"]
HAMLETS = ["AP-PHD-PHULOI", "AP-PHD-PHUHIEP", "AP-PHD-PHUTHUAN"]


def as_(name, *args):
    return ("--as", name) + args


def ctl_err(d, *args):
    """thiduactl ARGS must fail; returns its message (stderr)"""
    rc, out = d.ctl_raw(*args)
    assert rc == 1, (rc, out)
    return out


def outbox(d):
    con = d.db()
    rows = con.execute("SELECT id, recipient, kind, report, period, step, state, path,"
                       " (SELECT count(*) FROM proposal_notices n WHERE n.outbox = o.id)"
                       " FROM outbox o WHERE kind = 'proposal' ORDER BY id").fetchall()
    con.close()
    return rows


def spooled_text(path):
    with open(path, "rb") as fp:
        data = fp.read()
    if path.endswith(".json"):
        j = json.loads(data)
        return j["subject"], j["text"]
    msg = email.message_from_bytes(data, policy=email.policy.default)
    return str(msg["Subject"]), msg.get_content()


def all_pages(d, op, member, **kw):
    """a list op page after page (at most 1000 a page), by its after cursor"""
    got = []
    for _ in range(100):
        page = ok(d.call(op, **(dict(kw, after=got[-1]["id"]) if got else kw)))
        got += page[member]
        if not page["more"]:
            return got
    raise AssertionError(f"{op}: pages without end")


def all_proposals(d, **kw):
    return all_pages(d, "proposals.list", "proposals", **kw)


def audit_ops(d, pid):
    rows = d.ctl("audit", "list", "--object", f"proposal/{pid}")["rows"]
    return [(r["op"], r["principal"]) for r in reversed(rows)]


def households_csv(n, bad=()):
    lines = ["code,name,hamlet,TC1,TC2,TC3,TC4"]
    for i in range(n):
        k = i + 1   # odd households score 78 points, even ones 88
        lines.append(f"HGD-{k:05d},Hộ ông Nguyễn Văn {k},{HAMLETS[i % 3]},28,27,18,{5 if k % 2 else 15}")
    for line, text in bad:
        lines[line - 1] = text
    return ("\n".join(lines) + "\n").encode()


def test_learning_families_in_bulk():
    """Gia đình học tập: 2,000 households of Phú Hòa Đông's hamlets imported at once (all or
    nothing) and recognised by the commune as one batch."""
    with Daemon(start_at="2025-03-03T09:00:00+07:00") as d:
        path = os.path.join(d.dir, "gdht-2025.csv")
        bad = [(3, "HGD-00002,Hộ ông B,AP-KHONGCO,28,27,18,15"),
               (5, "HGD-00004,Hộ ông D,AP-PHD-PHULOI,31,27,18,15"),
               (7, "HGD-00006,,AP-PHD-PHULOI,28,27,18,15"),
               (9, "HGD-00001,Hộ ông Nguyễn Văn 1,AP-PHD-PHULOI,28,27,18,15"),
               (11, "HGD-00010,Hộ ông K,AP-TTH-TANDINH,28,27,18,15"),
               (13, "HGD-00012,Hộ ông M,AP-PHD-PHULOI,28,27,18")]
        with open(path, "wb") as fp:
            fp.write(households_csv(2000, bad))
        r = d.ctl(*as_("huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2025",
                       "--unit", "XA-PHUHOADONG", path), ok=False)
        errors = r["error"]["errors"]
        eq(r["error"]["code"], "invalid_csv", "refused")
        lines = sorted(int(e.split(":")[1]) for e in errors)
        eq(lines, [3, 5, 7, 9, 11, 13], f"every bad row named with its line: {errors}")
        text = "\n".join(errors)
        for fragment in ("AP-KHONGCO", "from 0 to 30 points", "name is missing", "also on line 2",
                         "not under the proposer", "fields"):
            assert fragment in text, (fragment, text)
        eq(d.call("proposals.list")["count"], 0, "nothing imported")

        with open(path, "wb") as fp:
            fp.write(households_csv(2000))
        # the hamlet's submitter may not import for the whole commune
        msg = ctl_err(d, *as_("tran.thi.thu", "proposals", "import", "--programme", "GDHT", "--year", "2025",
                              "--unit", "XA-PHUHOADONG", path))
        assert "may not import proposals for XA-PHUHOADONG" in msg, msg
        r = d.ctl(*as_("huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2025",
                       "--unit", "XA-PHUHOADONG", path))
        eq((r["imported"], r["state"]), (2000, "submitted"), "imported and submitted")
        batch = r["batch"]["id"]
        lst = all_proposals(d, batch=batch, stage="XA-PHUHOADONG")
        eq(len(lst), 2000, "all waiting at the commune")
        eq(len({p["id"] for p in lst}), 2000, "each once")
        eq({p["place"] for p in lst}, set(HAMLETS), "households of three hamlets")
        # importing the same file again: every row is already proposed
        r = d.ctl(*as_("huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2025",
                       "--unit", "XA-PHUHOADONG", path), ok=False)
        assert "already has proposal" in r["error"]["message"], r
        # one digest for the commune, not 2,000 messages
        pending = [o for o in outbox(d) if o[5] == "pending"]
        eq([(o[1], o[2], o[3], o[4], o[8]) for o in pending], [("XA-PHUHOADONG", "proposal", "GDHT", "2025", 2000)],
           "one message listing the batch")

        # households scoring under 80 points need an override reason
        low = d.call("proposals.list", batch=batch)["proposals"][4]
        eq(low["nominee"], "HGD-00005", "the fifth household")
        msg = ctl_err(d, *as_("huynh.van.nam", "decide", "approve", "--batch", str(batch), "--decision-no", "45/QĐ-UBND"))
        assert "do not pass the rubric" in msg and "78 of 100 points" in msg, msg
        # they are returned one by one; the rest approved as a batch
        lows = [p for p in all_proposals(d, batch=batch) if int(p["nominee"][4:]) % 2]
        eq(len(lows), 1000, "half of them are below 80 points")
        for p in lows[:3]:
            ok(d.call("proposal.decide", proposal=p["id"], action="return", reason="Chưa đủ điểm tiêu chí 4",
                      **{"as": "huynh.van.nam"}))
        msg = ctl_err(d, *as_("tran.thi.thu", "decide", "approve", "--batch", str(batch), "--reason", "x",
                              "--decision-no", "45/QĐ-UBND"))
        assert "may not decide stage 1 of GDHT" in msg and "huynh.van.nam" in msg, msg
        r = d.ctl(*as_("huynh.van.nam", "decide", "approve", "--batch", str(batch), "--decision-no", "45/QĐ-UBND",
                       "--reason", "Hội đồng xét công nhận theo điểm thực tế tại ấp"))
        eq((r["decided"], r["states"]), (1997, {"granted": 1997, "returned": 3}), "batch decided")
        t = all_pages(d, "titles.list", "titles", programme="GDHT", valid_at="2025-06-01")
        eq((len(t), len({x["id"] for x in t})), (1997, 1997), "in the registry, each once")
        eq((t[0]["decision_no"], t[0]["valid_from"], t[0]["valid_to"]),
           ("45/QĐ-UBND", "2025-03-03", "2026-03-02"), "valid 12 months")
        eq(d.call("titles.list", programme="GDHT", under="AP-PHD-PHULOI")["count"], 666, "one hamlet's")
        # every decision is in the audit log under the approver's name
        first = d.call("proposals.list", batch=batch)["proposals"][0]["id"]
        eq(audit_ops(d, first), [("proposal.create", "huynh.van.nam"), ("proposal.decide", "huynh.van.nam")], "audit")
        show = d.call("proposal.show", proposal=lows[0]["id"])["proposal"]
        eq([h["action"] for h in show["history"]], ["create", "submit", "return"], "history")
        d.ctl("clock", "advance", "1h")
        granted = [o for o in outbox(d) if o[5] == "granted"]
        eq([(o[1], o[8], o[6]) for o in granted], [("XA-PHUHOADONG", 1997, "spooled")], "one grant digest")
        subject, body = spooled_text(granted[0][7])
        assert "[Công nhận] Gia đình học tập năm 2025: 1997 hồ sơ" in subject, subject
        assert "Quyết định số 45/QĐ-UBND ngày 03/03/2025" in body and "và 1947 hồ sơ khác" in body, body
        eq(d.ctl("audit", "verify")["valid"], True, "chain intact")


def test_commune_learning_community_returned_granted_then_level_two():
    """Cộng đồng học tập cấp xã: commune → Phòng GD&ĐT; returned once, corrected, granted;
    level 2 refused 5 months later; after the reorganisation the closed commune proposes
    nothing, and its successor, a new commune, starts at level 1 before Sở GD&ĐT."""
    with Daemon(start_at="2025-01-06T09:00:00+07:00") as d:
        path = os.path.join(d.dir, "to-trinh.pdf")
        with open(path, "wb") as fp:
            fp.write(DOSSIER)
        p = d.ctl(*as_("nguyen.thi.lan", "propose", "--programme", "CDHT-XA", "--year", "2025", "--unit", "XA-ANPHU",
                       *ALL_MET, "--submit", path))["proposal"]
        pid = p["id"]
        eq((p["state"], p["stage"], p["decider"], p["principal"]), ("submitted", 1, "CUCHI-GDDT", "nguyen.thi.lan"), "submitted")
        eq(p["due_at"], "2025-02-10T23:59:59+07:00", "20 working days, Tết 2025 skipped")
        eq(p["path"][0]["may_decide"], ["tran.van.binh"], "who decides")
        # the commune's own approver may not decide the district stage
        msg = ctl_err(d, *as_("nguyen.thi.lan", "decide", "approve", str(pid), "--decision-no", "1/QĐ"))
        assert "nguyen.thi.lan" in msg and "may not decide stage 1 of CDHT-XA" in msg \
            and "an approver of CUCHI-GDDT" in msg and "tran.van.binh (Trần Văn Bình)" in msg, msg
        err(d.call("proposal.decide", proposal=pid, action="return", **{"as": "tran.van.binh"}), "reason_required")
        err(d.call("proposal.decide", proposal=pid, action="approve", **{"as": "tran.van.binh"}), "decision_no_required")
        err(d.call("proposal.decide", proposal=pid, action="approve", **{"as": "nobody"}), "unknown_principal")
        # Phòng GD&ĐT scores TC3 not met and returns the dossier
        p = d.ctl(*as_("tran.van.binh", "decide", "return", str(pid), "--score", "TC3=không đạt",
                       "--reason", "Thiếu biên bản đánh giá hoạt động Trung tâm học tập cộng đồng"))["proposal"]
        eq((p["state"], p["reason"]), ("returned", "Thiếu biên bản đánh giá hoạt động Trung tâm học tập cộng đồng"), "returned")
        eq(p["assessment"]["passed"], False, "TC3 not met in force")
        returned = [o for o in outbox(d) if o[5] == "returned"]
        eq([(o[1], o[8]) for o in returned], [("XA-ANPHU", 1)], "the proposer is told")
        err(d.call("proposal.decide", proposal=pid, action="approve", decision_no="1/QĐ", **{"as": "tran.van.binh"}),
            "bad_state")
        # corrected and resubmitted: a new dossier version, back at the stage that returned it
        d.ctl("clock", "set", "2025-01-13T09:00:00+07:00")
        with open(path, "wb") as fp:
            fp.write(DOSSIER + " (bổ sung biên bản)".encode())
        p = d.ctl(*as_("nguyen.thi.lan", "proposals", "submit", str(pid), "--note", "Đã bổ sung biên bản", path))["proposal"]
        eq((p["state"], p["stage"], p["version"], len(p["files"])), ("submitted", 1, 2, 2), "resubmitted")
        msg = err(d.call("proposal.decide", proposal=pid, action="approve", decision_no="15/QĐ-GDĐT",
                         **{"as": "tran.van.binh"}), "exception_not_permitted")
        assert "TC3 is not met" in msg and "return or reject it" in msg, msg
        p = d.ctl(*as_("tran.van.binh", "decide", "approve", str(pid), "--score", "TC3=đạt",
                       "--decision-no", "15/QĐ-GDĐT", "--decision-date", "2025-01-13"))["proposal"]
        eq((p["state"], p["decision_no"], p["title"]["valid_from"], p["title"]["valid_to"]),
           ("granted", "15/QĐ-GDĐT", "2025-01-13", "2028-01-12"), "granted, valid 36 months")
        eq([h["action"] for h in p["history"]], ["create", "submit", "return", "resubmit", "approve"], "history")
        eq(audit_ops(d, pid), [("proposal.create", "nguyen.thi.lan"), ("proposal.decide", "tran.van.binh"),
                               ("proposal.submit", "nguyen.thi.lan"), ("proposal.decide", "tran.van.binh")], "audit rows")
        rows = d.ctl("audit", "list", "--object", f"proposal/{pid}")["rows"]
        eq(rows[0]["detail"]["state"], "granted", "the outcome is in the audit detail")
        eq(d.ctl("audit", "list", "--unit", "XA-ANPHU", "--principal", "tran.van.binh")["count"], 2, "by unit and principal")
        granted = [o for o in outbox(d) if o[5] == "granted"]
        eq([o[1] for o in granted], ["XA-ANPHU"], "the proposer hears of the grant")
        # someone rewrites who returned the dossier, behind the daemon's back: the chain says so
        ret = next(r for r in rows if r["detail"].get("action") == "return")
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        original = con.execute("SELECT principal FROM audit WHERE seq = ?", (ret["seq"],)).fetchone()[0]
        con.execute("UPDATE audit SET principal = 'nguyen.thi.lan' WHERE seq = ?", (ret["seq"],))
        con.commit()
        r = d.ctl("audit", "verify", ok=None)
        eq((r["valid"], r["first_bad"]), (False, ret["seq"]), "the edited decision is named")
        con.execute("UPDATE audit SET principal = ? WHERE seq = ?", (original, ret["seq"]))
        con.commit()
        con.close()
        eq(d.ctl("audit", "verify")["valid"], True, "restored")

        # level 2, five months later: refused, with the date it becomes possible
        d.ctl("clock", "set", "2025-06-16T09:00:00+07:00")
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2026, level=2, unit="XA-ANPHU",
                         **{"as": "nguyen.thi.lan"}), "level1_required")
        assert "only since 13/01/2025" in msg and "from 13/01/2026" in msg, msg
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2026, level=2, unit="XA-BINHMY"),
                  "level1_required")
        assert "holds no valid level-1 title" in msg, msg
        # thirteen months later An Phú has merged into the new xã An Nhơn Tây (1 July 2025): the
        # closed commune proposes nothing (its principal moved to the new commune); the new commune holds
        # no title of its own and starts at level 1, decided by Sở GD&ĐT (the 2026 window is open)
        d.ctl("clock", "set", "2026-02-16T09:00:00+07:00")
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2026, level=2, unit="XA-ANPHU"), "unit_closed")
        assert "XA-ANNHONTAY-2025" in msg, msg
        err(d.call("proposal.create", programme="CDHT-XA", year=2026, level=2, unit="XA-PHUHOADONG",
                   **{"as": "huynh.van.nam"}), "roles_ended")
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2026, level=2, unit="XA-ANNHONTAY-2025",
                         **{"as": "ly.van.tam"}), "level1_required")
        assert "holds no valid level-1 title" in msg, msg
        p = d.ctl(*as_("ly.van.tam", "propose", "--programme", "CDHT-XA", "--year", "2026",
                       "--unit", "XA-ANNHONTAY-2025", *ALL_MET, "--submit", path))["proposal"]
        eq((p["level"], p["state"], p["stage"], p["decider"]), (1, "submitted", 2, "HCM-SGDDT"), "level 1 before Sở GD&ĐT")
        # after 28 February the 2026 window is closed
        d.ctl("clock", "set", "2026-03-03T09:00:00+07:00")
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2026, unit="XA-BINHMY-2025"), "window_closed")
        assert "closed at the end of 02/03/2026" in msg, msg   # 28/02/2026 was a Saturday


def test_city_award_climbs_unit_district_city():
    """Bằng khen của UBND Thành phố: Hội Khuyến học huyện → UBND huyện → UBND Thành phố."""
    with Daemon(start_at="2024-09-09T09:00:00+07:00") as d:
        p = ok(d.call("proposal.create", programme="BK-TT", year=2024, unit="CUCHI-HKH", nominee="CHKH-PHULOI",
                      nominee_name="Chi hội Khuyến học ấp Phú Lợi", submit=True,
                      files=[("to-trinh.pdf", DOSSIER), ("bao-cao-thanh-tich.pdf", DOSSIER + b"!")],
                      **{"as": "ngo.thi.kim"}))["proposal"]
        pid = p["id"]
        eq([(s["unit"], s["status"]) for s in p["path"]], [("CUCHI", "deciding"), ("HCM", "pending")], "the path")
        msg = err(d.call("proposal.decide", proposal=pid, action="approve", **{"as": "hoang.thi.mai"}), "not_permitted")
        assert "pham.minh.tuan" in msg, msg
        p = ok(d.call("proposal.decide", proposal=pid, action="approve", reason="Thành tích tiêu biểu",
                      **{"as": "pham.minh.tuan"}))["proposal"]
        eq((p["state"], p["stage"], p["decider"]), ("submitted", 2, "HCM"), "on to the city")
        eq([o[1] for o in outbox(d) if o[5] == "pending"], ["CUCHI", "HCM"], "each stage's decider is told")
        err(d.call("proposal.decide", proposal=pid, action="approve", decision_no="1/QĐ", **{"as": "pham.minh.tuan"}),
            "not_permitted")
        err(d.call("proposal.withdraw", proposal=pid, **{"as": "nguyen.thi.lan"}), "not_permitted")
        p = ok(d.call("proposal.decide", proposal=pid, action="approve", decision_no="3210/QĐ-UBND",
                      **{"as": "doan.van.hung"}))["proposal"]
        eq((p["state"], [s["status"] for s in p["path"]]), ("granted", ["approved", "granted"]), "granted")
        t = d.call("titles.list", nominee="Phú Lợi")["titles"]
        eq([(x["programme"], x["nominee"], x["granted_by"], x["decision_no"]) for x in t],
           [("BK-TT", "CHKH-PHULOI", "HCM", "3210/QĐ-UBND")], "in the registry")
        eq(audit_ops(d, pid), [("proposal.create", "ngo.thi.kim"), ("proposal.decide", "pham.minh.tuan"),
                               ("proposal.decide", "doan.van.hung")], "audit")
        err(d.call("proposal.withdraw", proposal=pid, **{"as": "ngo.thi.kim"}), "bad_state")
        # each message speaks of its own stage and time limit, whenever it leaves
        d.ctl("clock", "advance", "1h")
        texts = {o[1] + "/" + o[5]: spooled_text(o[7]) for o in outbox(d)}
        assert "(bước 1). Hạn xét duyệt: 23 giờ 59 ngày 23/09/2024" in texts["CUCHI/pending"][1], texts["CUCHI/pending"]
        assert "(bước 2). Hạn xét duyệt: 23 giờ 59 ngày 21/10/2024" in texts["HCM/pending"][1], texts["HCM/pending"]
        subject, body = texts["CUCHI-HKH/granted"]
        assert "Quyết định số 3210/QĐ-UBND" in subject and "Chi hội Khuyến học ấp Phú Lợi (CHKH-PHULOI)" in body, body


def test_an_overdue_stage_escalates_once():
    """Giấy khen (tập thể) waits 10 working days at the district council (which advises the
    chairman of UBND huyện), then the council is told it is overdue and UBND huyện that the
    decision is late; once."""
    with Daemon(start_at="2024-10-07T09:00:00+07:00") as d:
        p = ok(d.call("proposal.create", programme="GK-TT", year=2024, unit="XA-ANPHU", nominee_name="Ấp Xóm Chùa",
                      submit=True))["proposal"]
        eq((p["decider"], p["due_at"]), ("CUCHI-HDTDKT", "2024-10-21T23:59:59+07:00"), "10 working days")
        d.ctl("clock", "set", "2024-10-21T16:00:00+07:00")
        eq([o[5] for o in outbox(d)], ["pending"], "not yet")
        d.ctl("clock", "advance", "2d")
        p = d.call("proposal.show", proposal=p["id"])["proposal"]
        eq((p["overdue"], p["history"][-1]["action"], p["history"][-1]["principal"]), (True, "escalate", "thiduad"), "escalated")
        esc = [(o[1], o[5], o[6]) for o in outbox(d) if o[5] in ("overdue", "escalation")]
        eq(esc, [("CUCHI-HDTDKT", "overdue", "spooled"), ("CUCHI", "escalation", "spooled")], "decider and the unit above")
        subject, body = spooled_text([o for o in outbox(d) if o[5] == "escalation"][0][7])
        assert subject.startswith("[Chậm xét duyệt] Giấy khen (tập thể) năm 2024"), subject
        assert "Ấp Xóm Chùa" in body and "21/10/2024" in body, body
        eq(d.call("proposals.list", state="submitted")["proposals"][0]["overdue"], True, "listed as overdue")
        d.ctl("clock", "advance", "30d")
        eq(len([o for o in outbox(d) if o[5] in ("overdue", "escalation")]), 2, "exactly once")
        # the council advises late, the chairman of UBND huyện decides; no escalation moment is left
        ok(d.call("proposal.decide", proposal=p["id"], action="approve", reason="Hội đồng đề nghị tặng Giấy khen",
                  **{"as": "vo.thanh.son"}))
        ok(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="88/QĐ-UBND", **{"as": "pham.minh.tuan"}))
        con = d.db()
        eq(con.execute("SELECT count(*) FROM proposals WHERE next_at IS NOT NULL").fetchone()[0], 0, "nothing due")
        con.close()


def test_refusals_say_what_to_do():
    with Daemon(start_at="2025-01-06T09:00:00+07:00") as d:
        msg = err(d.call("proposal.create", programme="CDHT-XAA", year=2025, unit="XA-ANPHU"), "unknown_programme")
        assert "did you mean CDHT-XA?" in msg, msg
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="AP-PHD-PHULOI"), "not_a_proposer")
        assert "units at level commune" in msg, msg
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHUU"), "unknown_unit")
        assert "there is no unit 'XA-ANPHUU' (did you mean XA-ANPHU?)" in msg, msg
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="X" * 300), "unknown_unit")
        assert "'%s'" % ("X" * 64) in msg and len(msg) < 200, msg    # the code is quoted cut, not whole
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU", nominee="XA-BINHMY"),
                  "invalid_nominee")
        assert "cannot be proposed by XA-ANPHU" in msg, msg
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU", scores={"TC9": True}),
                  "invalid_score")
        assert "TC1, TC2, TC3, TC4, TC5" in msg, msg
        err(d.call("proposal.create", programme="GDHT", year=2025, unit="AP-PHD-PHULOI", nominee_name="Hộ bà C",
                   scores={"TC1": 31}), "invalid_score")
        err(d.call("proposal.create", programme="CDHT-XA", year=2025, level=2, unit="XA-ANPHU"), "level1_required")
        err(d.call("proposal.create", programme="GK-TT", year=2025, level=2, unit="XA-ANPHU", nominee_name="x"),
            "invalid_field")
        err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU", **{"as": "tran.thi.thu"}),
            "not_permitted")
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU", **{"as": "ghost"}),
                  "unknown_principal")
        assert "principals" in msg, msg
        rc, out = d.ctl_raw("--as", "ghost", "proposals", "list")
        assert rc == 1 and "no principal 'ghost'" in out, out
        # a draft without its self-assessment cannot be submitted
        p = ok(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU", **{"as": "nguyen.thi.lan"}))["proposal"]
        eq(p["state"], "draft", "a draft")
        msg = err(d.call("proposal.submit", proposal=p["id"]), "self_assessment_incomplete")
        assert "TC1 has no score" in msg, msg
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU"), "already_proposed")
        assert f"#{p['id']}" in msg, msg
        ok(d.call("proposal.withdraw", proposal=p["id"], reason="Lập nhầm", **{"as": "nguyen.thi.lan"}))
        p = ok(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU",
                      scores={k: True for k in ("TC1", "TC2", "TC3", "TC4", "TC5")}, submit=True))["proposal"]
        eq(p["state"], "submitted", "proposed again after the withdrawal")
        err(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="1/QĐ", batch=1), "invalid_field")
        err(d.call("proposal.decide", batch=99, action="approve"), "unknown_batch")
        err(d.call("proposal.show", proposal=999), "unknown_proposal")
        err(d.call("proposals.list", state="lost"), "invalid_field")
        rc, out = d.ctl_raw("decide", "approve")
        eq(rc, 2, out)


def test_programme_and_principal_mistakes_are_named_with_their_line():
    import subprocess
    import tempfile
    from harness import BIN, CONFIG
    text = open(CONFIG, encoding="utf-8").read()
    edits = [
        ('roles = [ "reviewer", "approver" ]; permissions', 'roles = [ "reviewer", "boss" ]; permissions',
         'role "boss" is not one of'),
        ('permissions = [ "exception" ];', 'permissions = [ "exemption" ];', 'permission "exemption" is not known'),
        ('unit = "HCM";            roles', 'unit = "HCMC";           roles', "unit 'HCMC' is not a unit of this file"),
        ('{ decider = "unit:CUCHI-GDDT"; role = "approver"; days = 20;',
         '{ decider = "unit:CUCHI-GDĐT"; role = "approver"; days = 400;', 'decider "unit:CUCHI-GDĐT" is not'),
        ('{ decider = "unit:CUCHI-GDDT"; role = "approver"; days = 20;',
         '{ decider = "unit:CUCHI-GDDT"; role = "approver"; days = 400;', "'days' = 400 is out of range"),
        ('nominee = "household";\n    proposers = { levels = [ "hamlet", "commune" ]; };',
         'nominee = "family";\n    proposers = { levels = [ "hamlet", "commune" ]; };', 'nominee "family" is not one of'),
        ('rubric = { threshold = 80;', 'rubric = { threshold = 180;', "threshold 180 can never be reached"),
        ('window = { dossier = "02-28"; decision = "03-31"; };', 'window = { dossier = "02-30"; decision = "03-31"; };',
         '"02-30" is not a month and day'),
        ('{ code = "TC2"; name = "Tỷ lệ người dân tham gia học tập đạt mức quy định"; met = true; }',
         '{ code = "TC2"; name = "Tỷ lệ người dân tham gia học tập đạt mức quy định"; met = true; max = 5; }',
         "has both 'max' (points) and 'met = true'"),
        ('{ name = "tran.thi.thu";', '{ name = "admin";', "'admin' is reserved"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for old, new, want in edits:
            assert old in text, old
            bad = text.replace(old, new, 1)
            lineno = text[:text.index(old)].count("\n") + 1
            path = os.path.join(tmp, "thidua.cfg")
            with open(path, "w", encoding="utf-8") as fp:
                fp.write(bad)
            p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", path], capture_output=True, text=True)
            eq(p.returncode, 1, f"{want}: {p.stderr}")
            lines = [line for line in p.stderr.splitlines() if want in line]
            assert lines, (want, p.stderr)
            where = int(lines[0].split(":")[1])
            assert lineno <= where <= lineno + 1, (want, lineno, lines[0])


def test_a_page_of_dossiers_in_one_call_each_as_proposal_show_answers_it():
    """proposals.list with with_dossier: each proposal in full (path, scores, files, history),
    the same object proposal.show answers, at most 50 a page and the rest by after."""
    with Daemon(start_at="2025-03-03T09:00:00+07:00") as d:
        path = os.path.join(d.dir, "gdht-2025.csv")
        with open(path, "wb") as fp:
            fp.write(households_csv(52))
        r = d.ctl(*as_("huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2025",
                       "--unit", "XA-PHUHOADONG", path))
        eq(r["imported"], 52, "imported")
        own = []
        for name in ("Hộ bà Lê Thị Bích", "Hộ ông Trần Văn Cường"):
            p = ok(d.call("proposal.create", files=[("tờ trình.pdf", DOSSIER + name.encode()), ("bảng điểm.xlsx", b"PK")],
                          programme="GDHT", year=2025, unit="AP-PHD-PHULOI", nominee_name=name,
                          scores={"TC1": 30, "TC2": 25, "TC3": 20, "TC4": 15}, submit=True,
                          **{"as": "tran.thi.thu"}))["proposal"]
            own.append(p["id"])
        ok(d.call("proposal.decide", proposal=own[1], action="score", scores={"TC1": 20},
                  **{"as": "huynh.van.nam"}))
        nam = {"as": "huynh.van.nam"}
        first = ok(d.call("proposals.list", stage="XA-PHUHOADONG", with_dossier=True, **nam))
        eq((first["count"], first["more"]), (50, True), "50 a page, more to come")
        rest = ok(d.call("proposals.list", stage="XA-PHUHOADONG", with_dossier=True, after=first["proposals"][-1]["id"],
                         **nam))
        eq((rest["count"], rest["more"]), (4, False), "the rest on the next page")
        rows = first["proposals"] + rest["proposals"]
        eq(len({p["id"] for p in rows}), 54, "each once")
        for p in rows:
            eq(p, ok(d.call("proposal.show", proposal=p["id"]))["proposal"], f"#{p['id']} as proposal.show")
        byid = {p["id"]: p for p in rows}
        eq([f["name"] for f in byid[own[0]]["files"]], ["tờ trình.pdf", "bảng điểm.xlsx"], "the dossier's files")
        eq([h["action"] for h in byid[own[1]]["history"]], ["create", "submit", "score"], "the history")
        eq(byid[own[1]]["assessment"]["scores"]["TC1"], 20, "the stage's scores in force")
        eq(byid[own[0]]["path"][0]["status"], "deciding", "the path")
        # without it, the short object, 1000 a page as before
        short = ok(d.call("proposals.list", stage="XA-PHUHOADONG", **nam))
        eq((short["count"], short["more"]), (54, False), "one page")
        assert "history" not in short["proposals"][0] and "files" not in short["proposals"][0], short["proposals"][0]
        # a smaller page, and the bound
        eq(ok(d.call("proposals.list", with_dossier=True, limit=3))["count"], 3, "limit")
        eq(ok(d.call("proposals.list", with_dossier=True, limit=50))["count"], 50, "limit at the bound")
        msg = err(d.call("proposals.list", with_dossier=True, limit=51), "invalid_field")
        assert "1 to 50" in msg and "'after'" in msg, msg
        err(d.call("proposals.list", with_dossier="yes"), "invalid_field")
        # the rows are the reader's: another commune reads none of them, in full or not
        eq(ok(d.call("proposals.list", with_dossier=True, **{"as": "nguyen.thi.lan"}))["count"], 0, "another commune")
