"""Issue 3: obligations, durable submissions with receipts, review, completeness."""
import json
import os
import signal
import sqlite3
import threading

from harness import CONFIG_2025, Daemon, eq, ok, err

DOC = "Báo cáo kết quả năm 2024 — xã Phú Hòa Đông".encode()


def submit(d, unit, report="BC-NAM", period="2024", files=(("báo cáo.pdf", DOC),), **kw):
    return d.call("report.submit", files=files, unit=unit, report=report, period=period, **kw)


def test_obligations_follow_the_plan():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        r = d.ctl("obligations", "--report", "BC-NAM", "--period", "2024") if False else \
            d.call("obligations.list", report="BC-NAM", period="2024")
        units = {o["unit"] for o in r["obligations"]}
        eq(len(units), 33, "21 communes, 3 offices, 7 organisations, 2 enterprises")
        assert "CUCHI-GDDT" not in units and "CUCHI-HDTDKT" not in units
        # the district summary of 2024 is due Saturday 30 November: it rolls to Monday 2 December
        r = d.call("obligations.list", report="BC-TONGHOP", period="2024")
        eq([(o["unit"], o["due_at"]) for o in r["obligations"]],
           [("CUCHI-GDDT", "2024-12-02T23:59:59+07:00")], "district summary")
        # BC-NAM ends with the district: its 2025 report is BC-NAM-XA, owed to the city's
        # Sở GD&ĐT by the units in force on 15 November 2025; it opens by the clock
        assert "years 2024 to 2024" in err(submit(d, "XA-ANPHU", period="2025"), "unknown_period")
        err(submit(d, "XA-ANPHU", report="BC-NAM-XA", period="2025"), "period_not_open")
        d.ctl("clock", "set", "2025-10-01T00:00:00+07:00")
        owed = {o["unit"] for o in d.call("obligations.list", report="BC-NAM-XA", period="2025")["obligations"]}
        eq(len(owed), 9, "2025 opened: the 7 new communes and the 2 enterprises")
        assert "XA-ANNHONTAY-2025" in owed and "XA-ANPHU" not in owed, owed


