"""Issue 7: crashes and full disks.

Crashes: rounds of streamed submissions, decisions and clock moves from several raw ZeroMQ
clients, thiduad killed with SIGKILL at a random moment of each, then restarted. After each
round: the database passes PRAGMA integrity_check; every acknowledged receipt and decision
is there exactly once; each write is recorded once (as many submissions and reviews as
request ids for them); the audit chain verifies; no outbox row has gone; the clock has not
gone back. Requests left without an answer by the kill are sent again with the same id: an
answer after the restart is the first one's (replayed) or a first answer, never a second
copy.

Full disks: the state directory on a small tmpfs. Submissions stream until the disk is
full; the refusals say storage_full, nothing half-written stays, the daemon keeps serving,
and once space is freed a submission goes through without a restart.
"""
import json
import os
import contextlib
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

from harness import Daemon, eq

START = "2024-11-10T09:00:00+07:00"
REVIEW_OPS = ("report.accept", "report.return", "report.waive")
ROUNDS = 20
# these communes submit and are reviewed; the others stay open and draw reminders and
# escalations into the outbox as the clock moves
SUBMITTERS = ["XA-ANPHU", "XA-BINHMY", "XA-PHUHOADONG", "XA-TRUNGAN", "XA-THAIMY", "XA-TANTHONGHOI",
              "XA-PHUOCVINHAN", "XA-HOAPHU", "CUCHI-HKH", "DN-MAYMAC-TPT"]


def _ok(r):
    assert r.get("ok"), r
    return r


class Ledger:
    """What the clients were told, across rounds."""

    def __init__(self):
        self.lock = threading.Lock()
        self.receipts = {}        # receipt number -> request id
        self.decisions = {}       # request id -> op
        self.in_doubt = []        # (op, id, frames) sent, no answer before the kill
        self.clock = None         # the latest clock an answer showed
        self.outbox = set()       # outbox ids seen after a round
        self.answers = 0
        self.retried = [0, 0]     # in-doubt requests found done (replayed), not done
        self.recorded = {}        # request id -> op, as the last crash left the database
        self.by_request = {}      # request id -> receipt, likewise

    def answered(self, op, rid, reply):
        with self.lock:
            self.answers += 1
            if not reply.get("ok"):
                return
            if op == "report.submit":
                number = reply["receipt"]["number"]
                assert self.receipts.get(number, rid) == rid, (number, rid, self.receipts[number])
                self.receipts[number] = rid
            elif op in REVIEW_OPS:
                self.decisions[rid] = op
            elif op == "clock.advance":
                if self.clock is None or reply["now"] > self.clock:
                    self.clock = reply["now"]


def _request(op, rid, rng, k):
    """The frames of one write."""
    if op == "report.submit":
        unit = rng.choice(SUBMITTERS)
        body = {"op": op, "id": rid, "unit": unit, "report": "BC-NAM", "period": "2024",
                "files": [f"bao-cao-{rid}.txt"]}
        return [json.dumps(body).encode(), f"Báo cáo {rid} của {unit}".encode()]
    if op in REVIEW_OPS:
        body = {"op": op, "id": rid, "unit": rng.choice(SUBMITTERS), "report": "BC-NAM", "period": "2024"}
        if op != "report.accept":
            body["reason"] = f"Thiếu phụ lục ({rid})"
        return [json.dumps(body).encode()]
    return [json.dumps({"op": op, "id": rid, "by": "3h"}).encode()]


def _client(endpoint, ledger, stop, rnd, k, ops, limit):
    """Send writes one at a time until stop is set; an unanswered one goes to in_doubt."""
    import zmq
    rng = random.Random(rnd * 1000 + k)
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    poller = zmq.Poller()
    poller.register(s, zmq.POLLIN)
    n = 0
    try:
        while not stop.is_set() and n < limit:
            n += 1
            op = rng.choice(ops)
            rid = f"r{rnd}-c{k}-{n}"
            frames = _request(op, rid, rng, k)
            s.send_multipart([b""] + frames)
            reply = None
            while reply is None and not stop.is_set():
                if poller.poll(20):
                    reply = json.loads(s.recv_multipart()[-1])
            if reply is None:
                with ledger.lock:
                    ledger.in_doubt.append((op, rid, frames))
                break
            ledger.answered(op, rid, reply)
            if op == "clock.advance":
                stop.wait(0.05)
    finally:
        s.close()


