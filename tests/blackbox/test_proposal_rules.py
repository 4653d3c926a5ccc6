"""Issue 15, the plan's rules on titles, awards and proposals, on config/thidua.cfg and the
fake clock: awards (Giấy khen, Bằng khen) are given, with no level and no validity, and the
Giấy khen is signed by the chairman; an approval against the rubric is an exception only a
named decider may grant; one valid level-1 title at a time; no new proposal after a
rejection for the same year; a decision dated after its dossier, on a working day; the
years that can be proposed now; exact programme codes and texts that say a thing once."""
import os
import re
import subprocess
import tempfile

from harness import BIN, CONFIG, Daemon, eq
from test_proposals import as_, ctl_err, err, households_csv, ok, outbox, spooled_text

ALL_MET_XA = {k: True for k in ("TC1", "TC2", "TC3", "TC4", "TC5")}
CITIZEN = {"TC1": True, "TC2": True, "TC3": True}


def shipped(edit):
    """the shipped configuration with edit(text) applied, in a temporary file"""
    with open(CONFIG, encoding="utf-8") as fp:
        text = edit(fp.read())
    fd, path = tempfile.mkstemp(suffix=".cfg", dir=os.path.dirname(CONFIG))
    with os.fdopen(fd, "w", encoding="utf-8") as fp:
        fp.write(text)
    return path


def test_giay_khen_is_an_award_signed_by_the_chairman():
    """Giấy khen: the district council advises, the chairman of UBND huyện signs; after
    1 July 2025 the commune's chairman. Given once: no level, no validity period."""
    with Daemon(start_at="2024-10-07T09:00:00+07:00") as d:
        p = ok(d.call("proposal.create", programme="GK-TT", year=2024, unit="XA-ANPHU", nominee_name="Ấp Xóm Chùa",
                      submit=True))["proposal"]
        eq((p["kind"], [(s["unit"], s["status"]) for s in p["path"]]),
           ("award", [("CUCHI-HDTDKT", "deciding"), ("CUCHI", "pending"), (None, "skipped")]),
           "the council, then UBND huyện; the commune's stage begins on 1 July 2025")
        msg = err(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="88/QĐ-HĐTĐKT",
                         **{"as": "vo.thanh.son"}), "invalid_field")
        assert "leave out --decision-no" in msg, msg
        p = ok(d.call("proposal.decide", proposal=p["id"], action="approve", reason="Hội đồng thống nhất đề nghị",
                      **{"as": "vo.thanh.son"}))["proposal"]
        eq((p["state"], p["decider"]), ("submitted", "CUCHI"), "the chairman decides")
        err(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="1/QĐ", **{"as": "vo.thanh.son"}),
            "not_permitted")
        p = ok(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="2150/QĐ-UBND",
                      **{"as": "pham.minh.tuan"}))["proposal"]
        eq((p["state"], p["title"]["kind"], p["title"]["valid_from"], p["title"]["valid_to"], p["title"]["granted_by"]),
           ("granted", "award", None, None, "CUCHI"), "given by UBND huyện, no validity")
        t = d.call("titles.list", programme="GK-TT")["titles"]
        eq([(x["kind"], x["level"], x["valid_from"], x["valid_to"], x["decision_no"]) for x in t],
           [("award", None, None, None, "2150/QĐ-UBND")], "the registry shows an award")
        eq(d.call("titles.list", programme="GK-TT", valid_at="2024-10-08")["count"], 0, "an award is not 'valid' on a day")
        rc, out = d.ctl_raw("titles", "list", "--programme", "GK-TT")
        assert rc == 0 and re.search(r"GK-TT\s+-\s+2024 .*2150/QĐ-UBND\s+-\s+-", out), out
        rc, out = d.ctl_raw("proposals", "show", str(p["id"]))
        assert "khen thưởng (award)" in out and "cấp độ" not in out.split("\n")[0], out
        err(d.call("proposal.create", programme="GK-TT", year=2024, level=2, unit="XA-ANPHU", nominee_name="x"),
            "invalid_field")
        # after the reorganisation: the new commune's chairman signs
        d.ctl("clock", "set", "2026-10-05T09:00:00+07:00")
        p = ok(d.call("proposal.create", programme="GK-CN", year=2026, unit="XA-PHUHOADONG-2025",
                      nominee_name="Trần Thị Hai", submit=True, **{"as": "dang.thi.ngoc"}))["proposal"]
        eq([(s["unit"], s["status"]) for s in p["path"]], [(None, "skipped"), (None, "skipped"),
                                                          ("XA-PHUHOADONG-2025", "deciding")], "the commune decides")
        p = ok(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="31/QĐ-UBND",
                      **{"as": "dang.thi.ngoc"}))["proposal"]
        eq((p["state"], p["title"]["kind"], p["title"]["granted_by"]), ("granted", "award", "XA-PHUHOADONG-2025"),
           "given by the commune's chairman")