def test_a_2024_cycle_with_exact_completeness():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        on_time = ["XA-ANPHU", "XA-BINHMY", "XA-PHUHOADONG", "CUCHI-HKH", "DN-MAYMAC-TPT"]
        receipts = {u: ok(submit(d, u, note="Kính gửi Phòng GD&ĐT"))["receipt"] for u in on_time}
        rc = receipts["XA-PHUHOADONG"]
        eq(rc["on_time"], True, "on time")
        eq(rc["due_at"], "2024-11-15T23:59:59+07:00", "due")
        eq(rc["files"][0]["name"], "báo cáo.pdf", "file name round trip")
        import hashlib
        eq(rc["files"][0]["sha256"], hashlib.sha256(DOC).hexdigest(), "sha256")
        eq(rc["files"][0]["size"], len(DOC), "size")
        # a small file is kept in the database, in the row of the submission that brought it
        stored = d.db().execute("SELECT f.data FROM submission_files f JOIN submissions s ON s.id = f.submission"
                                " WHERE s.receipt = ? AND f.idx = 0", (rc["number"],)).fetchone()
        eq(bytes(stored[0]), DOC, "stored content")
        assert rc["number"].startswith("BN-2024-"), rc
        eq(len({r["number"] for r in receipts.values()}), 5, "distinct receipts")
        eq(ok(d.call("report.receipt", number=rc["number"]))["receipt"], rc, "receipt shown again")
        err(d.call("report.receipt", number="BN-2024-999999"), "unknown_receipt")

        d.ctl("clock", "set", "2024-11-18T08:00:00+07:00")   # past the due date
        late = ok(submit(d, "XA-TRUNGAN"))["receipt"]
        eq(late["on_time"], False, "late")
        # review: accept two, return one with a reason, waive one
        ok(d.call("report.accept", id="acc1", unit="XA-ANPHU", report="BC-NAM", period="2024"))
        ok(d.call("report.accept", id="acc2", unit="XA-BINHMY", report="BC-NAM", period="2024"))
        err(d.call("report.return", id="ret0", unit="XA-PHUHOADONG", report="BC-NAM", period="2024"), "reason_required")
        r = ok(d.call("report.return", id="ret1", unit="XA-PHUHOADONG", report="BC-NAM", period="2024",
                      reason="Thiếu bảng tổng hợp tiêu chí"))["obligation"]
        eq(r["state"], "returned", "returned")
        eq(r["reason"], "Thiếu bảng tổng hợp tiêu chí", "reason round trip")
        eq(r["due_at"], "2024-11-25T23:59:59+07:00", "5 working days after Monday 18 November")
        ok(d.call("report.waive", id="w1", unit="CUCHI-LDLD", report="BC-NAM", period="2024",
                  reason="Đơn vị sáp nhập"))
        err(d.call("report.accept", id="acc3", unit="XA-THAIMY", report="BC-NAM", period="2024"), "bad_state")

        c = d.call("completeness", report="BC-NAM", period="2024")
        eq(c["under"], "CUCHI", "default subtree: the receiver's parent")
        t = c["total"]
        eq((t["expected"], t["on_time"], t["late"], t["missing"], t["accepted"], t["returned"], t["waived"]),
           (32, 4, 1, 27, 2, 1, 1), "totals")
        rows = {r["unit"]: r for r in c["rows"]}
        eq((rows["XA-PHUHOADONG"]["missing"], rows["XA-PHUHOADONG"]["returned"]), (1, 1), "returned row")
        eq(rows["XA-ANPHU"]["on_time_pct"], 100.0, "pct")
        missing = {m["unit"] for m in c["missing"]}
        assert "XA-PHUHOADONG" in missing and "XA-ANPHU" not in missing and "CUCHI-LDLD" not in missing

        # the returned commune corrects and sends again: a new version, late now
        again = ok(submit(d, "XA-PHUHOADONG", files=(("báo cáo (sửa).pdf", DOC + b" v2"),)))["receipt"]
        eq((again["version"], again["on_time"]), (2, True), "within the new due date")
        eq(ok(d.call("report.receipt", number=rc["number"]))["receipt"]["version"], 1, "first version kept")
        err(submit(d, "XA-ANPHU"), "already_accepted")
        err(submit(d, "CUCHI-LDLD"), "waived")
        # late submissions close 30 days after the due date
        d.ctl("clock", "set", "2024-12-16T08:00:00+07:00")
        err(submit(d, "XA-THAIMY"), "late_locked")


def test_every_bad_submission_is_refused_and_stores_nothing():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        cases = [
            (submit(d, "XA-ANPHUU"), "unknown_unit", "XA-ANPHU"),
            (submit(d, "XA-ANPHU", report="BC-NAMM"), "unknown_report", "BC-NAM"),
            (submit(d, "XA-ANPHU", period="1999"), "unknown_period", "2024"),
            (submit(d, "XA-ANPHU", report="BC-NAM-XA", period="2026"), "period_not_open", "opens on 2026-10-01"),
            (submit(d, "XA-ANPHU", report="BC-TONGHOP"), "not_obligated", "does not owe"),
            (submit(d, "XA-ANPHU", files=()), "no_file", "at least one file"),
            (submit(d, "XA-ANPHU", files=(("a.pdf", b""),)), "empty_file", "a.pdf"),
            (submit(d, "XA-ANPHU", files=(("../../etc/passwd", b"x"),)), "invalid_file_name", "path"),
            (submit(d, "XA-ANPHU", files=(("C:\\bao-cao.pdf", b"x"),)), "invalid_file_name", "path"),
            (submit(d, "XA-ANPHU", files=(("a\nb.pdf", b"x"),)), "invalid_file_name", "control"),
            (submit(d, "XA-ANPHU", note=5), "invalid_field", "note"),
        ]
        for reply, code, fragment in cases:
            msg = err(reply, code)
            assert fragment in msg, (code, msg)
        # invalid UTF-8 in a note or a file name never reaches a handler: the frame is refused
        import zmq
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.RCVTIMEO, 5000)
        s.connect(d.endpoint)
        s.send_multipart([b"", b'{"op":"report.submit","unit":"XA-ANPHU","report":"BC-NAM","period":"2024",'
                          b'"note":"\xc3\x28","files":["a.pdf"]}', b"x"])
        eq(json.loads(s.recv_multipart()[-1])["error"]["code"], "invalid_utf8", "bad UTF-8")
        s.close()
        # a file over the limit (25 MB by default)
        big = b"x" * (25 * 1024 * 1024 + 1)
        err(submit(d, "XA-ANPHU", files=(("lon.pdf", big),)), "file_too_large")
        con = d.db()
        eq(con.execute("SELECT count(*) FROM submissions").fetchone()[0], 0, "nothing stored")
        eq(os.path.exists(os.path.join(d.dir, "files")), False, "no file written")
        eq(con.execute("SELECT count(*) FROM submission_files").fetchone()[0], 0, "no content stored")


