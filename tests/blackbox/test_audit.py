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


def ns(v):
    """a field as audit.c hashes it: a netstring of its UTF-8 bytes, NULL as '~'"""
    if v is None:
        return b"~"
    b = str(v).encode()
    return str(len(b)).encode() + b":" + b + b","


def row_hash(prev, seq, at, principal, op, obj, unit, detail):
    import hashlib
    return hashlib.sha256(b"".join(ns(v) for v in ("2", prev, seq, at, principal, op, obj, unit, detail))).hexdigest()


def row_hash_v1(prev, seq, at, principal, op, obj, unit, detail):
    import hashlib
    text = f"{prev}\n{seq}\n{at}\n{principal}\n{op}\n{obj or ''}\n{unit or ''}\n{detail}"
    return hashlib.sha256(text.encode()).hexdigest()


def head_mac(d, seq, h, v2_from, extra=""):
    import hmac
    import hashlib
    with open(os.path.join(d.dir, "audit.key")) as fp:
        key = fp.read().strip().encode()
    return hmac.new(key, f"{seq}:{h}:{v2_from}{extra}".encode(), hashlib.sha256).hexdigest()


def test_each_hash_is_the_documented_sha256_of_the_row():
    """hash = SHA-256 of the netstrings of "2", prev_hash, seq, at, principal, op, object,
    unit and detail, NULL as '~' (audit.c): recomputed here by Python's hashlib, so a chain
    written by one version of thiduad verifies with any other. The head kept in meta carries
    the HMAC-SHA256 of "seq:hash:v2_from" with the key in audit.key."""
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        submit(d, "XA-ANPHU", "h1")
        assert d.call("report.return", id="h2", unit="XA-ANPHU", report="KH-NAM", period="2025",
                      reason="Thiếu chữ ký \"gốc\"\nvà con dấu")["ok"]
        d.ctl("config", "reload")
        db = d.db()
        rows = db.execute("SELECT seq, at, principal, op, object, unit, detail, prev_hash, hash"
                          " FROM audit ORDER BY seq").fetchall()
        assert len(rows) >= 3, rows
        assert any(r[4] is None for r in rows), "a row with a NULL object (config.reload)"
        prev = "0" * 64
        for seq, at, principal, op, obj, unit, detail, prev_hash, h in rows:
            eq(prev_hash, prev, f"row {seq} links to the row before")
            eq(h, row_hash(prev_hash, seq, at, principal, op, obj, unit, detail), f"row {seq} ({op})")
            prev = h
        meta = dict(db.execute("SELECT key, value FROM meta"))
        db.close()
        eq(meta["audit_v2_from"], "1", "a new database hashes every row the new way")
        seq, h, mac = meta["audit_head"].split(":")
        eq((int(seq), h), (rows[-1][0], rows[-1][8]), "the head")
        eq(mac, head_mac(d, seq, h, 1), "the head's HMAC")
        eq(oct(os.stat(os.path.join(d.dir, "audit.key")).st_mode & 0o777), "0o600", "audit.key's mode")


def _populated(d):
    """rows 1..n, with a NULL object among them; the head verified and anchored"""
    submit(d, "XA-ANPHU", "p1")
    submit(d, "XA-BINHMY", "p2")
    d.ctl("config", "reload")
    assert d.call("report.return", id="p3", unit="XA-ANPHU", report="KH-NAM", period="2025",
                  reason="Thiếu chữ ký")["ok"]
    submit(d, "XA-THAIMY", "p4")
    mark = len(d.read_log())
    r = d.ctl("audit", "verify")
    n = r["rows"]
    d.wait_log(f"audit anchor: row {n} ", after=mark)
    with open(os.path.join(d.dir, "audit.anchor")) as fp:
        assert fp.read().startswith(f"thidua audit anchor: row {n} hash "), "the anchor file"
    return n


def _rechain(con, start):
    """an attacker's rewrite: recompute every hash from row start on, and the head"""
    prev = con.execute("SELECT hash FROM audit WHERE seq = ?", (start - 1,)).fetchone()
    prev = prev[0] if prev else "0" * 64
    for seq, at, principal, op, obj, unit, detail in con.execute(
            "SELECT seq, at, principal, op, object, unit, detail FROM audit WHERE seq >= ? ORDER BY seq",
            (start,)).fetchall():
        h = row_hash(prev, seq, at, principal, op, obj, unit, detail)
        con.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
        last = (seq, h)
        prev = h
    con.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{last[0]}:{last[1]}",))
    con.commit()


def _broken(d, first_bad, words):
    r = d.ctl("audit", "verify", ok=None)
    eq((r["valid"], r["first_bad"]), (False, first_bad), f"verify: {r.get('reason')}")
    assert words in r["reason"], r["reason"]
    rc, out = d.ctl_raw("audit", "verify")
    assert rc == 1 and "AUDIT LOG BROKEN" in out, out
    return r


def test_rows_cut_off_the_end_with_the_head_rewritten_are_found():
    """Issue 13 item 9: deleting the last rows and writing the head to match verified as
    intact. The head is signed with a key outside the database, and anchored outside it."""
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        n = _populated(d)
        con = d.db()
        con.execute("DELETE FROM audit WHERE seq > ?", (n - 2,))
        h = con.execute("SELECT hash FROM audit WHERE seq = ?", (n - 2,)).fetchone()[0]
        con.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{n - 2}:{h}",))
        con.commit()
        _broken(d, n - 2, "not signed with this daemon's key")
        # the head record removed as well: the anchor still knows where the log ended
        con.execute("DELETE FROM meta WHERE key = 'audit_head'")
        con.commit()
        _broken(d, n - 2, "head record of the log is missing")
        con.close()
        # restarted on the cut log: it says so at once and keeps the anchor where it was
        d.stop()
        d.start()
        assert f"no longer holds row {n} as anchored" in d.read_log(), d.read_log()[-3000:]
        r = _broken(d, n - 2, "head record of the log is missing")
        eq(r["anchor"]["row"], n, "the anchor stays")