def test_an_award_with_a_level_or_a_validity_is_refused_by_the_file():
    path = shipped(lambda t: t.replace('kind = "award";\n    stages = (\n      { decider = "unit:CUCHI-HDTDKT"',
                                       'kind = "award"; valid_months = 36;\n    stages = (\n      { decider = "unit:CUCHI-HDTDKT"', 1))
    try:
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", path], capture_output=True, text=True)
        assert p.returncode != 0 and "programme GK-TT is an award" in p.stderr and "remove valid_months" in p.stderr, p.stderr
    finally:
        os.unlink(path)
    path = shipped(lambda t: t.replace('kind = "award";', 'kind = "medal";', 1))
    try:
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", path], capture_output=True, text=True)
        assert p.returncode != 0 and 'kind "medal" is not title' in p.stderr, p.stderr
    finally:
        os.unlink(path)


def test_an_exception_is_a_named_permission_of_the_decider():
    """'Xét đặc cách' as a reason is not a permission: the criterion not met is named and
    nothing changes; a decider with the permission grants it, recorded as an exception."""
    with Daemon(start_at="2025-01-06T09:00:00+07:00") as d:
        p = ok(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU", scores=ALL_MET_XA,
                      submit=True))["proposal"]
        msg = ctl_err(d, *as_("tran.van.binh", "decide", "approve", str(p["id"]), "--score", "TC3=không đạt",
                              "--reason", "Xét đặc cách", "--decision-no", "15/QĐ-GDĐT"))
        assert "TC3 is not met" in msg and "exception" in msg and "tran.van.binh may not grant" in msg, msg
        msg = err(d.call("proposal.decide", proposal=p["id"], action="approve", reason="Xét đặc cách",
                         scores={"TC3": False}, decision_no="15/QĐ-GDĐT"), "exception_not_permitted")
        assert "the local administrator may not grant" in msg, msg
        q = d.call("proposal.show", proposal=p["id"])["proposal"]
        eq((q["state"], [h["action"] for h in q["history"]]), ("submitted", ["create", "submit"]), "nothing changed")
        eq(d.call("titles.list", programme="CDHT-XA")["count"], 0, "no title")
        # a year later the commune is not level 2 on the strength of it
        d.ctl("clock", "set", "2026-01-20T09:00:00+07:00")
        err(d.call("proposal.create", programme="CDHT-XA", year=2026, level=2, unit="XA-ANNHONTAY-2025"), "level1_required")

    # huynh.van.nam holds the permission: below the threshold with a reason is an exception
    with Daemon(start_at="2025-03-03T09:00:00+07:00") as d:
        low = {"TC1": 30, "TC2": 20, "TC3": 10, "TC4": 10}
        p = ok(d.call("proposal.create", programme="GDHT", year=2025, unit="AP-PHD-PHULOI", nominee_name="Hộ ông Lê Văn Ba",
                      scores=low, submit=True))["proposal"]
        msg = err(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="45/QĐ-UBND",
                         **{"as": "huynh.van.nam"}), "below_threshold")
        assert "70 of 100 points" in msg and "--reason" in msg, msg
        p = ok(d.call("proposal.decide", proposal=p["id"], action="approve", decision_no="45/QĐ-UBND",
                      reason="Xét đặc cách: gia đình có hoàn cảnh khó khăn, vượt khó học tập", **{"as": "huynh.van.nam"}))["proposal"]
        eq(p["state"], "granted", "granted as an exception")
        eq([(h["action"], h["exception"]) for h in p["history"]], [("create", False), ("submit", False), ("approve", True)],
           "the history names the exception")
        t = d.call("titles.list", programme="GDHT")["titles"][0]
        eq([(x["principal"], x["stage"], x["reason"]) for x in t["exception"]],
           [("huynh.van.nam", 1, "Xét đặc cách: gia đình có hoàn cảnh khó khăn, vượt khó học tập")], "the title row says so")
        row = d.ctl("audit", "list", "--object", f"proposal/{p['id']}")["rows"][0]
        eq((row["op"], row["detail"].get("exception")), ("proposal.decide", True), "and the audit row")
        rc, out = d.ctl_raw("proposals", "show", str(p["id"]))
        assert "Xét đặc cách (exception)" in out and "huynh.van.nam" in out, out
        # a batch: the reason alone does not do it either, and nothing of the batch is decided
        path = os.path.join(d.dir, "gdht.csv")
        with open(path, "wb") as fp:
            fp.write(households_csv(4))
        batch = d.ctl(*as_("huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2025",
                           "--unit", "XA-PHUHOADONG", path))["batch"]["id"]
        msg = ctl_err(d, "decide", "approve", "--batch", str(batch), "--reason", "Xét đặc cách", "--decision-no", "46/QĐ-UBND")
        assert "78 of 100 points" in msg and "the local administrator may not grant" in msg, msg
        eq({x["state"] for x in d.call("proposals.list", batch=batch)["proposals"]}, {"submitted"}, "all or nothing")
        msg = ctl_err(d, *as_("huynh.van.nam", "decide", "approve", "--batch", str(batch), "--decision-no", "46/QĐ-UBND"))
        assert 'permission "exception"' in msg, msg
        r = d.ctl(*as_("huynh.van.nam", "decide", "approve", "--batch", str(batch), "--decision-no", "46/QĐ-UBND",
                       "--reason", "Xét đặc cách theo điểm thực tế"))
        eq(r["states"], {"granted": 4}, "granted, two of them as exceptions")
        eq(sum(1 for x in d.call("titles.list", programme="GDHT")["titles"] if x["exception"]), 3, "named on the titles")