def test_replay_returns_the_first_receipt_and_stores_once():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        first = ok(submit(d, "XA-ANPHU", id="req-42"))
        second = ok(submit(d, "XA-ANPHU", id="req-42"))
        eq(second["receipt"], first["receipt"], "same receipt")
        eq(second.get("replayed"), True, "marked as a replay")
        eq({k: v for k, v in second.items() if k != "replayed"}, first, "the whole first reply")
        eq(d.db().execute("SELECT count(*) FROM submissions").fetchone()[0], 1, "stored once")
        # the reply is kept as its receipt number and built again from the submission's rows
        eq(d.db().execute("SELECT reply, key FROM requests WHERE id = 'req-42'").fetchone(),
           ("", first["receipt"]["number"]), "kept as its key")
        ok(submit(d, "XA-ANPHU", id="req-43", note="bản sửa"))	# a second version since
        d.stop()
        d.start()
        third = ok(submit(d, "XA-ANPHU", id="req-42"))
        eq({k: v for k, v in third.items() if k != "replayed"}, first, "the first reply after a restart")
        eq(d.db().execute("SELECT count(*) FROM submissions").fetchone()[0], 2, "nothing more stored")
        err(d.call("report.accept", id="req-42", unit="XA-ANPHU", report="BC-NAM", period="2024"), "id_reused")
        # a reply stored whole, as schema 10 kept every reply, is replayed as stored
        d.stop()
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        con.execute("UPDATE requests SET reply = ?, key = NULL WHERE id = 'req-42'",
                    (json.dumps(first, ensure_ascii=False),))
        con.commit()
        con.close()
        d.start()
        fourth = ok(submit(d, "XA-ANPHU", id="req-42"))
        eq({k: v for k, v in fourth.items() if k != "replayed"}, first, "a reply stored whole")