def _check_database(d, ledger, rnd):
    """The database as the crash left it (thiduad is not running)."""
    con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
    try:
        eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", f"round {rnd}: integrity_check")
        stored = {}
        for number, n in con.execute("SELECT receipt, count(*) FROM submissions GROUP BY receipt"):
            stored[number] = n
        lost = set(ledger.receipts) - set(stored)
        eq(lost, set(), f"round {rnd}: acknowledged receipts lost")
        eq([r for r, n in stored.items() if n != 1], [], f"round {rnd}: receipts stored twice")
        recorded = dict(con.execute("SELECT id, op FROM requests"))
        for rid, op in ledger.decisions.items():
            eq(recorded.get(rid), op, f"round {rnd}: acknowledged decision {rid}")
        # each write was done once: one submission (review) per request id that recorded one
        n_submit = sum(1 for op in recorded.values() if op == "report.submit")
        n_review = sum(1 for op in recorded.values() if op in REVIEW_OPS)
        eq(len(stored), n_submit, f"round {rnd}: submissions vs recorded submit requests")
        eq(con.execute("SELECT count(*) FROM reviews").fetchone()[0], n_review,
           f"round {rnd}: reviews vs recorded review requests")
        by_request = dict(con.execute("SELECT request_id, receipt FROM submissions"))
        for number, rid in ledger.receipts.items():
            eq(by_request.get(rid), number, f"round {rnd}: receipt of request {rid}")
        ledger.recorded, ledger.by_request = recorded, by_request
        outbox = {r[0] for r in con.execute("SELECT id FROM outbox")}
        eq(ledger.outbox - outbox, set(), f"round {rnd}: outbox rows lost")
        ledger.outbox = outbox
    finally:
        con.close()


def _retry_in_doubt(d, ledger):
    """Send each unanswered request again with its id: the first answer, or a first one."""
    import zmq
    doubt, ledger.in_doubt = ledger.in_doubt, []
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 20000)
    s.connect(d.endpoint)
    try:
        for op, rid, frames in doubt:
            s.send_multipart([b""] + frames)
            reply = json.loads(s.recv_multipart()[-1])
            if rid in ledger.recorded:
                # done before the kill: the first answer again, not a second write
                assert reply.get("ok") and reply.get("replayed"), (rid, reply)
                ledger.retried[0] += 1
                if op == "report.submit":
                    eq(reply["receipt"]["number"], ledger.by_request[rid], f"replayed receipt of {rid}")
            else:
                assert not reply.get("replayed"), (rid, reply)
                ledger.retried[1] += 1
            ledger.answered(op, rid, reply)
    finally:
        s.close()


def test_sigkill_rounds_lose_nothing_acknowledged():
    ledger = Ledger()
    rng = random.Random(7)
    t0 = time.monotonic()
    kills_mid_stream = 0
    with Daemon(start_at=START) as d:
        for rnd in range(1, ROUNDS + 1):
            stop = threading.Event()
            plan = [(["report.submit"], 10 ** 6)] * 3 + [(list(REVIEW_OPS[:2]) + ["report.submit"], 10 ** 6)] * 2 \
                + [(["clock.advance"], 4)]
            threads = [threading.Thread(target=_client, args=(d.endpoint, ledger, stop, rnd, k, ops, limit))
                       for k, (ops, limit) in enumerate(plan)]
            before = ledger.answers
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.05, 0.8))
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.log.close()
            stop.set()
            for t in threads:
                t.join(10)
                assert not t.is_alive(), "a client did not stop"
            kills_mid_stream += ledger.answers > before and bool(ledger.in_doubt)
            _check_database(d, ledger, rnd)
            d.start()
            rc, out = d.ctl_raw("audit", "verify")
            eq(rc, 0, f"round {rnd}: audit verify: {out}")
            if ledger.clock:
                now = _ok(d.call("clock.show"))["now"]
                assert now >= ledger.clock, (rnd, now, ledger.clock)
            _retry_in_doubt(d, ledger)
        # a last look through the daemon's eyes
        for number in list(ledger.receipts)[-10:]:
            _ok(d.call("report.receipt", number=number))
        eq(d.stop(), 0, "clean stop")
        _check_database(d, ledger, "final")
    assert len(ledger.receipts) >= 100, f"only {len(ledger.receipts)} receipts in {ROUNDS} rounds"
    assert ledger.decisions, "no decision was acknowledged"
    assert ledger.outbox, "the clock never moved past a reminder: no outbox row to keep"
    assert kills_mid_stream >= ROUNDS // 2, f"only {kills_mid_stream} kills fell amid requests"
    print(f"    {ROUNDS} rounds in {time.monotonic() - t0:.1f}s: {len(ledger.receipts)} receipts, "
          f"{len(ledger.decisions)} decisions, {len(ledger.outbox)} outbox rows, "
          f"{kills_mid_stream} kills with a request in flight; of the unanswered requests sent again, "
          f"{ledger.retried[0]} had been done (replayed), {ledger.retried[1]} had not")


