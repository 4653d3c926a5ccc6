"""The authorization table of docs/PROTOCOL.md, section 9, row by row over tcp: each
principal speaks with its own CURVE key. A principal reads its own unit and the units
under it, what its unit receives and what waits for its decision; an auditor reads
everything and changes nothing; lists hold only the rows their reader may read."""
import hashlib
import json
import re
import time

from harness import eq, served_ops
from keyed import Keyed

DOC = "Báo cáo kết quả năm 2024".encode()
CSV = ("code,name,hamlet,TC1,TC2,TC3,TC4\n"
       "HGD-00001,Hộ ông Nguyễn Văn Một,AP-PHD-PHULOI,28,27,18,15\n").encode()
ALL_OBLIGATED = 33      # BC-NAM 2024: 21 communes, 3 offices, 7 organisations, 2 enterprises


class Table:
    def __init__(self, k):
        self.k = k
        self.ops = set()

    def ok(self, who, op, files=(), **f):
        self.ops.add(op)
        r = self.k.call(who, op, files=files, **f)
        assert r["ok"], (who, op, f, r)
        return r

    def no(self, who, op, code="forbidden", files=(), **f):
        self.ops.add(op)
        r = self.k.call(who, op, files=files, **f)
        assert not r["ok"], (who, op, f, r)
        eq(r["error"]["code"], code, f"{who} {op} {f}: {r['error']['message']}")
        return r["error"]["message"]


