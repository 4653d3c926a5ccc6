"""Issue 17, a crash while mail arrives: thiduad killed (SIGKILL) while many thidua-mailin
run at once, as Postfix runs its pipe transport. Every message acknowledged (exit 0) has
its receipt after the restart, exactly once; every other one exited 75 (Postfix keeps it)
and is taken when delivered again, once, even when the daemon had stored it before it
died without answering."""
import hashlib
import os
import subprocess
import threading

import mail_clients as mc
from harness import BIN, Daemon, eq
from test_deadlines import at, query
from test_mailin import reply_address, reply_config, scratch

MESSAGES = 120
AT_ONCE = 12
KILL_AFTER = 30         # acknowledged messages before the kill


def run_mailin(d, raw, to):
    return subprocess.Popen([os.path.join(BIN, "thidua-mailin"), "--state-dir", d.dir, "--timeout", "5",
                             "--sender", mc.TRUNGAN, to],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def request_id(msgid):
    return "mail-" + hashlib.sha256(msgid.strip("<>").encode()).hexdigest()[:40]


def test_mailin_kill_9_while_mail_arrives_every_acknowledged_message_once():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        mails = []
        for i in range(MESSAGES):
            msgid = f"<crash-{i}@outlook.com>"
            raw, _, _ = mc.outlook(to, msgid, name=f"Báo cáo lần {i}.pdf", data=mc.PDF + str(i).encode())
            mails.append((msgid, raw))
        codes = {}
        lock = threading.Lock()

        def feed():
            live = []
            pending = list(range(MESSAGES))
            while pending or live:
                while pending and len(live) < AT_ONCE:
                    i = pending.pop(0)
                    p = run_mailin(d, mails[i][1], to)
                    p.stdin.write(mails[i][1])
                    p.stdin.close()
                    live.append((i, p))
                i, p = live.pop(0)
                p.wait(60)
                with lock:
                    codes[i] = (p.returncode, p.stderr.read().decode())
                p.stderr.close()

        t = threading.Thread(target=feed)
        t.start()
        while t.is_alive():
            with lock:
                if sum(1 for c, _ in codes.values() if c == 0) >= KILL_AFTER:
                    break
            threading.Event().wait(0.002)
        d.kill()
        t.join()

        eq(len(codes), MESSAGES, "every thidua-mailin exited")
        bad = {i: c for i, c in codes.items() if c[0] not in (0, 75)}
        eq(bad, {}, "only 0 (recorded) or 75 (the mail server keeps it)")
        acked = sorted(i for i, (c, _) in codes.items() if c == 0)
        again = sorted(i for i, (c, _) in codes.items() if c == 75)
        assert len(acked) >= KILL_AFTER and again, (len(acked), len(again))
        print(f"acknowledged before the kill: {len(acked)}, exit 75: {len(again)}", flush=True)

        d.start()
        con = d.db()
        eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity")
        con.close()
        for i in acked:
            msgid = mails[i][0]
            rows = query(d, "SELECT outcome, receipt FROM inbox WHERE message_id = ?1", msgid.strip("<>"))
            eq([r["outcome"] for r in rows], ["submitted"], f"acknowledged message {i}: one row")
            eq(len(query(d, "SELECT 1 FROM submissions WHERE receipt = ?1 AND request_id = ?2", rows[0]["receipt"],
                         request_id(msgid))), 1, f"acknowledged message {i}: its receipt")

        unanswered = [i for i in again if query(d, "SELECT 1 FROM inbox WHERE message_id = ?1", mails[i][0].strip("<>"))]
        print(f"stored by the daemon but not acknowledged before it died: {len(unanswered)}", flush=True)
        # Postfix delivers the others again (and, having lost an answer, some acknowledged
        # ones too): each is taken, once
        for i in again + acked[:5]:
            p = run_mailin(d, mails[i][1], to)
            _, err = p.communicate(mails[i][1], timeout=60)
            eq(p.returncode, 0, f"message {i} delivered again: {err.decode()}")
        for i, (msgid, _) in enumerate(mails):
            rows = query(d, "SELECT outcome, receipt FROM inbox WHERE message_id = ?1", msgid.strip("<>"))
            eq([r["outcome"] for r in rows], ["submitted"], f"message {i}: one row")
            subs = query(d, "SELECT s.receipt, f.name FROM submissions s JOIN submission_files f ON f.submission = s.id"
                            " WHERE s.request_id = ?1", request_id(msgid))
            eq([(s["receipt"], s["name"]) for s in subs], [(rows[0]["receipt"], f"Báo cáo lần {i}.pdf")],
               f"message {i}: its receipt, once")
        eq(len(query(d, "SELECT * FROM submissions")), MESSAGES, "one submission per message")
        eq(len(query(d, "SELECT * FROM inbox")), MESSAGES, "one inbox row per message")