# ------------------------------------------------------------------------ full disk

def _mount_tmpfs(size):
    """A fresh tmpfs of size bytes, or (None, why) when this system does not allow it."""
    if os.geteuid() != 0:
        return None, "not running as root"
    mnt = tempfile.mkdtemp(prefix="thidua-tmpfs-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        os.rmdir(mnt)
        return None, f"mount -t tmpfs failed: {p.stderr.strip()}"
    return mnt, ""


def _umount(mnt):
    if subprocess.run(["umount", mnt], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
    os.rmdir(mnt)


@contextlib.contextmanager
def _daemon_on_tmpfs(size, test):
    """A Daemon whose state directory is on a fresh tmpfs of size bytes (its log elsewhere:
    the log must not share the full disk), or None when this system cannot mount one."""
    mnt, why = _mount_tmpfs(size)
    if not mnt:
        print(f"SKIP {test}: {why}")
        yield None, None
        return
    logdir = tempfile.mkdtemp(prefix="thidua-tmpfs-log-")
    try:
        state = os.path.join(mnt, "state")
        os.mkdir(state, 0o700)
        d = Daemon(start_at=START, state_dir=state)
        d.log_path = os.path.join(logdir, "thiduad.log")
        with d:
            yield d, mnt
    finally:
        _umount(mnt)
        shutil.rmtree(logdir, ignore_errors=True)


def test_a_full_disk_refuses_cleanly_and_recovers_without_restart():
    with _daemon_on_tmpfs(3 * 1024 * 1024, "test_a_full_disk_refuses_cleanly_and_recovers_without_restart") as (d, mnt):
        if d:
            filler = os.path.join(mnt, "filler")
            with open(filler, "wb") as fp:     # freed at the end to give the daemon room
                fp.write(os.urandom(512 * 1024))
            _full_disk(d, filler)


def _full_disk(d, filler):
    import zmq
    rng = random.Random(11)
    acked, refused, seq = {}, {}, 0

    def submit(size, unit=None, sock=None):
        nonlocal seq
        seq += 1
        rid = f"full-{seq}"
        unit = unit or SUBMITTERS[seq % len(SUBMITTERS)]
        req = {"op": "report.submit", "id": rid, "unit": unit, "report": "BC-NAM", "period": "2024",
               "files": [f"bao-cao-{seq}.pdf"]}
        frames = [b"", json.dumps(req).encode(), rng.randbytes(size)]
        if sock is not None:
            sock.send_multipart(frames)
            return rid
        r = _call(d, frames)
        (acked if r["ok"] else refused)[rid] = r
        return r

    # one file over the inline limit (kept under files/), then small ones in the database
    r = submit(1100 * 1024)
    assert r["ok"], r
    first_full = None
    for i in range(400):
        r = submit(48 * 1024)
        if not r["ok"]:
            first_full = first_full or i
            if len(refused) >= 12:
                break
    assert first_full is not None, "the 3 MB disk never filled up"
    # a large file (the files/ path) is refused as well
    r = submit(1100 * 1024)
    assert not r["ok"], r
    codes = {}
    for rid, r in refused.items():
        codes.setdefault(r["error"]["code"], []).append((rid, r["error"]["message"]))
    print(f"    disk full after {len(acked)} submissions; refusals by code: "
          + "; ".join(f"{c} x{len(v)} (e.g. {v[0][1]!r})" for c, v in codes.items()))
    for rid, r in refused.items():
        eq(r["error"]["code"], "storage_full", f"{rid}: {r['error']['message']}")
        msg = r["error"]["message"].lower()
        assert "full" in msg or "space" in msg, r
    # the daemon still answers reads
    _ok(d.call("status"))
    some = next(iter(acked.values()))["receipt"]["number"]
    _ok(d.call("report.receipt", number=some))

    # a batch in which one write fails for space and a small one could fit: every
    # refused write must have left nothing behind, every acknowledged one must be there
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 20000)
    s.connect(d.endpoint)
    batch = []
    for i in range(3):
        batch.append(("report.submit", submit(200 * 1024, sock=s)))
        rid = f"full-review-{i}"
        s.send_multipart([b"", json.dumps({"op": "report.return", "id": rid, "unit": SUBMITTERS[i],
                                            "report": "BC-NAM", "period": "2024",
                                            "reason": "Thiếu chữ ký"}).encode()])
        batch.append(("report.return", rid))
    decisions = {}
    for _ in batch:
        r = json.loads(s.recv_multipart()[-1])
        rid = r.get("id")
        if rid.startswith("full-review-"):
            decisions[rid] = r
        else:
            (acked if r["ok"] else refused)[rid] = r
    s.close()

    _check_full_state(d, acked, refused, decisions)

    # free space: the daemon goes on without a restart
    os.unlink(filler)
    pid = d.proc.pid
    r = submit(48 * 1024, unit="XA-ANPHU")
    if not r["ok"]:
        r = submit(48 * 1024, unit="XA-ANPHU")
        raise AssertionError(f"the first submission after space was freed failed; a second: {r}")
    eq(d.proc.pid, pid, "same process")
    assert d.proc.poll() is None, "thiduad exited"
    _check_full_state(d, acked, refused, decisions)
    rc, out = d.ctl_raw("audit", "verify")
    eq(rc, 0, f"audit verify: {out}")


def _call(d, frames):
    import zmq
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 20000)
    s.connect(d.endpoint)
    try:
        s.send_multipart(frames)
        return json.loads(s.recv_multipart()[-1])
    finally:
        s.close()


