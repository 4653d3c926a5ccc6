"""Issue 17 through a real Postfix: replies sent over SMTP to a private Postfix on loopback
(tests/blackbox/postfix.py), which hands each to thidua-mailin through the pipe transport
of config/examples/ as a non-root user; the receipts, the refusals and the answers as the
units get them. Skips, saying why, where Postfix cannot run (not root, not installed)."""
import hashlib
import os
import re
import smtplib

import mail_clients as mc
from harness import Daemon, eq
from postfix import Postfix, open_state_dir
from test_deadlines import at, outbox, query, read_eml, text_of
from test_mailin import reply_address, reply_config, scratch


def send(pf, sender, to, raw, size_declared=True):
    """One message over SMTP; the queue id Postfix gave it."""
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=120) as s:
        s.ehlo("mail.example.net")
        opts = [f"SIZE={len(raw)}"] if size_declared else []
        code, msg = s.mail(sender, opts)
        assert code == 250, (code, msg)
        code, msg = s.rcpt(to)
        assert code == 250, (code, msg)
        code, msg = s.data(raw)
        assert code == 250, (code, msg)
    return re.search(r"queued as ([0-9A-Za-z]+)", msg.decode()).group(1)


def delivered(pf, qid):
    """The outcome of the delivery to thidua: (status, the line)."""
    (line,) = pf.wait_log(rf"{qid}: to=<nopbaocao\+.*status=")[:1]
    return re.search(r"status=(\w+)", line).group(1), line


def test_mailin_through_postfix_real_clients_receipts_refusals_and_answers():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        with Postfix(d.dir) as pf:
            open_state_dir(d.dir, pf.uid, pf.gid)
            want = {}
            for kind in ("outlook", "gmail", "thunderbird", "phone", "forward", "no_file", "auto_reply"):
                raw, note, files = mc.CLIENTS[kind](to, f"<{kind}-1@client.example>")
                qid = send(pf, mc.TRUNGAN, to, raw)
                status, line = delivered(pf, qid)
                eq(status, "sent", f"{kind}: {line}")
                want[kind] = (note, files)
            # a bounce: an empty envelope sender, and the DSN's own From
            raw, _, _ = mc.bounce(to, "<bounce-1@mx.example.net>")
            status, line = delivered(pf, send(pf, "", to, raw))
            eq(status, "sent", line)

            rows = {r["message_id"].split("-1@")[0]: r for r in query(d, "SELECT * FROM inbox ORDER BY id")}
            eq(sorted(rows), sorted(list(want) + ["bounce"]), "every message recorded once")
            for kind in ("outlook", "gmail", "thunderbird", "phone", "forward"):
                r = rows[kind]
                eq((r["outcome"], r["code"]), ("submitted", None), f"{kind}: {r['detail']}")
                got = query(d, "SELECT f.name, f.sha256 FROM submission_files f JOIN submissions s ON s.id = f.submission"
                               " WHERE s.receipt = ?1 ORDER BY f.idx", r["receipt"])
                eq([(f["name"], f["sha256"]) for f in got],
                   [(n, hashlib.sha256(b).hexdigest()) for n, b in want[kind][1]], f"{kind}: the files, names exact")
                (s,) = query(d, "SELECT note FROM submissions WHERE receipt = ?1", r["receipt"])
                eq(s["note"].strip(), want[kind][0].strip(), f"{kind}: the note")
                eq(r["return_path"], mc.TRUNGAN, f"{kind}: the envelope sender")
            eq((rows["no_file"]["outcome"], rows["no_file"]["code"]), ("refused", "no_file"), "a reply with no file")
            eq((rows["auto_reply"]["outcome"], rows["auto_reply"]["automatic"]), ("refused", 1), "the auto-reply")
            eq((rows["bounce"]["return_path"], rows["bounce"]["automatic"]), ("", 1), "the bounce: empty return path")
            # what Postfix itself wrote back: nothing (every message was taken)
            eq(pf.captured_messages(), [], "no bounce from Postfix")

            # 30 MB: refused by Postfix at the door (message_size_limit, the daemon's
            # max_request_bytes), declared or not; the sender's own server tells them
            big, _, _ = mc.outlook(to, "<big-1@outlook.com>", name="Ảnh scan 30MB.pdf", data=os.urandom(30 * 1024 * 1024))
            with smtplib.SMTP("127.0.0.1", pf.port, timeout=300) as s:
                s.ehlo("mail.example.net")
                code, msg = s.mail(mc.TRUNGAN, [f"SIZE={len(big)}"])
                eq(code, 552, f"declared size refused: {msg}")
                assert b"exceeds" in msg, msg
                s.rset()
                code, _ = s.mail(mc.TRUNGAN)
                eq(code, 250, "undeclared")
                s.rcpt(to)
                try:
                    code, msg = s.data(big)
                except smtplib.SMTPDataError as e:
                    code, msg = e.smtp_code, e.smtp_error
                eq(code, 552, f"the data refused at its end: {msg}")
            eq(len(query(d, "SELECT * FROM inbox")), 8, "nothing recorded for the 30 MB message")

        # the answers, as the outbox writes them: a receipt for each submission, the reason
        # for the reply with no file, none to the auto-reply nor to the bounce
        at(d, "2024-11-01T12:30")
        answers = []
        for r in outbox(d, "kind = 'mail_answer'"):
            m = read_eml(r["path"])
            answers.append((str(m["To"]), str(m["Subject"]), text_of(m)))
        eq(sorted(a[0] for a in answers), [mc.TRUNGAN] * 6, "six answers, all to the unit's address")
        receipts = sorted(a[1] for a in answers if a[1].startswith("[Biên nhận]"))
        eq(len(receipts), 5, receipts)
        for kind in ("outlook", "gmail", "thunderbird", "phone", "forward"):
            (body,) = [a[2] for a in answers if rows[kind]["receipt"] in a[1]]
            for name, data in want[kind][1]:
                assert name in body and hashlib.sha256(data).hexdigest() in body, (kind, name, body)
        (refusal,) = [a for a in answers if a[1].startswith("[Chưa tiếp nhận]")]
        assert "Thư không có tệp đính kèm" in refusal[2], refusal


def test_mailin_through_postfix_daemon_down_is_kept_and_delivered_later():
    """The daemon stopped: thidua-mailin exits 75, Postfix keeps the message (deferred) and
    delivers it once the daemon is back (postfix flush)."""
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        with Postfix(d.dir) as pf:
            open_state_dir(d.dir, pf.uid, pf.gid)
            d.stop()
            raw, _, files = mc.gmail(to, "<down-1@mail.gmail.com>")
            qid = send(pf, mc.TRUNGAN, to, raw)
            (line,) = pf.wait_log(rf"{qid}: to=<nopbaocao\+.*status=deferred")[:1]
            assert "temporary failure" in line or "thidua-mailin" in line, line
            d.start()
            open_state_dir(d.dir, pf.uid, pf.gid)       # the new socket
            pf.run("flush")
            status, line = delivered_after(pf, qid)
            eq(status, "sent", line)
            (r,) = query(d, "SELECT * FROM inbox WHERE outcome = 'submitted'")
            eq(r["message_id"], "down-1@mail.gmail.com", "taken once the daemon is back")
            eq(len(query(d, "SELECT * FROM submissions")), 1, "one submission")


def delivered_after(pf, qid):
    line = pf.wait_log(rf"{qid}: to=<nopbaocao\+.*status=sent")[0]
    return "sent", line