def test_every_row_of_the_authorization_table_over_tcp():
    with Keyed(start_at="2024-11-10T09:00:00+07:00", events=True) as k:
        t = Table(k)
        sub = lambda who, unit: t.ok(who, "report.submit", files=[("bao-cao.pdf", DOC)], unit=unit, report="BC-NAM",
                                     period="2024")["receipt"]["number"]
        r_lan = sub("nguyen.thi.lan", "XA-ANPHU")
        r_nam = sub("huynh.van.nam", "XA-PHUHOADONG")
        # reference data and the daemon: any principal, the most limited too
        for op, f in (("status", {}), ("units.list", {}), ("units.show", {"code": "XA-ANPHU"}), ("clock.show", {}),
                      ("reports.list", {}), ("calendar.show", {"month": "2024-11"}), ("deadlines", {}),
                      ("titles.list", {})):
            t.ok("tran.thi.thu", op, **f)
            t.ok("kiem.toan", op, **f)
        # uploads: any principal stages its own; another's id is unknown to it
        up = t.ok("tran.thi.thu", "upload.open")["upload"]
        t.ok("tran.thi.thu", "upload.append", files=[("p", b"part")], upload=up, offset=0)
        t.no("kiem.toan", "upload.append", code="unknown_upload", files=[("p", b"x")], upload=up, offset=4)
        t.no("kiem.toan", "upload.cancel", code="unknown_upload", upload=up)
        t.ok("tran.thi.thu", "upload.cancel", upload=up)

        # report.receipt: the unit, the units above it, the receiving office, the auditor
        for who in ("nguyen.thi.lan", "pham.minh.tuan", "doan.van.hung", "tran.van.binh", "le.thi.hoa", "kiem.toan"):
            eq(t.ok(who, "report.receipt", number=r_lan)["receipt"]["unit"], "XA-ANPHU", who)
        for who in ("huynh.van.nam", "tran.thi.thu", "hoang.thi.mai", "vo.thanh.son", "ngo.thi.kim"):
            msg = t.no(who, "report.receipt", number=r_lan)
            assert who in msg and "auditor" in msg, msg
        t.ok("huynh.van.nam", "report.receipt", number=r_nam)
        t.no("nguyen.thi.lan", "report.receipt", number=r_nam)
        # the local administrator acting as a principal is held to the same row
        t.no("admin", "report.receipt", number=r_nam, **{"as": "nguyen.thi.lan"})

        # obligations.list: only what the reader reads
        def units_of(who, **f):
            return {o["unit"] for o in t.ok(who, "obligations.list", report="BC-NAM", period="2024", **f)["obligations"]}
        eq(units_of("nguyen.thi.lan"), {"XA-ANPHU"}, "a commune: its own")
        eq(units_of("huynh.van.nam"), {"XA-PHUHOADONG"}, "another commune: its own")
        eq(units_of("nguyen.thi.lan", unit="XA-PHUHOADONG"), set(), "a filter does not widen it")
        eq(units_of("tran.thi.thu"), set(), "a hamlet owes nothing of it")
        eq(len(units_of("tran.van.binh")), ALL_OBLIGATED, "the receiving office: everything it receives")
        eq(len(units_of("pham.minh.tuan")), ALL_OBLIGATED, "the district: its subtree")
        eq(len(units_of("kiem.toan")), ALL_OBLIGATED, "the auditor")
        eq(len(units_of("admin")), ALL_OBLIGATED, "the local administrator")
        eq(units_of("hoang.thi.mai"), set(), "the city's office of education reads none of Củ Chi's")
        # with files: each row's receipt's files, for the rows the reader reads and no other
        def files_of(who):
            rows = t.ok(who, "obligations.list", report="BC-NAM", period="2024", with_files=True)["obligations"]
            return {o["receipt"]: [f["sha256"] for f in o["files"]] for o in rows if o["files"]}
        sha = hashlib.sha256(DOC).hexdigest()
        eq(files_of("nguyen.thi.lan"), {r_lan: [sha]}, "a commune: its own receipt's files")
        eq(files_of("tran.van.binh"), {r_lan: [sha], r_nam: [sha]}, "the receiving office: all it receives")
        eq(files_of("hoang.thi.mai"), {}, "none of another office's")
        # units.show with codes: the registry, for any principal
        eq([u["code"] for u in t.ok("tran.thi.thu", "units.show", codes=["XA-PHUHOADONG", "XA-ANPHU"])["units"]],
           ["XA-PHUHOADONG", "XA-ANPHU"], "in the order asked")

        # completeness: the subtree counted, or the receiving office
        for who in ("tran.van.binh", "pham.minh.tuan", "kiem.toan"):
            t.ok(who, "completeness", report="BC-NAM", period="2024")
        t.ok("huynh.van.nam", "completeness", report="BC-NAM", period="2024", under="XA-PHUHOADONG")
        for who in ("nguyen.thi.lan", "ngo.thi.kim", "hoang.thi.mai"):
            t.no(who, "completeness", report="BC-NAM", period="2024")

        # schedule: the unit's own readers
        for who in ("nguyen.thi.lan", "pham.minh.tuan", "kiem.toan"):
            t.ok(who, "schedule", unit="XA-ANPHU")
        for who in ("huynh.van.nam", "tran.van.binh", "tran.thi.thu"):
            t.no(who, "schedule", unit="XA-ANPHU")

        # notifications: the clock runs past the due date; messages go to late units
        t.ok("admin", "clock.advance", by="10d")
        page = t.ok("kiem.toan", "notifications.list", limit=1000)
        assert not page["more"], "one page holds them all"
        everything = page["notifications"]
        assert everything, "messages were made"
        eq(len(everything), len(t.ok("admin", "notifications.list", limit=1000)["notifications"]), "auditor sees all")
        recipients = {n["recipient"] for n in everything}
        mine = [n for n in everything if n["recipient"] == "XA-TRUNGAN"]
        other = [n for n in everything if n["recipient"] == "XA-THAIMY"]
        assert mine and other, recipients
        got = {n["recipient"] for n in t.ok("huynh.van.nam", "notifications.list", limit=1000)["notifications"]}
        assert got <= {"XA-PHUHOADONG", "AP-PHD-PHULOI", "AP-PHD-PHUHIEP", "AP-PHD-PHUTHUAN"}, got
        listed = t.ok("pham.minh.tuan", "notifications.list", limit=1)
        eq((listed["count"], listed["more"]), (1, True), "limit and more count what it reads")
        t.ok("pham.minh.tuan", "notifications.show", notification=mine[0]["id"])
        t.ok("kiem.toan", "notifications.show", notification=other[0]["id"])
        t.no("huynh.van.nam", "notifications.show", notification=mine[0]["id"])
        t.no("tran.thi.thu", "notifications.show", notification=other[0]["id"])

        # proposals: the proposer, its deciders (now and before), the units above, the auditor
        p = t.ok("ngo.thi.kim", "proposal.create", files=[("tờ trình.pdf", DOC)], programme="BK-TT", year=2024,
                 unit="CUCHI-HKH", nominee="CHKH-PHULOI", nominee_name="Chi hội Khuyến học ấp Phú Lợi",
                 submit=True)["proposal"]
        eq(p["decider"], "CUCHI", "waits for the district")
        for who in ("ngo.thi.kim", "pham.minh.tuan", "doan.van.hung", "kiem.toan"):
            t.ok(who, "proposal.show", proposal=p["id"])
        for who in ("nguyen.thi.lan", "tran.van.binh", "hoang.thi.mai"):
            t.no(who, "proposal.show", proposal=p["id"])
        # a dossier's file: whoever reads the proposal (its reply ends with the file frame)
        sha = hashlib.sha256(DOC).hexdigest()
        t.ops.add("proposal.file")
        for who in ("ngo.thi.kim", "pham.minh.tuan", "kiem.toan"):
            s = k.sock(who)
            s.send_multipart([b"", json.dumps({"op": "proposal.file", "proposal": p["id"], "sha256": sha}).encode()])
            frames = s.recv_multipart()
            got = json.loads(frames[1])
            eq((got["name"], got["sha256"], frames[2]), ("tờ trình.pdf", sha, DOC), f"{who} downloads the file")
        for who in ("nguyen.thi.lan", "tran.van.binh", "hoang.thi.mai"):
            t.no(who, "proposal.file", proposal=p["id"], sha256=sha)
        ids = lambda who: [x["id"] for x in t.ok(who, "proposals.list")["proposals"]]
        eq(ids("ngo.thi.kim"), [p["id"]], "the proposer lists it")
        eq(ids("nguyen.thi.lan"), [], "another unit does not")
        t.ok("pham.minh.tuan", "proposal.decide", proposal=p["id"], action="approve", reason="Tiêu biểu")
        t.ok("pham.minh.tuan", "proposal.show", proposal=p["id"])   # decided before: still reads it

        # the audit log: auditors only (and an admin of a top unit, the local administrator)
        eq(t.ok("kiem.toan", "audit.verify")["valid"], True, "verify")
        assert t.ok("kiem.toan", "audit.list")["rows"], "rows"
        for who in ("nguyen.thi.lan", "pham.minh.tuan", "doan.van.hung"):
            t.no(who, "audit.list")
            t.no(who, "audit.verify")
        # stored files are checked by the system's administrators only
        eq(t.ok("admin", "files.verify")["valid"], True, "files verify")
        for who in ("kiem.toan", "nguyen.thi.lan", "pham.minh.tuan"):
            t.no(who, "files.verify")
        # delivery channels: their state and their settings are the administrators' only
        assert isinstance(t.ok("admin", "channels.list")["channels"], list), "channels"
        for who in ("kiem.toan", "nguyen.thi.lan", "pham.minh.tuan"):
            t.no(who, "channels.list")
            t.no(who, "channels.enable", channel="spool")
            # a Zalo app's secret key and tokens: the administrators' only
            t.no(who, "zalo.app", channel="spool")
            t.no(who, "zalo.store", channel="spool", access_token="a", refresh_token="r", expires_in=90000)
        # backups hold every unit's records and the audit key: the system's administrators only
        name = t.ok("admin", "backup.create")["backup"]["name"]
        for _ in range(4000):      # the archive is written between turns: until it is done
            state = t.ok("admin", "backup.status", backup=name)["backup"]["state"]
            if state != "running":
                break
            time.sleep(0.005)
        eq(state, "done", "backup")
        eq(t.ok("admin", "backup.read", backup=name, offset=0)["offset"], 0, "backup read")
        for who in ("kiem.toan", "nguyen.thi.lan", "pham.minh.tuan"):
            t.no(who, "backup.create")
            t.no(who, "backup.status")
            t.no(who, "backup.read", backup=name, offset=0)

        # the auditor changes nothing
        n = k.d.db().execute("SELECT count(*) FROM audit").fetchone()[0]
        t.no("kiem.toan", "report.submit", files=[("x.pdf", DOC)], unit="XA-TRUNGAN", report="BC-NAM", period="2024")
        for op in ("report.accept", "report.return", "report.waive"):
            t.no("kiem.toan", op, unit="XA-ANPHU", report="BC-NAM", period="2024", reason="x")
        t.no("kiem.toan", "units.import", files=[("u.csv", b"code,name,level,kind\n")])
        t.no("kiem.toan", "clock.set", to="2024-12-31")
        t.no("kiem.toan", "clock.advance", by="1d")
        t.no("kiem.toan", "config.reload")
        t.no("kiem.toan", "notifications.retry", notification=1)
        t.no("kiem.toan", "notify.test", channel="x")
        # the inbox of replies by mail: delivered by the local administrator only; read by
        # the receiving offices (each its reports' mail: test_mailin_held) and by those who
        # read everything
        for who in ("kiem.toan", "nguyen.thi.lan", "pham.minh.tuan"):
            t.no(who, "inbox.deliver", inbox="x.eml")
            eq(t.ok(who, "inbox.list")["messages"], [], f"{who}: no mail yet")
            t.no(who, "inbox.show", code="not_found", message=1)
        eq(t.ok("admin", "inbox.list")["messages"], [], "an admin of a top unit reads the inbox")
        t.no("admin", "inbox.show", code="not_found", message=1)
        t.no("admin", "inbox.deliver", code="not_found", inbox="x.eml")
        # a receipt's file: whoever reads the receipt (its reply ends with the file frame)
        sha = hashlib.sha256(DOC).hexdigest()
        t.ops.add("report.file")
        for who in ("nguyen.thi.lan", "tran.van.binh", "kiem.toan"):
            s = k.sock(who)
            s.send_multipart([b"", json.dumps({"op": "report.file", "receipt": r_lan, "sha256": sha}).encode()])
            frames = s.recv_multipart()
            eq((json.loads(frames[1])["sha256"], frames[2]), (sha, DOC), f"{who} downloads the file")
        for who in ("huynh.van.nam", "tran.thi.thu", "hoang.thi.mai"):
            t.no(who, "report.file", receipt=r_lan, sha256=sha)
        # accounts: an admin of a top unit and the local administrator; the list, the auditor too
        for who in ("kiem.toan", "nguyen.thi.lan", "pham.minh.tuan"):
            t.no(who, "account.invite", name="tran.thi.thu")
            t.no(who, "account.passwd", password="mật khẩu đủ dài", name="tran.thi.thu")
            t.no(who, "account.lock", name="tran.thi.thu")
            t.no(who, "account.unlock", name="tran.thi.thu")
        eq(len(t.ok("kiem.toan", "accounts.list")["accounts"]), len(t.ok("admin", "accounts.list")["accounts"]), "auditor")
        t.no("nguyen.thi.lan", "accounts.list")
        # logins come from the web socket or the local administrator, not a principal's key
        t.no("nguyen.thi.lan", "session.login", password="mật khẩu đủ dài", name="nguyen.thi.lan")
        t.no("kiem.toan", "session.redeem", token="0" * 64, password="mật khẩu đủ dài")
        t.no("nguyen.thi.lan", "session.show", code="session_expired", session="0" * 64)
        t.no("nguyen.thi.lan", "session.logout", code="session_expired", session="0" * 64)
        # the decision on held mail: the receiving office's reviewers, approvers and admins
        for op, extra in (("inbox.accept", {}), ("inbox.reject", {"reason": "x"}), ("inbox.retry", {})):
            t.no("kiem.toan", op, message=1, **extra)
            t.no("admin", op, code="not_found", message=1, **extra)
        t.no("kiem.toan", "proposal.create", code="not_permitted", programme="BK-TT", year=2024, unit="CUCHI-HKH",
             nominee="CHKH-PHULOI", nominee_name="Chi hội")
        draft = t.ok("nguyen.thi.lan", "proposal.create", programme="CDHT-XA", year=2025, unit="XA-ANPHU")["proposal"]
        n = k.d.db().execute("SELECT count(*) FROM audit").fetchone()[0]
        t.no("kiem.toan", "proposal.submit", code="not_permitted", proposal=draft["id"])
        t.no("kiem.toan", "proposal.decide", code="not_permitted", proposal=p["id"], action="approve",
             decision_no="1/QĐ")
        t.no("kiem.toan", "proposal.withdraw", code="not_permitted", proposal=p["id"])
        t.no("kiem.toan", "proposals.import", code="not_permitted", files=[("g.csv", CSV)], programme="GDHT",
             year=2025, unit="XA-PHUHOADONG", filename="g.csv")
        eq(k.d.db().execute("SELECT count(*) FROM audit").fetchone()[0], n, "the auditor changed nothing")
        # and those writes stay with the roles the table names
        t.ok("tran.van.binh", "report.accept", unit="XA-ANPHU", report="BC-NAM", period="2024")
        t.ok("le.thi.hoa", "report.return", unit="XA-ANPHU", report="BC-NAM", period="2024", reason="Thiếu phụ lục")
        t.no("nguyen.thi.lan", "report.waive", unit="XA-PHUHOADONG", report="BC-NAM", period="2024", reason="x")
        t.no("pham.minh.tuan", "clock.advance", by="1d")

        # every op of the daemon is a row here
        eq(set(served_ops()) - t.ops, set(), "ops without a row tested over tcp")


def test_events_over_tcp_are_for_those_who_read_everything():
    with Keyed(start_at="2024-11-10T09:00:00+07:00", events=True) as k:
        auditor = k.subscriber("kiem.toan")
        lan = k.subscriber("nguyen.thi.lan")
        for _ in range(100):        # the subscription travels in the background: until it is seen
            assert k.call("admin", "config.reload")["ok"]
            if auditor.poll(100):
                break
        else:
            raise AssertionError("the auditor got no event in 10 s")
        k.d.wait_log("refused a events connection")
        assert k.keys["nguyen.thi.lan"][0].decode() in k.d.read_log(), "the refused key is logged"
        r = k.call("huynh.van.nam", "report.submit", files=[("b.pdf", DOC)], unit="XA-PHUHOADONG", report="BC-NAM",
                   period="2024")
        assert r["ok"], r
        topics = []
        while auditor.poll(2000):
            topics.append(auditor.recv_multipart()[0].decode())
            if "report.submitted" in topics:
                break
        assert "report.submitted" in topics, topics
        assert not lan.poll(0), "a commune's key gets no event"