def _check_full_state(d, acked, refused, decisions):
    con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
    try:
        eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity_check")
        by_request = dict(con.execute("SELECT request_id, receipt FROM submissions"))
        recorded = dict(con.execute("SELECT id, op FROM requests"))
        for rid, r in acked.items():
            eq(by_request.get(rid), r["receipt"]["number"], f"acknowledged {rid}")
            for i, f in enumerate(r["receipt"]["files"]):
                inline = con.execute("SELECT length(f.data) FROM submission_files f JOIN submissions s ON s.id = f.submission"
                                     " WHERE s.receipt = ? AND f.idx = ? AND f.data IS NOT NULL",
                                     (r["receipt"]["number"], i)).fetchone()
                path = os.path.join(d.dir, "files", f["sha256"][:2], f["sha256"])
                size = inline[0] if inline else os.path.getsize(path) if os.path.exists(path) else None
                eq(size, f["size"], f"{rid}: content of {f['name']}")
        half = sorted(rid for rid in refused if rid in by_request or rid in recorded)
        eq(half, [], "refused submissions that were stored anyway")
        for rid, r in decisions.items():
            eq(rid in recorded, bool(r["ok"]), f"decision {rid} answered {r}")
        leftovers = []
        for root, _, names in os.walk(os.path.join(d.dir, "files")):
            leftovers += [n for n in names if n.startswith(".tmp-")]
        eq(leftovers, [], "temporary files left behind")
    finally:
        con.close()


# ------------------------------------------------------------------ hostile errors

def test_an_error_cut_inside_a_character_is_answered_not_fatal():
    """Messages quote what they were given and are cut by byte bounds ('%.64s', a 4 KiB
    join of configuration errors): the reply must still go out, and thiduad keep serving."""
    import shutil
    from harness import CONFIG
    tmp = tempfile.mkdtemp(prefix="thidua-cut-")
    try:
        cfg = os.path.join(tmp, "thidua.cfg")
        shutil.copy(CONFIG, cfg)
        with Daemon(config=cfg, start_at=START) as d:
            with open(CONFIG, encoding="utf-8") as fp:
                text = fp.read()
            for pad in range(3):    # one of three offsets cuts the 3-byte 'ủ'
                with open(cfg, "w", encoding="utf-8") as fp:
                    fp.write(text.replace('code = "XA-ANPHU";', 'code = "%s";' % ("x" * pad + "ủ" * 1500), 1))
                eq(d.call("config.reload")["error"]["code"], "invalid_config", f"reload, offset {pad}")
                code = "a" * (62 + pad) + "ủ"
                eq(d.call("report.waive", unit=code, report="BC-NAM", period="2024", reason="x")["error"]["code"],
                   "unknown_unit", f"unit code, offset {pad}")
            import zmq
            s = zmq.Context.instance().socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVTIMEO, 5000)
            s.connect(d.endpoint)
            s.send_multipart([b"", '{"op":"\\u0é"}'.encode()])
            r = json.loads(s.recv_multipart()[-1])
            s.close()
            eq(r["error"]["code"], "invalid_json", "a JSON error quoting half a character")
            _ok(d.call("status"))
            assert d.proc.poll() is None, "thiduad exited"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------- one daemon per state dir