def test_a_submission_failing_after_it_wrote_leaves_nothing_and_its_turn_goes_on():
    """A turn of submissions runs without savepoints; one that fails after writing rows (here
    its large file cannot be stored) makes the daemon roll the turn back and run it again,
    each request in a savepoint: the others are stored once, the failed one not at all."""
    import hashlib
    import zmq
    big = bytes(range(256)) * (1100 * 4)      # over the inline limit: kept under files/
    sha = hashlib.sha256(big).hexdigest()
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        os.makedirs(os.path.join(d.dir, "files"), exist_ok=True)
        blocker = os.path.join(d.dir, "files", sha[:2])
        with open(blocker, "w") as fp:         # a file where its directory must go
            fp.write("x")
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 20000)
        s.connect(d.endpoint)
        sent = [("turn-a", "XA-ANPHU", DOC), ("turn-b", "XA-BINHMY", big), ("turn-c", "XA-PHUHOADONG", DOC),
                ("turn-d", "XA-TANTHONGHOI", DOC)]
        for rid, unit, data in sent:           # one burst: usually one turn
            req = {"op": "report.submit", "id": rid, "unit": unit, "report": "BC-NAM", "period": "2024",
                   "files": ["báo cáo.pdf"]}
            s.send_multipart([b"", json.dumps(req).encode(), data])
        replies = {}
        for _ in sent:
            r = json.loads(s.recv_multipart()[-1])
            replies[r["id"]] = r
        s.close()
        msg = err(replies["turn-b"], "internal")
        assert "báo cáo.pdf" in msg and "nothing was recorded" in msg, msg
        numbers = [ok(replies[rid])["receipt"]["number"] for rid in ("turn-a", "turn-c", "turn-d")]
        seq = [int(n.rsplit("-", 1)[1]) for n in numbers]
        eq(seq, [seq[0], seq[0] + 1, seq[0] + 2], "the refused submission used no receipt number")
        assert "failed after writing" in d.read_log(), "the turn was not run again"
        db = d.db()
        eq(sorted(db.execute("SELECT request_id FROM submissions")), [("turn-a",), ("turn-c",), ("turn-d",)],
           "submissions stored")
        eq(sorted(db.execute("SELECT id FROM requests")), [("turn-a",), ("turn-c",), ("turn-d",)], "requests recorded")
        eq(db.execute("SELECT count(*) FROM audit WHERE op = 'report.submit'").fetchone()[0], 3, "audit rows")
        eq(db.execute("SELECT state FROM obligations WHERE unit = 'XA-BINHMY' AND report = 'BC-NAM'"
                      " AND period = '2024'").fetchone()[0], "open", "the refused unit still owes its report")
        db.close()
        rc, out = d.ctl_raw("audit", "verify")
        eq(rc, 0, f"audit verify: {out}")
        # with room for the file, the same request id goes through, stored once
        os.unlink(blocker)
        r = ok(submit(d, "XA-BINHMY", files=(("báo cáo.pdf", big),), id="turn-b"))
        eq(r["receipt"]["number"].rsplit("-", 1)[1], "%06d" % (seq[2] + 1), "the next number")
        assert "replayed" not in r, r
        with open(os.path.join(d.dir, "files", sha[:2], sha), "rb") as fp:
            assert fp.read() == big, "the large file"


def test_reorganisation_successor_owes_the_2025_report():
    with Daemon(config=CONFIG_2025, start_at="2025-02-10T09:00:00+07:00") as d:
        ok(submit(d, "XA-ANPHU", report="KH-NAM", period="2025"))
        d.ctl("clock", "set", "2025-10-02T09:00:00+07:00")
        msg = err(submit(d, "XA-ANPHU", period="2025"), "unit_closed")
        assert "XA-ANPHU" in msg and "30/06/2025" in msg and "XA-ANNHONTAY-2025" in msg, msg
        r = ok(submit(d, "XA-ANNHONTAY-2025", period="2025"))
        eq(r["receipt"]["unit_name"], "Ủy ban nhân dân xã An Nhơn Tây", "successor")
        owed = {o["unit"] for o in d.call("obligations.list", report="BC-NAM", period="2025")["obligations"]}
        eq(len(owed), 7, "the 7 new communes owe the 2025 annual report")
        c = d.call("completeness", report="BC-NAM", period="2025", under="HCM")
        eq(c["total"]["expected"], 7, "expected")
        eq(c["total"]["on_time"], 1, "on time")


def test_sigkill_while_streaming_loses_no_acknowledged_receipt():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        import zmq
        units = [o["unit"] for o in d.call("obligations.list", report="BC-NAM", period="2024")["obligations"]]
        acked = []
        stop = threading.Event()

        def client(k):
            ctx = zmq.Context.instance()
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVTIMEO, 3000)
            s.connect(d.endpoint)
            n = 0
            while not stop.is_set():
                n += 1
                rid = f"c{k}-{n}"
                req = {"op": "report.submit", "id": rid, "unit": units[(k * 7 + n) % len(units)],
                       "report": "BC-NAM", "period": "2024", "files": [f"bc-{rid}.txt"]}
                try:
                    s.send_multipart([b"", json.dumps(req).encode(), rid.encode()])
                    r = json.loads(s.recv_multipart()[-1])
                except zmq.error.Again:
                    break
                if r.get("ok"):
                    acked.append(r["receipt"]["number"])
            s.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        # kill once a few hundred submissions have been acknowledged
        while len(acked) < 300 and all(t.is_alive() for t in threads):
            threading.Event().wait(0.005)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        d.log.close()
        d.start()
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity")
        stored = [r[0] for r in con.execute("SELECT receipt FROM submissions")]
        assert len(acked) >= 300, len(acked)
        missing = set(acked) - set(stored)
        eq(missing, set(), "acknowledged receipts lost")
        eq(len(stored), len(set(stored)), "each receipt once")
        for number in acked[-20:]:
            ok(d.call("report.receipt", number=number))


