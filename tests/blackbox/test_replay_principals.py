"""Request ids are each principal's own: two principals over tcp sending the same id are
two requests, each stored with its own receipt; the local administrator acting as a
principal counts as that principal."""
import os
import sqlite3

from harness import Daemon, eq
from keyed import Keyed
from test_intake import UNDO_13_TO_17

DOC_LAN = "Báo cáo năm 2024 của xã An Phú".encode()
DOC_NAM = "Báo cáo năm 2024 của xã Phú Hòa Đông".encode()


def submit(k, who, unit, doc, rid, **kw):
    return k.call(who, "report.submit", files=[("bao-cao.pdf", doc)], id=rid, unit=unit, report="BC-NAM",
                  period="2024", **kw)


def test_two_principals_with_the_same_request_id_both_store():
    with Keyed(auditor=False) as k:
        a = submit(k, "nguyen.thi.lan", "XA-ANPHU", DOC_LAN, "req-1")
        b = submit(k, "huynh.van.nam", "XA-PHUHOADONG", DOC_NAM, "req-1")
        assert a["ok"] and b["ok"], (a, b)
        assert "replayed" not in b, b
        ra, rb = a["receipt"], b["receipt"]
        assert ra["number"] != rb["number"], (ra, rb)
        eq((rb["unit"], rb["files"][0]["size"]), ("XA-PHUHOADONG", len(DOC_NAM)), "her own receipt")
        # each one's retry replays its own first reply
        a2 = submit(k, "nguyen.thi.lan", "XA-ANPHU", DOC_LAN, "req-1")
        b2 = submit(k, "huynh.van.nam", "XA-PHUHOADONG", DOC_NAM, "req-1")
        eq((a2.get("replayed"), a2["receipt"]["number"]), (True, ra["number"]), "lan's retry")
        eq((b2.get("replayed"), b2["receipt"]["number"]), (True, rb["number"]), "nam's retry")
        # the local administrator acting as nam is nam: the same id replays nam's receipt
        b3 = submit(k, "admin", "XA-PHUHOADONG", DOC_NAM, "req-1", **{"as": "huynh.van.nam"})
        eq((b3.get("replayed"), b3["receipt"]["number"]), (True, rb["number"]), "admin --as nam")
        # and as itself the administrator has its own ids: a new request
        c = submit(k, "admin", "XA-TRUNGAN", DOC_NAM, "req-1")
        assert c["ok"] and "replayed" not in c, c
        # with another op under one principal's id: id_reused, for that principal only
        r = k.call("nguyen.thi.lan", "proposal.create", id="req-1", programme="CDHT-XA", year=2025, unit="XA-ANPHU")
        eq(r["error"]["code"], "id_reused", r)
        con = k.d.db()
        eq(sorted(con.execute("SELECT s.principal, f.size FROM submissions s JOIN submission_files f"
                              " ON f.submission = s.id").fetchall()),
           sorted([("admin", len(DOC_NAM)), ("huynh.van.nam", len(DOC_NAM)), ("nguyen.thi.lan", len(DOC_LAN))]),
           "every submission stored once, with its own file")
        eq(sorted(con.execute("SELECT principal, id FROM requests").fetchall()),
           [("admin", "req-1"), ("huynh.van.nam", "req-1"), ("nguyen.thi.lan", "req-1")], "ids per principal")


def test_ids_recorded_before_the_upgrade_keep_their_principal():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        a = d.call("report.submit", files=[("a.pdf", DOC_LAN)], id="old-1", unit="XA-ANPHU", report="BC-NAM",
                   period="2024", **{"as": "nguyen.thi.lan"})
        b = d.call("report.waive", id="old-2", unit="XA-BINHMY", report="BC-NAM", period="2024", reason="sáp nhập")
        assert a["ok"] and b["ok"], (a, b)
        d.stop()
        # the table as schema 11 had it
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        con.executescript("""
            CREATE TABLE r11 (id TEXT PRIMARY KEY, op TEXT NOT NULL, reply TEXT NOT NULL, at INTEGER NOT NULL, key TEXT);
            INSERT INTO r11 SELECT id, op, reply, at, key FROM requests;
            DROP TABLE requests;
            ALTER TABLE r11 RENAME TO requests;
            """ + UNDO_13_TO_17 + """
            PRAGMA user_version = 11;
        """)
        con.close()
        d.start()
        eq(sorted(d.db().execute("SELECT principal, id FROM requests").fetchall()),
           [("admin", "old-2"), ("nguyen.thi.lan", "old-1")], "principals from the audit log")
        r = d.call("report.submit", files=[("a.pdf", DOC_LAN)], id="old-1", unit="XA-ANPHU", report="BC-NAM",
                   period="2024", **{"as": "nguyen.thi.lan"})
        eq((r.get("replayed"), r["receipt"]["number"]), (True, a["receipt"]["number"]), "still replayed")