def test_no_second_overlapping_level_one_title():
    with Daemon(start_at="2025-01-06T09:00:00+07:00") as d:
        a = ok(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU", scores=ALL_MET_XA,
                      submit=True))["proposal"]
        b = ok(d.call("proposal.create", programme="CDHT-XA", year=2026, unit="XA-ANPHU", scores=ALL_MET_XA,
                      submit=True))["proposal"]
        ok(d.call("proposal.decide", proposal=a["id"], action="approve", decision_no="15/QĐ-GDĐT", **{"as": "tran.van.binh"}))
        # the second, proposed before the first was granted, would overlap it
        msg = err(d.call("proposal.decide", proposal=b["id"], action="approve", decision_no="16/QĐ-GDĐT",
                         **{"as": "tran.van.binh"}), "title_held")
        assert "decision 15/QĐ-GDĐT" in msg and "valid from 06/01/2025 to 05/01/2028" in msg, msg
        eq(d.call("titles.list", programme="CDHT-XA")["count"], 1, "one title")
        ok(d.call("proposal.withdraw", proposal=b["id"], reason="Đã được công nhận"))
        d.ctl("clock", "set", "2025-06-16T09:00:00+07:00")
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2026, unit="XA-ANPHU"), "title_held")
        assert "already holds level 1 of CDHT-XA" in msg and "05/01/2028" in msg and "from 06/01/2028" in msg, msg


def test_a_rejected_nominee_is_not_proposed_again_that_year():
    with Daemon(start_at="2026-10-05T09:00:00+07:00") as d:
        p = ok(d.call("proposal.create", programme="CDAN-HT", year=2026, unit="XA-PHUHOADONG-2025",
                      nominee_name="Nguyễn Văn Tư", scores=CITIZEN, submit=True))["proposal"]
        ok(d.call("proposal.decide", proposal=p["id"], action="reject", reason="Không đúng đối tượng",
                  **{"as": "dang.thi.ngoc"}))
        msg = err(d.call("proposal.create", programme="CDAN-HT", year=2026, unit="XA-PHUHOADONG-2025",
                         nominee_name="Nguyễn Văn Tư", scores=CITIZEN, submit=True), "rejected_this_year")
        assert f"proposal #{p['id']}, rejected on 05/10/2026 by dang.thi.ngoc" in msg and "Không đúng đối tượng" in msg, msg
        eq(len(d.call("proposals.list", programme="CDAN-HT")["proposals"]), 1, "nothing created")
        ok(d.call("proposal.create", programme="CDAN-HT", year=2027, unit="XA-PHUHOADONG-2025",
                  nominee_name="Nguyễn Văn Tư", scores=CITIZEN))
    path = shipped(lambda t: t.replace('{ code = "CDAN-HT"; name = "Công dân học tập"; nominee = "person";',
                                       '{ code = "CDAN-HT"; name = "Công dân học tập"; nominee = "person";'
                                       ' repropose_after_rejection = true;', 1))
    try:
        with Daemon(config=path, start_at="2026-10-05T09:00:00+07:00") as d:
            p = ok(d.call("proposal.create", programme="CDAN-HT", year=2026, unit="XA-PHUHOADONG-2025",
                          nominee_name="Nguyễn Văn Tư", scores=CITIZEN, submit=True))["proposal"]
            ok(d.call("proposal.decide", proposal=p["id"], action="reject", reason="Thiếu minh chứng"))
            ok(d.call("proposal.create", programme="CDAN-HT", year=2026, unit="XA-PHUHOADONG-2025",
                      nominee_name="Nguyễn Văn Tư", scores=CITIZEN, submit=True))
    finally:
        os.unlink(path)


