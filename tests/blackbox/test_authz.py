"""The authorization table, walked whole: for every op, a principal the table allows gets
past authorization (any later error is about the request itself) and one it refuses gets
'forbidden' (or 'unknown_principal'), and nothing changes."""
from harness import Daemon, eq

REFUSED = ("forbidden", "unknown_principal")

# op: (fields, allowed principal, refused principal)
TABLE = {
    "status": ({}, "ngo.thi.kim", "ke.la"),
    "units.list": ({}, "tran.thi.thu", "ke.la"),
    "units.show": ({"code": "XA-ANPHU"}, "tran.thi.thu", "ke.la"),
    "units.import": ({"filename": "x.csv"}, "admin", "tran.van.binh"),
    "clock.show": ({}, "tran.thi.thu", "ke.la"),
    "clock.set": ({"to": "2024-11-11"}, "admin", "tran.van.binh"),
    "clock.advance": ({"by": "1m"}, "admin", "pham.minh.tuan"),
    "config.reload": ({}, "admin", "hoang.thi.mai"),
    "report.submit": ({"unit": "XA-ANPHU", "report": "BC-NAM", "period": "2024"}, "nguyen.thi.lan", "huynh.van.nam"),
    "report.receipt": ({"number": "BN-2024-000001"}, "tran.thi.thu", "ke.la"),
    "report.accept": ({"unit": "XA-ANPHU", "report": "BC-NAM", "period": "2024"}, "tran.van.binh", "nguyen.thi.lan"),
    "report.return": ({"unit": "XA-ANPHU", "report": "BC-NAM", "period": "2024", "reason": "x"}, "le.thi.hoa", "pham.minh.tuan"),
    "report.waive": ({"unit": "XA-ANPHU", "report": "BC-NAM", "period": "2024", "reason": "x"}, "tran.van.binh", "huynh.van.nam"),
    "obligations.list": ({}, "tran.thi.thu", "ke.la"),
    "completeness": ({"report": "BC-NAM", "period": "2024"}, "tran.van.binh", "tran.thi.thu"),
    "reports.list": ({}, "tran.thi.thu", "ke.la"),
    "calendar.show": ({"month": "2024-09"}, "tran.thi.thu", "ke.la"),
    "deadlines": ({}, "tran.thi.thu", "ke.la"),
    "schedule": ({"unit": "XA-ANPHU"}, "nguyen.thi.lan", "tran.thi.thu"),
    "notifications.list": ({}, "tran.thi.thu", "ke.la"),
    "notifications.show": ({"notification": 1}, "tran.thi.thu", "ke.la"),
    "notifications.retry": ({"notification": 1}, "admin", "tran.van.binh"),
    "notify.test": ({"channel": "none"}, "admin", "doan.van.hung"),
    "channels.list": ({}, "admin", "tran.thi.thu"),
    "channels.enable": ({"channel": "none"}, "admin", "tran.van.binh"),
    "zalo.app": ({"channel": "none"}, "admin", "tran.van.binh"),
    "zalo.store": ({"channel": "none"}, "admin", "tran.thi.thu"),
    "audit.list": ({}, "admin", "tran.thi.thu"),
    "audit.verify": ({}, "admin", "pham.minh.tuan"),
    "files.verify": ({}, "admin", "tran.van.binh"),
    "backup.create": ({}, "admin", "pham.minh.tuan"),
    "backup.status": ({}, "admin", "tran.thi.thu"),
    "backup.read": ({"backup": "thidua-x", "offset": 0}, "admin", "tran.van.binh"),
    "proposal.create": ({}, "nguyen.thi.lan", "ke.la"),
    "proposal.submit": ({"proposal": 1}, "nguyen.thi.lan", "ke.la"),
    "proposal.decide": ({"proposal": 1, "action": "approve"}, "tran.van.binh", "ke.la"),
    "proposal.withdraw": ({"proposal": 1}, "nguyen.thi.lan", "ke.la"),
    "proposal.show": ({"proposal": 1}, "tran.thi.thu", "ke.la"),
    "proposals.list": ({}, "tran.thi.thu", "ke.la"),
    "proposals.import": ({}, "huynh.van.nam", "ke.la"),
    "titles.list": ({}, "tran.thi.thu", "ke.la"),
    "inbox.deliver": ({"inbox": "none.eml"}, "admin", "tran.van.binh"),
    "inbox.list": ({}, "tran.van.binh", "ke.la"),
    "inbox.show": ({"message": 1}, "tran.van.binh", "ke.la"),
    "inbox.accept": ({"message": 1}, "tran.van.binh", "ngo.thi.kim"),
    "inbox.reject": ({"message": 1, "reason": "x"}, "le.thi.hoa", "tran.thi.thu"),
    "inbox.retry": ({"message": 1}, "tran.van.binh", "ke.la"),
    "account.invite": ({"name": "tran.thi.thu"}, "admin", "tran.van.binh"),
    "account.passwd": ({"name": "tran.thi.thu"}, "admin", "hoang.thi.mai"),
    "account.lock": ({"name": "tran.thi.thu"}, "admin", "doan.van.hung"),
    "account.unlock": ({"name": "tran.thi.thu"}, "admin", "nguyen.thi.lan"),
    "accounts.list": ({}, "admin", "tran.thi.thu"),
    "session.login": ({"name": "tran.thi.thu", "password": "x"}, "admin", "tran.thi.thu"),
    "session.redeem": ({"token": "0" * 64, "password": "x"}, "admin", "hoang.thi.mai"),
    "session.show": ({"session": "0" * 64}, "admin", "ke.la"),
    "session.logout": ({"session": "0" * 64}, "admin", "ke.la"),
    "report.file": ({"receipt": "BN-2024-000001", "sha256": "0" * 64}, "tran.thi.thu", "ke.la"),
    "proposal.file": ({"proposal": 1, "sha256": "0" * 64}, "tran.thi.thu", "ke.la"),
    "upload.open": ({}, "ngo.thi.kim", "ke.la"),
    "upload.append": ({"upload": "0" * 32, "offset": 0}, "ngo.thi.kim", "ke.la"),
    "upload.cancel": ({"upload": "0" * 32}, "ngo.thi.kim", "ke.la"),
}


