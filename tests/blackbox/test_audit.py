"""The audit log: every change appends a row chained to the one before; audit verify names
the first row altered (with sqlite3, behind the daemon's back) or removed."""
import json
import sqlite3
import os

from harness import Daemon, eq

DOC = "Kế hoạch năm 2025".encode()


def submit(d, unit, rid):
    r = d.call("report.submit", id=rid, files=(("ke-hoach.pdf", DOC),), unit=unit, report="KH-NAM", period="2025")
    assert r["ok"], r
    return r


def test_every_change_is_chained_and_verify_finds_an_edit_and_a_removal():
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        submit(d, "XA-ANPHU", "a1")
        submit(d, "XA-BINHMY", "a2")
        assert d.call("report.return", id="r1", unit="XA-ANPHU", report="KH-NAM", period="2025",
                      reason="Thiếu chữ ký")["ok"]
        d.ctl("config", "reload")
        rows = d.ctl("audit", "list")["rows"]
        ops = [r["op"] for r in reversed(rows)]
        for op in ("report.submit", "report.return", "config.reload"):
            assert op in ops, ops
        ret = next(r for r in rows if r["op"] == "report.return")
        eq((ret["unit"], ret["object"], ret["principal"]), ("XA-ANPHU", "KH-NAM/2025", "admin"), "row fields")
        eq(ret["detail"]["reason"], "Thiếu chữ ký", "Vietnamese detail")
        eq(d.ctl("audit", "list", "--unit", "XA-BINHMY")["count"], 1, "filter by unit")
        rc, out = d.ctl_raw("audit", "verify")
        assert rc == 0 and "intact" in out, out
        n = d.ctl("audit", "verify")["rows"]

        # someone edits a row directly
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        original = con.execute("SELECT detail FROM audit WHERE seq = 2").fetchone()[0]
        detail = json.loads(original)
        detail["unit"] = "XA-THAIMY"
        con.execute("UPDATE audit SET detail = ? WHERE seq = 2", (json.dumps(detail),))
        con.commit()
        r = d.ctl("audit", "verify", ok=None)
        eq((r["valid"], r["first_bad"]), (False, 2), "edited row named")
        rc, out = d.ctl_raw("audit", "verify")
        assert rc == 1 and "row 2 was altered" in out, out
        con.execute("UPDATE audit SET detail = ? WHERE seq = 2", (original,))
        con.commit()

        eq(d.ctl("audit", "verify")["valid"], True, "restored byte for byte")
        # someone removes the last row
        con.execute("DELETE FROM audit WHERE seq = ?", (n,))
        con.commit()
        r = d.ctl("audit", "verify", ok=None)
        eq((r["valid"], r["first_bad"]), (False, n), "removed row named")
        # and one in the middle
        con.execute("DELETE FROM audit WHERE seq = 1")
        con.commit()
        r = d.ctl("audit", "verify", ok=None)
        eq((r["valid"], r["first_bad"]), (False, 1), "gap named")
        con.close()


def test_each_hash_is_the_documented_sha256_of_the_row():
    """hash = SHA-256 of prev_hash, seq, at, principal, op, object, unit and detail, each but
    the last followed by a newline (audit.c): recomputed here by Python's hashlib, so a
    chain written by one version of thiduad verifies with any other"""
    import hashlib
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        submit(d, "XA-ANPHU", "h1")
        assert d.call("report.return", id="h2", unit="XA-ANPHU", report="KH-NAM", period="2025",
                      reason="Thiếu chữ ký \"gốc\"\nvà con dấu")["ok"]
        d.ctl("config", "reload")
        rows = d.db().execute("SELECT seq, at, principal, op, object, unit, detail, prev_hash, hash"
                              " FROM audit ORDER BY seq").fetchall()
        assert len(rows) >= 3, rows
        prev = "0" * 64
        for seq, at, principal, op, obj, unit, detail, prev_hash, h in rows:
            eq(prev_hash, prev, f"row {seq} links to the row before")
            text = f"{prev_hash}\n{seq}\n{at}\n{principal}\n{op}\n{obj or ''}\n{unit or ''}\n{detail}"
            eq(h, hashlib.sha256(text.encode()).hexdigest(), f"row {seq} ({op})")
            prev = h