def test_thiduactl_submit_review_and_completeness_csv():
    import csv
    import io
    import tempfile
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d, tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "bao-cao-2024.pdf")
        with open(f, "wb") as fp:
            fp.write(DOC)
        rc, out = d.ctl_raw("submit", "--unit", "XA-PHUHOADONG", "--report", "BC-NAM", "--period", "2024",
                            "--note", "Kính gửi Phòng GD&ĐT", "--request-id", "r-1", f)
        eq(rc, 0, out)
        assert "BN-2024-000001" in out and "bao-cao-2024.pdf" in out, out
        rc, again = d.ctl_raw("submit", "--unit", "XA-PHUHOADONG", "--report", "BC-NAM", "--period", "2024",
                              "--request-id", "r-1", f)
        assert rc == 0 and "BN-2024-000001" in again, again
        rc, out = d.ctl_raw("submit", "--unit", "XA-ANPHU", "--report", "BC-NAM", "--period", "2024",
                            os.path.join(tmp, "missing.pdf"))
        eq(rc, 2, "missing file is a usage error")
        rc, out = d.ctl_raw("review", "return", "--unit", "XA-PHUHOADONG", "--report", "BC-NAM", "--period", "2024")
        eq(rc, 2, "reason required")
        rc, out = d.ctl_raw("review", "accept", "--unit", "XA-PHUHOADONG", "--report", "BC-NAM", "--period", "2024")
        eq(rc, 0, out)
        rc, out = d.ctl_raw("completeness", "--report", "BC-NAM", "--period", "2024", "--csv")
        eq(rc, 0, out)
        rows = list(csv.DictReader(io.StringIO(out)))
        row = {r["unit"]: r for r in rows}
        eq((row["XA-PHUHOADONG"]["expected"], row["XA-PHUHOADONG"]["accepted"]), ("1", "1"), "csv row")
        eq(row["TOTAL"]["expected"], "33", "csv total")
        rc, out = d.ctl_raw("completeness", "--report", "BC-NAM", "--period", "2024")
        assert "Ủy ban nhân dân xã An Phú" in out and rc == 0, out
        rc, out = d.ctl_raw("obligations", "--unit", "XA-PHUHOADONG", "--csv")
        assert rc == 0 and "accepted" in out, out


SCHEMA = 17	# the schema version this thiduad writes
# what migrations 13 to 17 added, taken away again: the tests that take a database back to
# an older schema use it (a new migration adds its own undo here, once)
UNDO_13_TO_17 = """
    ALTER TABLE channel_state DROP COLUMN settings;
    ALTER TABLE channel_state DROP COLUMN last_error;
    ALTER TABLE channel_state DROP COLUMN last_error_at;
    ALTER TABLE deliveries DROP COLUMN settings;
    ALTER TABLE deliveries DROP COLUMN anytime;
    DROP TABLE zalo_tokens;
    DROP TABLE reply_tokens;
    DROP TABLE inbox_files;
    DROP TABLE inbox;
    DROP TABLE accounts;
    DROP TABLE invites;
    DELETE FROM sqlite_sequence WHERE name = 'invites';
    DROP TABLE sessions;
    DROP TABLE login_failures;
"""