def test_the_whole_authorization_table():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        ops = set(TABLE)
        for op, (fields, allowed, refused) in sorted(TABLE.items()):
            kw = dict(fields)
            if allowed != "admin":
                kw["as"] = allowed
            r = d.call(op, id=f"{op}-ok", **kw)
            code = r.get("error", {}).get("code")
            assert r["ok"] or code not in REFUSED, (op, allowed, r)
            while op == "backup.create" and d.call("backup.status")["backup"]["state"] == "running":
                pass        # the finished backup is audited: wait for it before counting rows
            n = d.db().execute("SELECT count(*) FROM audit").fetchone()[0]
            r = d.call(op, id=f"{op}-no", **dict(fields, **{"as": refused}))
            assert not r["ok"] and r["error"]["code"] in REFUSED, (op, refused, r)
            assert r["error"]["message"], r
            eq(d.db().execute("SELECT count(*) FROM audit").fetchone()[0], n, f"{op} refused but recorded a change")
        # the table covers every op the daemon has: an op missing here would be untested
        from harness import served_ops
        table_ops = set(served_ops())
        eq(table_ops - ops, set(), "ops without an authorization test")


def test_a_principal_flooding_the_daemon_is_limited_and_others_are_served():
    import os
    import tempfile
    from harness import CONFIG, write
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "limited.cfg")
        write(cfg, open(CONFIG, encoding="utf-8").read().replace("daemon = {", "daemon = {\n  requests_per_second = 5;", 1))
        with Daemon(config=cfg, start_at="2024-11-10T09:00:00+07:00") as d:
            import json
            import zmq
            s = zmq.Context.instance().socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVTIMEO, 5000)
            s.connect(d.endpoint)
            for i in range(40):
                s.send_multipart([b"", json.dumps({"op": "status", "id": f"f{i}", "as": "tran.thi.thu"}).encode()])
            codes = [json.loads(s.recv_multipart()[-1]).get("error", {}).get("code") for _ in range(40)]
            s.close()
            limited = codes.count("rate_limited")
            assert 20 <= limited <= 35, codes
            assert d.call("status", **{"as": "ngo.thi.kim"})["ok"], "another principal is served"
            assert d.call("status")["ok"], "the local administrator is not limited"