def test_a_second_daemon_on_the_same_state_directory_is_refused():
    """Issue 13 item 11: the second thiduad on a state directory must not take the first
    one's sockets (nor run its scheduler): it refuses, naming the first one's pid, and the
    first keeps serving. A socket left by a killed daemon is removed by the next one; a
    daemon that stops removes only the socket files it bound."""
    import socket
    from harness import BIN
    with Daemon(start_at=START) as d:
        sock = os.path.join(d.dir, "api.sock")
        before = os.stat(sock).st_ino
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-c", d.config,
                            "--state-dir", d.dir, "--fake-clock"], capture_output=True, text=True, timeout=30)
        eq(p.returncode, 1, f"the second daemon's exit status (stderr: {p.stderr})")
        assert f"pid {d.proc.pid}" in p.stderr and "in use" in p.stderr, p.stderr
        eq(os.stat(sock).st_ino, before, "the first daemon's socket file")
        _ok(d.call("status"))

        # killed: its socket files stay behind; the next daemon removes them and serves
        d.kill()
        assert os.path.exists(sock), "a killed daemon leaves its socket file"
        d.start()
        _ok(d.call("status"))

        # a socket file another process put in place of ours is not removed at our stop
        os.unlink(sock)
        other = socket.socket(socket.AF_UNIX)
        try:
            other.bind(sock)
            other.listen()
            eq(d.stop(), 0, "exit status")
            assert os.path.exists(sock), "thiduad removed a socket file it did not bind"
            # and a live listener is not taken over by a new daemon
            d.start(wait=False)
            eq(d.proc.wait(30), 1, "a daemon refuses an endpoint another process listens on")
            assert "another process listens on" in d.read_log(), d.read_log()[-2000:]
        finally:
            other.close()
            d.log.close()


# ------------------------------------------------------------ a full disk, repeatedly

def test_a_full_disk_logs_each_error_a_few_times_and_leaves_no_directories():
    """Issue 13 item 11b: with the disk full, every turn's commit fails the same way; the
    log writes each such line a few times and then counts the rest (the count is written
    at the latest when the daemon stops). Large files that cannot be written leave no
    partial file and no empty fan-out directory under files/."""
    with _daemon_on_tmpfs(3 * 1024 * 1024, "test_a_full_disk_logs_each_error_a_few_times_and_leaves_no_directories") as (d, _):
        if d:
            rng = random.Random(13)
            t0 = time.monotonic()
            mark = len(d.read_log())
            refused = 0
            for i in range(300):
                req = {"op": "report.submit", "id": f"rep-{i}", "unit": SUBMITTERS[i % len(SUBMITTERS)],
                       "report": "BC-NAM", "period": "2024", "files": [f"bao-cao-{i}.pdf"]}
                size = 1100 * 1024 if i % 10 == 9 else 48 * 1024     # every tenth under files/
                r = _call(d, [b"", json.dumps(req).encode(), rng.randbytes(size)])
                refused += not r["ok"]
                if r["ok"] is False:
                    eq(r["error"]["code"], "storage_full", r["error"]["message"])
            elapsed = time.monotonic() - t0
            assert refused >= 150, f"only {refused} of 300 submissions refused: the disk never stayed full"
            # no partial file, no empty fan-out directory left by the refused large files
            db = d.db()
            stored = {n for (n,) in db.execute("SELECT sha256 FROM submission_files WHERE data IS NULL")}
            db.close()
            left = []
            for root, dirs, names in os.walk(os.path.join(d.dir, "files")):
                for n in dirs:
                    if not os.listdir(os.path.join(root, n)):
                        left.append(n + "/")
                left += [n for n in names if n.startswith(".tmp-") or n not in stored]
            eq(left, [], "left under files/ by the refused writes")
            eq(d.stop(), 0, "exit status")
            lines = [line.split("]: ", 1)[1] for line in d.read_log()[mark:].splitlines()
                     if "[error]: " in line or "[warning]: " in line]
            errors = {}
            for line in lines:
                errors[line] = errors.get(line, 0) + 1
            worst = max(errors.items(), key=lambda kv: kv[1])
            windows = int(elapsed // 10) + 1
            print(f"    {refused} refusals in {elapsed:.1f}s; {len(lines)} error and warning lines, the most repeated"
                  f" {worst[1]} times: {worst[0][:100]!r}")
            assert worst[1] <= 3 * windows, f"{worst[1]} times in {elapsed:.1f}s: {worst[0]!r}"
            counts = [line for line in lines if "more like this not shown" in line]
            assert counts, "no count of the lines not shown"
            assert any("disk is full" in line for line in counts), counts