def test_decision_date_after_the_dossier_and_on_a_working_day():
    with Daemon(start_at="2026-08-24T09:00:00+07:00") as d:
        p = ok(d.call("proposal.create", programme="CDAN-HT", year=2026, unit="XA-PHUHOADONG-2025",
                      nominee_name="Lê Thị Năm", scores=CITIZEN, submit=True))["proposal"]
        d.ctl("clock", "set", "2026-09-07T09:00:00+07:00")
        msg = ctl_err(d, *as_("dang.thi.ngoc", "decide", "approve", str(p["id"]), "--decision-no", "12/QĐ-UBND",
                              "--decision-date", "2026-08-20"))
        assert "before the dossier of proposal" in msg and "(24/08/2026)" in msg, msg
        msg = ctl_err(d, *as_("dang.thi.ngoc", "decide", "approve", str(p["id"]), "--decision-no", "12/QĐ-UBND",
                              "--decision-date", "2026-09-02"))
        assert "02/09/2026 is a day off (Quốc khánh)" in msg, msg
        msg = ctl_err(d, *as_("dang.thi.ngoc", "decide", "approve", str(p["id"]), "--decision-no", "12/QĐ-UBND",
                              "--decision-date", "2026-08-30"))
        assert "30/08/2026 is a day off (Sunday)" in msg, msg
        eq(d.call("proposal.show", proposal=p["id"])["proposal"]["state"], "submitted", "nothing changed")
        p = d.ctl(*as_("dang.thi.ngoc", "decide", "approve", str(p["id"]), "--decision-no", "12/QĐ-UBND",
                       "--decision-date", "2026-09-03"))["proposal"]
        eq((p["state"], p["title"]["decision_date"]), ("granted", "2026-09-03"), "a working day after the dossier")


def test_a_closed_window_names_the_years_open_now():
    with Daemon(start_at="2026-10-05T09:00:00+07:00") as d:
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2020, unit="XA-BINHMY-2025"), "window_closed")
        assert "for 2020 closed at the end of 28/02/2020" in msg, msg
        assert "proposals can now be made for 2027 (dossier by 01/03/2027)" in msg and "2021" not in msg, msg
    with Daemon(start_at="2026-01-05T09:00:00+07:00") as d:
        msg = err(d.call("proposal.create", programme="DVHT", year=2025, unit="XA-BINHMY-2025"), "window_closed")
        assert "proposals can now be made for 2026 (dossier by 15/01/2026) or 2027 (dossier by 15/01/2027)" in msg, msg


def test_exact_codes_and_texts_that_say_a_thing_once():
    # Công dân học tập is not one of the Cộng đồng học tập (CDHT-*) codes
    with open(CONFIG, encoding="utf-8") as fp:
        progs = re.findall(r'\{ code = "([^"]+)"; name = "([^"]+)"; nominee', fp.read())
    eq(dict(progs).get("CDHT-CD"), None, "no CDHT-CD")
    for code, name in progs:
        if code.startswith("CDHT-"):
            assert name.startswith("Cộng đồng học tập"), (code, name)
    eq(dict(progs)["CDAN-HT"], "Công dân học tập", "the learning citizen's code")
    with Daemon(start_at="2024-10-07T09:00:00+07:00") as d:
        err(d.call("titles.list", programme="CDHT"), "unknown_programme")
        msg = err(d.call("proposal.create", programme="GK-TT", year=2024, unit="AP-PHD-PHULOI", nominee_name="x"),
                  "not_a_proposer")
        assert "(Ấp Phú Lợi, hamlet)" in msg and "hamlet hamlet" not in msg, msg
        msg = err(d.call("proposal.create", programme="CDHT-XA", year=2025, unit="CUCHI-GDDT"),
                  "not_a_proposer")
        assert "office at level district" in msg, msg
    with Daemon(start_at="2026-10-05T09:00:00+07:00") as d:
        p = ok(d.call("proposal.create", programme="CDAN-HT", year=2026, unit="XA-PHUHOADONG-2025",
                      nominee_name="Nguyễn Văn Tư", scores=CITIZEN, submit=True))["proposal"]
        rc, out = d.ctl_raw("proposals", "show", str(p["id"]))
        assert rc == 0 and "Nguyễn Văn Tư  Nguyễn Văn Tư" not in out and "Nguyễn Văn Tư, XA-PHUHOADONG-2025" in out, out
        d.ctl("clock", "advance", "1h")
        subject, body = spooled_text([o for o in outbox(d) if o[5] == "pending"][0][7])
        assert "Nguyễn Văn Tư (Nguyễn Văn Tư)" not in body and "Nguyễn Văn Tư (Ủy ban nhân dân xã Phú Hòa Đông)" in body, body