def test_a_row_rewritten_with_every_later_hash_recomputed_is_found():
    """Issue 13 item 9: an edit whose chain is recomputed to the end, the head included."""
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        n = _populated(d)
        con = d.db()
        detail = json.loads(con.execute("SELECT detail FROM audit WHERE seq = 2").fetchone()[0])
        detail["unit"] = "XA-THAIMY"
        con.execute("UPDATE audit SET detail = ? WHERE seq = 2", (json.dumps(detail),))
        _rechain(con, 2)
        _broken(d, n, "not signed with this daemon's key")
        # with the signature of the head as it was: it signs the former hash, not this one
        signed = dict(con.execute("SELECT key, value FROM meta"))["audit_head"]
        eq(signed.count(":"), 1, "the attacker's head has no signature")
        h = con.execute("SELECT hash FROM audit WHERE seq = ?", (n,)).fetchone()[0]
        con.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{n}:{h}:{head_mac(d, n, 'f' * 64, 1)}",))
        con.commit()
        _broken(d, n, "not signed with this daemon's key")
        con.close()


def test_null_object_turned_into_empty_text_is_found():
    """Issue 13 item 9: the former hash joined fields with newlines and hashed NULL as '':
    changing a NULL object into '' went unnoticed. Every column counts, NULL apart."""
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        _populated(d)
        con = d.db()
        seq = con.execute("SELECT seq FROM audit WHERE object IS NULL ORDER BY seq LIMIT 1").fetchone()[0]
        con.execute("UPDATE audit SET object = '' WHERE seq = ?", (seq,))
        con.commit()
        _broken(d, seq, f"row {seq} was altered")
        con.execute("UPDATE audit SET object = NULL WHERE seq = ?", (seq,))
        con.commit()
        eq(d.ctl("audit", "verify")["valid"], True, "restored")
        con.close()


def test_a_database_of_the_former_hash_verifies_and_goes_on_anchored():
    """Upgrading: rows written by an older thiduad (the former hash, a head without a
    signature, no key, no anchor) still verify, counted as legacy_rows; rows written after
    the upgrade use the new hash and the signed, anchored head."""
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        submit(d, "XA-ANPHU", "o1")
        d.ctl("config", "reload")
        submit(d, "XA-BINHMY", "o2")
        d.stop()
        # make it what the former thiduad left
        con = d.db()
        prev = "0" * 64
        rows = con.execute("SELECT seq, at, principal, op, object, unit, detail FROM audit ORDER BY seq").fetchall()
        for seq, at, principal, op, obj, unit, detail in rows:
            h = row_hash_v1(prev, seq, at, principal, op, obj, unit, detail)
            con.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
            prev = h
        old = len(rows)
        con.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{old}:{prev}",))
        con.execute("DELETE FROM meta WHERE key = 'audit_v2_from'")
        con.commit()
        con.close()
        os.unlink(os.path.join(d.dir, "audit.key"))
        os.unlink(os.path.join(d.dir, "audit.anchor"))
        d.start()
        assert f"rows 1 to {old} keep their former hash" in d.read_log(), d.read_log()[-3000:]
        r = d.ctl("audit", "verify")
        eq((r["valid"], r["rows"], r["legacy_rows"]), (True, old, old), "the former rows verify")
        submit(d, "XA-THAIMY", "o3")
        r = d.ctl("audit", "verify")
        eq((r["valid"], r["rows"], r["legacy_rows"]), (True, old + 1, old), "and the new one")
        con = d.db()
        row = con.execute("SELECT seq, at, principal, op, object, unit, detail, prev_hash, hash FROM audit"
                          " WHERE seq = ?", (old + 1,)).fetchone()
        eq(row[8], row_hash(row[7], *row[:7]), "a row after the upgrade: the new hash")
        # a former row edited is still found (its hash covers its content)
        con.execute("UPDATE audit SET principal = 'xa-anphu' WHERE seq = 1")
        con.commit()
        con.close()
        _broken(d, 1, "row 1 was altered")


def test_a_verify_in_the_same_turn_as_writes_sees_them_whole():
    """The head a turn writes is signed when the turn commits: a verify that runs in that
    turn, after the writes, must not take it for an unsigned one."""
    import zmq
    with Daemon(start_at="2025-02-10T09:00:00+07:00") as d:
        submit(d, "XA-ANPHU", "t0")
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 20000)
        s.connect(d.endpoint)
        try:
            for i, unit in enumerate(("XA-BINHMY", "XA-THAIMY")):     # one burst: usually one turn
                s.send_multipart([b"", json.dumps({"op": "report.submit", "id": f"t{i + 1}", "unit": unit,
                                                   "report": "KH-NAM", "period": "2025",
                                                   "files": ["ke-hoach.pdf"]}).encode(), DOC])
                s.send_multipart([b"", json.dumps({"op": "audit.verify", "id": f"v{i + 1}"}).encode()])
            replies = {}
            for _ in range(4):
                r = json.loads(s.recv_multipart()[-1])
                replies[r["id"]] = r
        finally:
            s.close()
        for rid in ("v1", "v2"):
            assert replies[rid]["ok"] and replies[rid]["valid"], replies[rid]
        eq(d.ctl("audit", "verify")["valid"], True, "after the commit")