def test_a_database_of_schema_7_keeps_its_files_when_upgraded():
    """Schema 7 kept small files in a table blobs keyed by their hash; 8 and 9 move each
    into the row that names it and drop the indexes intake no longer writes."""
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        rc = ok(submit(d, "XA-ANPHU"))["receipt"]
        dup = ok(submit(d, "XA-BINHMY"))["receipt"]		# the same content: one blob in schema 7
        d.stop()
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        con.executescript("""
            CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);
            INSERT OR IGNORE INTO blobs SELECT sha256, size, data FROM submission_files;
            ALTER TABLE submission_files DROP COLUMN data;
            ALTER TABLE proposal_files DROP COLUMN data;
            ALTER TABLE proposal_batches DROP COLUMN data;
            CREATE INDEX audit_unit ON audit (unit, seq);
            CREATE INDEX audit_principal ON audit (principal, seq);
            CREATE INDEX audit_object ON audit (object, seq);
            CREATE INDEX submissions_obligation ON submissions (obligation);
            ALTER TABLE requests DROP COLUMN key;
            """ + UNDO_13_TO_17 + """
            PRAGMA user_version = 7;
        """)
        eq(con.execute("SELECT count(*) FROM blobs").fetchone()[0], 1, "one blob for both")
        con.close()
        d.start()
        con = d.db()
        eq(con.execute("PRAGMA user_version").fetchone()[0], SCHEMA, "upgraded")
        eq(con.execute("SELECT count(*) FROM sqlite_schema WHERE name IN ('blobs', 'audit_unit', 'submissions_obligation')")
           .fetchone()[0], 0, "old table and indexes gone")
        for r in (rc, dup):
            got = con.execute("SELECT f.data FROM submission_files f JOIN submissions s ON s.id = f.submission"
                              " WHERE s.receipt = ?", (r["number"],)).fetchone()
            eq(bytes(got[0]), DOC, f"content of {r['number']}")
        eq(d.call("report.receipt", number=rc["number"])["receipt"]["files"], rc["files"], "receipt unchanged")
        eq(d.call("audit.verify")["valid"], True, "audit chain intact")


STATE_RULES = {
    "obligations": ("state = 'open' OR state = 'submitted' OR state = 'accepted' OR state = 'returned' OR state = 'waived'",
                    "state IN ('open', 'submitted', 'accepted', 'returned', 'waived')"),
    "deliveries": ("state = 'pending' OR state = 'leased' OR state = 'sent' OR state = 'failed'",
                   "state IN ('pending', 'leased', 'sent', 'failed')"),
    "proposals": ("state = 'draft' OR state = 'submitted' OR state = 'returned' OR state = 'rejected' OR state = 'withdrawn'"
                  " OR state = 'granted'", "state IN ('draft', 'submitted', 'returned', 'rejected', 'withdrawn', 'granted')"),
}


def test_a_database_of_schema_9_is_rebuilt_with_the_same_rows_and_rules():
    """Schema 10 writes the state rules as OR chains (an IN list of three or more costs a
    temporary index per checked row) and rebuilds three tables: every row, every reference
    and every rule must come through."""
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        receipt = ok(submit(d, "XA-ANPHU"))["receipt"]
        ok(d.call("report.return", unit="XA-ANPHU", report="BC-NAM", period="2024", reason="Thiếu phụ lục"))
        d.stop()
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        before = con.execute("SELECT * FROM obligations ORDER BY id").fetchall()
        indexes = con.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name").fetchall()
        # the schema 9 text: IN lists
        con.execute("PRAGMA writable_schema = ON")
        for table, (now, old) in STATE_RULES.items():
            sql = con.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
            sql = " ".join(sql.split())
            assert now in sql, f"{table}: {sql}"
            con.execute("UPDATE sqlite_schema SET sql = ? WHERE name = ?", (sql.replace(now, old), table))
        con.execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE name = 'proposals_one'",
                    ("(state = 'draft' OR state = 'submitted' OR state = 'returned' OR state = 'granted')",
                     "state IN ('draft', 'submitted', 'returned', 'granted')"))
        version = con.execute("PRAGMA schema_version").fetchone()[0]
        con.execute(f"PRAGMA schema_version = {version + 1}")
        con.execute("PRAGMA writable_schema = OFF")
        con.execute("ALTER TABLE requests DROP COLUMN key")
        con.executescript(UNDO_13_TO_17)
        con.execute("PRAGMA user_version = 9")
        con.commit()
        con.close()
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        eq(con.execute("SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%state IN (%'").fetchone()[0], 4, "schema 9")
        con.close()
        d.start()
        con = d.db()
        eq(con.execute("PRAGMA user_version").fetchone()[0], SCHEMA, "upgraded")
        for table, (now, old) in STATE_RULES.items():
            sql = " ".join(con.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0].split())
            assert now in sql and " IN (" not in sql, f"{table} after the upgrade: {sql}"
        eq(con.execute("SELECT * FROM obligations ORDER BY id").fetchall(), before, "every obligation as it was")
        eq(con.execute("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name").fetchall(),
           [(n,) for n, _ in indexes], "the same indexes")
        eq(con.execute("PRAGMA foreign_key_check").fetchall(), [], "every reference resolves")
        for table in STATE_RULES:
            try:
                con.execute(f"UPDATE {table} SET state = 'nonsense'")
            except sqlite3.IntegrityError as e:
                assert "CHECK" in str(e), e
            else:
                if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
                    raise AssertionError(f"{table} took a state outside its rule")
            con.rollback()
        eq(d.call("report.receipt", number=receipt["number"])["receipt"]["number"], receipt["number"], "receipt kept")
        again = ok(submit(d, "XA-ANPHU"))["receipt"]
        eq(again["version"], 2, "the returned report is sent again")
        eq(d.call("audit.verify")["valid"], True, "audit chain intact")


