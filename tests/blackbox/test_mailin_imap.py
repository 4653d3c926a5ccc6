"""Issue 17, the mailbox the district does not run: thidua-imap polls a real Dovecot on
loopback over IMAPS (tests/blackbox/dovecot.py) with libcurl, hands each unseen message to
thiduad as thidua-mailin does, and marks it \\Seen (or moves it) only once the daemon
acknowledged it. A crash between the fetch (which sets \\Seen by itself) and the mark:
the message is fetched again and stored once."""
import os
import signal
import subprocess

import mail_clients as mc
from dovecot import Dovecot
from harness import BIN, Daemon, eq
from test_deadlines import at, query
from test_mailin import reply_address, reply_config, scratch


def imap(d, dv, *args, timeout=120):
    cmd = [os.path.join(BIN, "thidua-imap"), "--url", dv.url, "--user", "tongthu@cuchi.example.org",
           "--password-file", dv.password_file, "--cacert", dv.cert, "--state-dir", d.dir, "--timeout", "10",
           "--once", *args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout)


def inbox(d):
    return query(d, "SELECT * FROM inbox ORDER BY id")


def test_mailin_imap_takes_unseen_replies_once_and_marks_them_after_the_acknowledgement():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d, Dovecot() as dv:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        want = {}
        for kind in ("outlook", "gmail", "thunderbird"):
            raw, note, files = mc.CLIENTS[kind](to, f"<{kind}-imap@client.example>")
            # as the mail service delivered it: the envelope's recipient in Delivered-To
            dv.append(b"Return-Path: <" + mc.TRUNGAN.encode() + b">\r\nDelivered-To: " + to.encode() + b"\r\n" + raw)
            want[kind] = files
        raw, _, _ = mc.bounce(to, "<bounce-imap@mx.example.net>")
        dv.append(b"Return-Path: <>\r\n" + raw)
        # a message someone has read already: not taken
        raw, _, _ = mc.outlook(to, "<seen@outlook.com>")
        dv.append(raw)
        m = dv.client()
        m.select("INBOX")
        m.uid("STORE", "5", "+FLAGS", "(\\Seen)")
        m.logout()

        p = imap(d, dv)
        eq(p.returncode, 0, p.stderr.decode())
        rows = {r["message_id"]: r for r in inbox(d)}
        eq(sorted(rows), sorted(["outlook-imap@client.example", "gmail-imap@client.example",
                                 "thunderbird-imap@client.example", "bounce-imap@mx.example.net"]), "the unseen ones")
        for kind, files in want.items():
            r = rows[f"{kind}-imap@client.example"]
            eq((r["outcome"], r["return_path"]), ("submitted", mc.TRUNGAN), f"{kind}: {r['detail']}")
            got = query(d, "SELECT f.name FROM submission_files f JOIN submissions s ON s.id = f.submission"
                           " WHERE s.receipt = ?1 ORDER BY f.idx", r["receipt"])
            eq([g["name"] for g in got], [n for n, _ in files], f"{kind}: files")
        b = rows["bounce-imap@mx.example.net"]
        eq((b["return_path"], b["answered"]), ("", 0), "the bounce: its empty Return-Path, no answer")
        eq([("\\Seen" in f) for _, f in dv.messages()], [True] * 5, "every message marked")
        # the next round finds nothing new
        p = imap(d, dv)
        eq(p.returncode, 0, p.stderr.decode())
        eq(len(inbox(d)), 4, "nothing taken twice")


def test_mailin_imap_daemon_down_leaves_the_message_unseen_and_move_to_after_it():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d, Dovecot() as dv:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        raw, _, _ = mc.phone(to, "<phone-imap@icloud.com>")
        dv.append(raw)
        dv.create("DaNhan")
        d.stop()
        p = imap(d, dv, "--move-to", "DaNhan")
        eq(p.returncode, 75, p.stderr.decode())
        assert b"not taken by thiduad" in p.stderr, p.stderr
        eq([("\\Seen" in f) for _, f in dv.messages()], [False], "the fetch's \\Seen taken back")
        d.start()
        p = imap(d, dv, "--move-to", "DaNhan")
        eq(p.returncode, 0, p.stderr.decode())
        eq([r["outcome"] for r in inbox(d)], ["submitted"], "taken once the daemon is back")
        eq(dv.messages(), [], "moved out of the inbox")
        eq(len(dv.messages("DaNhan")), 1, "into the folder")


def test_mailin_imap_crash_between_fetch_and_mark_fetches_again_and_stores_once():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d, Dovecot() as dv:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        raw, _, files = mc.gmail(to, "<crash-imap@mail.gmail.com>")
        dv.append(raw)
        pending = os.path.join(d.dir, "imap-pending")
        kept = os.path.join(d.dir, "inbox")
        # the daemon stopped (SIGSTOP): the worker fetches, keeps the message, hands it
        # over and waits for the acknowledgement; it dies there
        d.signal(signal.SIGSTOP)
        try:
            w = subprocess.Popen([os.path.join(BIN, "thidua-imap"), "--url", dv.url, "--user", "tongthu@cuchi.example.org",
                                  "--password-file", dv.password_file, "--cacert", dv.cert, "--state-dir", d.dir,
                                  "--timeout", "60", "--once"], stderr=subprocess.PIPE)
            import time
            deadline = time.monotonic() + 60
            while not (os.path.exists(pending) and os.path.isdir(kept)
                       and [f for f in os.listdir(kept) if f.endswith(".eml") and not f.startswith(".")]):
                assert time.monotonic() < deadline and w.poll() is None, "the worker fetched and kept the message"
                time.sleep(0.01)
            eq([("\\Seen" in f) for _, f in dv.messages()], [True], "the fetch set \\Seen by itself")
            w.kill()
            w.wait()
        finally:
            d.signal(signal.SIGCONT)
        assert os.path.exists(pending), "the fetched UID is remembered"
        p = imap(d, dv)
        eq(p.returncode, 0, p.stderr.decode())
        assert b"taken again" in p.stderr, p.stderr
        rows = inbox(d)
        eq([(r["message_id"], r["outcome"]) for r in rows], [("crash-imap@mail.gmail.com", "submitted")], "stored once")
        eq(len(query(d, "SELECT * FROM submissions")), 1, "one submission")
        eq([("\\Seen" in f) for _, f in dv.messages()], [True], "marked")
        assert not os.path.exists(pending), "nothing pending"
        p = imap(d, dv)
        eq((p.returncode, len(inbox(d))), (0, 1), "the next round takes nothing")
