"""A member of the wrong type is invalid_field naming the member, for every op: never read
as false, as absent or as a refusal of something else, and nothing changes."""
from harness import Daemon, eq

CSV = ("code,name,hamlet,TC1,TC2,TC3,TC4\n"
       "HGD-00001,Hộ ông Nguyễn Văn Một,AP-PHD-PHULOI,28,27,18,15\n").encode()
IMPORT = dict(programme="GDHT", year=2025, unit="XA-PHUHOADONG", filename="gdht.csv")
CREATE = dict(programme="CDHT-XA", year=2026, unit="XA-ANPHU")
SUBMIT = dict(unit="XA-ANPHU", report="BC-NAM", period="2024")
SUB_FILES = [("bao-cao.pdf", b"x")]

# (op, the request's other members, file frames, the member, a value of the wrong type)
CASES = [
    ("proposals.import", IMPORT, [("gdht.csv", CSV)], "draft", "yes"),
    ("proposals.import", IMPORT, [("gdht.csv", CSV)], "draft", 1),
    ("proposals.import", IMPORT, [("gdht.csv", CSV)], "hamlet", 5),
    ("proposals.import", IMPORT, [("gdht.csv", CSV)], "year", True),
    ("proposal.create", CREATE, [], "submit", 5),
    ("proposal.create", CREATE, [], "submit", "true"),
    ("proposal.create", CREATE, [], "submit", [True]),
    ("proposal.create", CREATE, [], "level", 1.5),
    ("proposal.create", CREATE, [], "note", {"a": 1}),
    ("units.list", {}, [], "all", "yes"),
    ("units.list", {}, [], "all", 0),
    ("units.list", {}, [], "level", 3),
    ("units.show", {}, [], "code", 5),
    ("units.import", {}, [("u.csv", b"code,name,level,kind\n")], "filename", 5),
    ("report.submit", SUBMIT, SUB_FILES, "unit", 5),
    ("report.submit", SUBMIT, SUB_FILES, "report", ["BC-NAM"]),
    ("report.submit", SUBMIT, SUB_FILES, "period", 2025),
    ("report.submit", SUBMIT, SUB_FILES, "note", False),
    ("report.receipt", {}, [], "number", 1),
    ("report.accept", SUBMIT, [], "report", 1),
    ("report.return", SUBMIT, [], "reason", 7),
    ("obligations.list", {}, [], "unit", 5),
    ("proposals.list", {}, [], "with_dossier", "yes"),
    ("proposals.list", {}, [], "with_dossier", 1),
    ("completeness", {"period": "2024"}, [], "report", 5),
    ("calendar.show", {}, [], "month", 202409),
    ("deadlines", {}, [], "report", True),
    ("schedule", {}, [], "unit", 5),
    ("notifications.list", {}, [], "limit", "mười"),
    ("notifications.list", {}, [], "state", 5),
    ("notifications.show", {}, [], "notification", "1"),
    ("notifications.retry", {}, [], "notification", True),
    ("notify.test", {}, [], "channel", 5),
    ("clock.set", {}, [], "to", 5),
    ("clock.advance", {}, [], "by", 60),
    ("proposal.decide", {"proposal": 1}, [], "action", 5),
    ("proposal.show", {}, [], "proposal", "một"),
    ("proposals.list", {}, [], "year", True),
    ("proposals.list", {}, [], "stage", 1.5),
    ("titles.list", {}, [], "valid_at", 5),
    ("audit.list", {}, [], "limit", "x"),
    ("status", {}, [], "as", 5),
]


def refused(d, cases):
    audit = d.db().execute("SELECT count(*) FROM audit").fetchone()[0]
    for op, base, files, key, value in cases:
        fields = dict(base, **{key: value})
        who = {} if key == "as" else {"as": "huynh.van.nam"} if op == "proposals.import" else \
            {"as": "nguyen.thi.lan"} if op in ("report.submit", "proposal.create") else {}
        r = d.call(op, files=files, **dict(fields, **who))
        assert not r["ok"], (op, key, value, r)
        eq(r["error"]["code"], "invalid_field", f"{op} {key}={value!r}: {r['error']['message']}")
        assert f"'{key}'" in r["error"]["message"], (op, key, r["error"]["message"])
    eq(d.db().execute("SELECT count(*) FROM audit").fetchone()[0], audit, "nothing changed")


def test_every_member_of_the_wrong_type_is_invalid_field_naming_it():
    proposal_ops = ("proposals.import", "proposal.create")
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        refused(d, [c for c in CASES if c[0] not in proposal_ops])
        # the same submission with the right types is taken, by the same principal
        r = d.call("report.submit", files=SUB_FILES, note="Kính gửi", **dict(SUBMIT, **{"as": "nguyen.thi.lan"}))
        assert r["ok"], r
        r = d.call("report.return", reason="Thiếu phụ lục", **SUBMIT)
        assert r["ok"], r
    with Daemon(start_at="2025-03-03T09:00:00+07:00") as d:
        refused(d, [c for c in CASES if c[0] in proposal_ops])
        eq(d.call("proposals.list")["count"], 0, "no proposal made")
        # the same requests with the right types are taken
        r = d.call("proposals.import", files=[("gdht.csv", CSV)], draft=True, **dict(IMPORT, **{"as": "huynh.van.nam"}))
        assert r["ok"], r
        eq(r["state"], "draft", "draft: true keeps them drafts")
        r = d.call("proposal.create", submit=False, **dict(CREATE, **{"as": "nguyen.thi.lan"}))
        assert r["ok"], r
        eq(r["proposal"]["state"], "draft", "submit: false makes a draft")
        assert d.call("units.list", all=True)["ok"]