def test_stored_files_are_checked_on_store_and_by_files_verify():
    """Issue 13 item 10: a file changed or removed behind the daemon's back is found by
    `thiduactl files verify`, which names the receipts affected; a resubmission of the same
    content does not point at a corrupt copy under files/ (of the same size) but replaces it."""
    import hashlib
    big = bytes(range(256)) * (1100 * 4)      # over the inline limit: kept under files/
    sha = hashlib.sha256(big).hexdigest()
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        r1 = ok(submit(d, "XA-ANPHU", files=(("ke-hoach.pdf", big),), id="fv-1"))["receipt"]["number"]
        r2 = ok(submit(d, "XA-BINHMY", id="fv-2"))["receipt"]["number"]
        rc, out = d.ctl_raw("files", "verify")
        assert rc == 0 and "intact: 2 files (1 in the database, 1 under files/)" in out, out

        path = os.path.join(d.dir, "files", sha[:2], sha)
        with open(path, "r+b") as fp:            # one byte changed, the size kept
            fp.seek(1000)
            fp.write(b"\xff")
        db = d.db()
        db.execute("UPDATE submission_files SET data = ? WHERE submission ="
                   " (SELECT id FROM submissions WHERE receipt = ?)", ("Báo cáo đã bị sửa".encode(), r2))
        db.commit()
        r = d.ctl("files", "verify", ok=False)
        eq((r["valid"], r["bad_count"], sorted(r["receipts"])), (False, 2, sorted([r1, r2])), "both found")
        by = {b["receipt"]: b for b in r["bad"]}
        eq((by[r1]["where"], by[r1]["name"]), (f"files/{sha[:2]}/{sha}", "ke-hoach.pdf"), "the file under files/")
        assert by[r1]["problem"].startswith("changed"), by[r1]
        eq(by[r2]["where"], "database", "the file in its row")
        assert "not" in by[r2]["problem"], by[r2]     # another size
        rc, out = d.ctl_raw("files", "verify")
        assert rc == 1 and r1 in out and r2 in out and "ke-hoach.pdf" in out, out

        # the same content again, from another unit: the corrupt copy is replaced
        r3 = ok(submit(d, "XA-THAIMY", files=(("ke-hoach.pdf", big),), id="fv-3"))["receipt"]["number"]
        with open(path, "rb") as fp:
            assert fp.read() == big, "the copy under files/ was not replaced"
        assert "replaces it" in d.read_log(), "the replacement was not logged"
        r = d.ctl("files", "verify", ok=False)
        eq(r["receipts"], [r2], "only the row changed in the database is left")

        # a file removed is named, with every receipt that refers to it
        os.unlink(path)
        r = d.ctl("files", "verify", ok=False)
        eq(sorted(r["receipts"]), sorted([r1, r2, r3]), "receipts of the removed file")
        assert all(b["problem"].startswith("missing") for b in r["bad"] if b["receipt"] != r2), r["bad"]
        db.close()
