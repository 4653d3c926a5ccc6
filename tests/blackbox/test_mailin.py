"""Issue 17, reply by e-mail: every reminder, overdue notice and return carries a Reply-To
LOCAL+TOKEN@DOMAIN (daemon.reply_to) whose token names the obligation and is an HMAC under
STATE_DIR/reply.key (0600, not in the database); the message asks for the report by reply."""
import os
import re
import stat
import tempfile

from harness import Daemon, eq
from test_deadlines import at, config_copy, outbox, query, read_eml, text_of

REPLY_TO = 'daemon = {\n  reply_to = { local = "nopbaocao"; domain = "cuchi.example.org"; };\n'
HINT = "Để nộp báo cáo: trả lời thư này và đính kèm tệp báo cáo"
ADDR = re.compile(r"^nopbaocao\+([a-z2-7]{20})@cuchi\.example\.org$")


def scratch():
    """A temporary directory for a test's configuration, removed when the tests end."""
    import atexit
    import shutil
    d = tempfile.mkdtemp(prefix="thidua-mailin-")
    atexit.register(shutil.rmtree, d, True)
    return d


def reply_config(tmp):
    return config_copy(tmp, lambda t: t.replace("daemon = {\n", REPLY_TO, 1))


def test_mailin_notices_carry_a_reply_to_naming_the_obligation():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-12-16T12:00")
        key = os.path.join(d.dir, "reply.key")
        eq(stat.S_IMODE(os.stat(key).st_mode), 0o600, "the key is the daemon's alone")
        with open(key) as fp:
            secret = fp.read().strip()
        assert re.fullmatch(r"[0-9a-f]{64}", secret), secret
        rows = outbox(d, "report = 'BC-NAM' AND recipient IN ('XA-TRUNGAN', 'XA-ANNHONTAY')")
        kinds = {r["kind"] for r in rows}
        assert {"reminder", "overdue"} <= kinds, kinds
        tokens = {}
        for r in rows:
            m = read_eml(r["path"])
            if r["kind"] in ("reminder", "overdue", "returned"):
                got = ADDR.match(str(m["Reply-To"]))
                assert got, (r["kind"], m["Reply-To"])
                assert HINT in text_of(m), text_of(m)
                tokens.setdefault(r["recipient"], set()).add(got.group(1))
            else:
                assert m["Reply-To"] is None, (r["kind"], m["Reply-To"])
        # one token per obligation: every notice of a unit's report names the same one, and
        # two units' differ
        eq({u: len(t) for u, t in tokens.items()}, {"XA-TRUNGAN": 1, "XA-ANNHONTAY": 1}, "one token each")
        assert tokens["XA-TRUNGAN"] != tokens["XA-ANNHONTAY"]
        (tok,) = tokens["XA-TRUNGAN"]
        eq(query(d, "SELECT report, period, unit FROM reply_tokens WHERE token = ?1", tok),
           [{"report": "BC-NAM", "period": "2024", "unit": "XA-TRUNGAN"}], "the token names the obligation")
        # the key is not in the database
        con = d.db()
        try:
            dump = "\n".join(con.iterdump())
        finally:
            con.close()
        assert secret not in dump
    # another state directory (another key): other tokens for the same obligations
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d2:
        at(d2, "2024-11-01T12:00")
        (r,) = outbox(d2, "report = 'BC-NAM' AND recipient = 'XA-TRUNGAN' AND kind = 'reminder'")
        other = ADDR.match(str(read_eml(r["path"])["Reply-To"])).group(1)
        assert other != tok, "the token depends on the key"


def test_mailin_no_reply_to_without_the_setting():
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        (r,) = outbox(d, "report = 'BC-NAM' AND recipient = 'XA-TRUNGAN' AND kind = 'reminder'")
        m = read_eml(r["path"])
        assert m["Reply-To"] is None and HINT not in text_of(m)
        assert not os.path.exists(os.path.join(d.dir, "reply.key"))


def test_mailin_bad_reply_to_setting_is_refused_with_the_reason():
    tmp = scratch()
    cfg = config_copy(tmp, lambda t: t.replace(
        "daemon = {\n", 'daemon = {\n  reply_to = { local = "nop+bao"; domain = "localhost"; };\n', 1))
    d = Daemon(config=cfg)
    d.start(wait=False)
    d.proc.wait(timeout=30)
    log = d.read_log()
    d.close()
    assert d.proc.returncode != 0
    assert "daemon.reply_to: local \"nop+bao\"" in log, log
    assert "daemon.reply_to: domain \"localhost\"" in log, log


def test_mailin_mail_worker_writes_the_reply_to_of_the_job():
    from test_mail_worker import SmtpServer, Worker, channel, job, parse
    with SmtpServer() as srv, Worker() as w:
        to = [{"address": "a@cuchi.example.org"}]
        r = w.run(job("r1", channel(srv.url()), to, reply_to="nopbaocao+abcdefghijklmnopqrst@cuchi.example.org"))
        eq(r["status"], "sent", f"result {r}")
        eq(parse(srv.h.messages[-1][2])["Reply-To"], "nopbaocao+abcdefghijklmnopqrst@cuchi.example.org", "Reply-To")
        r = w.run(job("r2", channel(srv.url()), to))
        eq(r["status"], "sent", f"result {r}")
        eq(parse(srv.h.messages[-1][2])["Reply-To"], None, "no Reply-To when the job has none")
        r = w.run(job("r3", channel(srv.url()), to, reply_to="x@y\r\nBcc: victim@example.org"))
        eq(r["status"], "failed", f"header injection: {r}")
        assert "reply_to" in r["reason"], r


# ---------------------------------------------------------------- thidua-mailin
import base64
import email.utils
import hashlib
import subprocess
import urllib.parse
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from harness import BIN

TRUNGAN = "ubnd.trungan@cuchi.example.org"
PDF = "Nội dung báo cáo kết quả thi đua năm 2024 của xã Trung An".encode() * 50
NAME_VI = "Báo cáo thi đua năm 2024 - xã Trung An.pdf"


def mailin(d, raw, recipient=None, *args):
    cmd = [os.path.join(BIN, "thidua-mailin"), "--state-dir", d.dir, "--timeout", "20", *args]
    if recipient:
        cmd.append(recipient)
    return subprocess.run(cmd, input=raw, capture_output=True, timeout=60)


def reply_address(d, unit="XA-TRUNGAN"):
    (r,) = outbox(d, "report = 'BC-NAM' AND recipient = ?1 AND kind = 'reminder' AND step = 'r10wd'", unit)
    return str(read_eml(r["path"])["Reply-To"])


def outlook_reply(to, msgid, sender=TRUNGAN):
    """As Outlook writes a Vietnamese file name: RFC 2231 in the disposition, RFC 2047 in
    the type's name; the body quoted-printable, with an HTML alternative."""
    b64 = base64.encodebytes(PDF).decode().replace("\n", "\r\n")
    q = urllib.parse.quote(NAME_VI, safe="")
    enc = "=?utf-8?B?" + base64.b64encode(NAME_VI.encode()).decode() + "?="
    note = "Kính gửi Phòng GD&ĐT, xã Trung An gửi báo cáo năm 2024."
    qp = "".join(chr(b) if 32 < b < 127 and b != 61 else "=%02X" % b for b in note.encode())
    return (f"From: =?utf-8?B?{base64.b64encode('Văn thư xã Trung An'.encode()).decode()}?= <{sender}>\r\n"
            f"To: <{to}>\r\nSubject: RE: [Nhắc hạn] Báo cáo\r\nMessage-ID: {msgid}\r\n"
            "MIME-Version: 1.0\r\nX-Mailer: Microsoft Outlook 16.0\r\n"
            'Content-Type: multipart/mixed; boundary="----=_NextPart_000_0001"\r\n\r\n'
            "------=_NextPart_000_0001\r\n"
            'Content-Type: multipart/alternative; boundary="----=_NextPart_001_0002"\r\n\r\n'
            "------=_NextPart_001_0002\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
            f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{qp}\r\n\r\n"
            "------=_NextPart_001_0002\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n<html><body>x</body></html>\r\n\r\n"
            "------=_NextPart_001_0002--\r\n\r\n"
            "------=_NextPart_000_0001\r\n"
            f'Content-Type: application/pdf; name="{enc}"\r\n'
            "Content-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; filename*=utf-8''{q}\r\n\r\n{b64}\r\n"
            "------=_NextPart_000_0001--\r\n").encode(), note


def answer_report():
    import test_deadlines
    return test_deadlines.BC_NAM


def answers(d):
    """(to, subject, body) of each answer, in order."""
    out = []
    for r in outbox(d, "kind = 'mail_answer'"):
        m = read_eml(r["path"])
        out.append((str(m["To"]), str(m["Subject"]), text_of(m)))
    return sorted(out, key=lambda a: a[1])


def submissions(d):
    return query(d, "SELECT s.receipt, s.note, f.name, f.sha256, f.size FROM submissions s"
                    " JOIN submission_files f ON f.submission = s.id JOIN obligations o ON o.id = s.obligation"
                    " WHERE o.unit = 'XA-TRUNGAN' AND o.report = 'BC-NAM' AND o.period = '2024' ORDER BY s.id, f.idx")


def inbox(d):
    return query(d, "SELECT * FROM inbox ORDER BY id")


def test_mailin_outlook_reply_becomes_a_receipt_once():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        raw, note = outlook_reply(to, "<AM0PR07MB1234.1@eurprd07.outlook.com>")
        p = mailin(d, raw, to, "--sender", TRUNGAN)
        eq(p.returncode, 0, p.stderr.decode())
        (s,) = submissions(d)
        eq(s["name"], NAME_VI, "the RFC 2231 name, exactly")
        eq(s["sha256"], hashlib.sha256(PDF).hexdigest(), "the file, decoded")
        eq(s["note"].strip(), note, "the text part is the note")
        (row,) = inbox(d)
        eq((row["outcome"], row["receipt"], row["unit"], row["sender"]), ("submitted", s["receipt"], "XA-TRUNGAN", TRUNGAN))
        with open(row["path"], "rb") as fp:
            eq(fp.read(), raw, "the raw message is kept in the inbox")
        assert row["path"].startswith(os.path.join(d.dir, "inbox") + "/")
        # the sender's answer: the receipt, in Vietnamese, to the sender only
        at(d, "2024-11-01T12:01")
        (a,) = outbox(d, "kind = 'mail_answer'")
        m = read_eml(a["path"])
        eq(str(m["To"]), TRUNGAN, "to the sender")
        eq(str(m["Subject"]), f"[Biên nhận] {s['receipt']} {answer_report()} 2024", "subject")
        body = text_of(m)
        for want in (s["receipt"], NAME_VI, hashlib.sha256(PDF).hexdigest(), f"{len(PDF)} byte", "đúng hạn",
                     "Ủy ban nhân dân xã Trung An"):
            assert want in body, (want, body)
        # the same mail delivered again (Postfix retried after a lost answer): stored once
        p = mailin(d, raw, to, "--sender", TRUNGAN)
        eq(p.returncode, 0, p.stderr.decode())
        eq(len(submissions(d)), 1, "one submission for one Message-ID")
        eq(len(inbox(d)), 1, "the replay records nothing new")
        eq(len(outbox(d, "kind = 'mail_answer'")), 1, "and answers once")
        # thiduactl inbox list / show
        (m,) = d.ctl("inbox", "list")["messages"]
        eq((m["outcome"], m["receipt"], m["unit"]), ("submitted", s["receipt"], "XA-TRUNGAN"), "inbox list")
        m = d.ctl("inbox", "show", str(row["id"]))["message"]
        eq((m["files"], m["path"], m["sender"]), ([NAME_VI], row["path"], TRUNGAN), "inbox show")
        rc, out = d.ctl_raw("inbox", "list")
        assert rc == 0 and "submitted" in out and s["receipt"] in out, out
        rc, out = d.ctl_raw("inbox", "show", str(row["id"]))
        assert rc == 0 and NAME_VI in out and row["path"] in out and note in out, out
        rc, out = d.ctl_raw("inbox", "show", "99")
        assert rc != 0 and "no message 99" in out, out


def test_mailin_forward_in_a_multipart_with_inline_image_and_signature():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        inner = EmailMessage()
        inner["From"] = "canbo@gmail.com"
        inner["Subject"] = "Báo cáo"
        inner.set_content("Gửi anh bản báo cáo.")
        inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="Biểu mẫu số 2 – tổng hợp.pdf")
        outer = MIMEMultipart("mixed")
        outer["From"] = email.utils.formataddr(("Văn thư", TRUNGAN))
        outer["To"] = to
        outer["Subject"] = "Fwd: Báo cáo"
        outer["Message-ID"] = "<fwd-1@mail.gmail.com>"
        related = MIMEMultipart("related")
        related.attach(MIMEText("Chuyển tiếp báo cáo của xã.", "plain", "utf-8"))
        logo = MIMEBase("image", "png")
        logo.set_payload(b"\x89PNG logo")
        logo["Content-ID"] = "<logo@x>"
        logo["Content-Disposition"] = "inline"
        related.attach(logo)
        outer.attach(related)
        outer.attach(MIMEMessage(inner))
        sig = MIMEApplication(b"signature", "pkcs7-signature")
        sig.add_header("Content-Disposition", "attachment", filename="smime.p7s")
        outer.attach(sig)
        p = mailin(d, outer.as_bytes(), to)
        eq(p.returncode, 0, p.stderr.decode())
        eq([(s["name"], s["sha256"]) for s in submissions(d)],
           [("Biểu mẫu số 2 – tổng hợp.pdf", hashlib.sha256(PDF).hexdigest())],
           "the forwarded message's attachment; no logo, no signature")
        eq(submissions(d)[0]["note"].strip(), "Chuyển tiếp báo cáo của xã.", "note")


def plain_reply(to, msgid, sender=TRUNGAN, attach=False, **headers):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = "Re: Nhắc hạn"
    m["Message-ID"] = msgid
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content("Xin lỗi, tôi quên đính kèm.")
    if attach:
        m.add_attachment(PDF, maintype="application", subtype="pdf", filename="baocao.pdf")
    return m.as_bytes()


def test_mailin_refusals_and_held_are_recorded_and_acknowledged():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        # a reply with no attachment: refused, acknowledged (Postfix must not retry)
        p = mailin(d, plain_reply(to, "<r1@x>"), to)
        eq(p.returncode, 0, p.stderr.decode())
        # a sender that is not an address of the unit: held for the office
        p = mailin(d, plain_reply(to, "<r2@x>", sender="someone@gmail.com", attach=True), to)
        eq(p.returncode, 0, p.stderr.decode())
        # an unknown token (a guess, or made under another key)
        bad = to.replace(ADDR.match(to).group(1), "a" * 20)
        p = mailin(d, plain_reply(bad, "<r3@x>", attach=True), bad)
        eq(p.returncode, 0, p.stderr.decode())
        # an auto-reply to the reminder: recorded as automatic
        p = mailin(d, plain_reply(to, "<r4@x>", Auto_Submitted="auto-replied"), to)
        eq(p.returncode, 0, p.stderr.decode())
        rows = inbox(d)
        eq([(r["outcome"], r["code"]) for r in rows],
           [("refused", "no_file"), ("held", "sender_not_of_unit"), ("refused", "unknown_token"),
            ("refused", "no_file")], "outcomes")
        eq([r["automatic"] for r in rows], [0, 0, 0, 1], "the auto-reply is marked")
        eq(rows[1]["unit"], "XA-TRUNGAN", "a held message names the obligation")
        # a bounce (empty return path) is recorded and never answered
        p = mailin(d, plain_reply(to, "<r5@x>"), to, "--sender", "")
        eq(p.returncode, 0, p.stderr.decode())
        at(d, "2024-11-01T12:01")
        got = [(a[0], a[1].split("]")[0] + "]", a[2]) for a in answers(d)]
        eq([(a[0], a[1]) for a in sorted(got)],
           sorted([(TRUNGAN, "[Chưa tiếp nhận]"), ("someone@gmail.com", "[Chờ xem xét]"), (TRUNGAN, "[Chưa tiếp nhận]")]),
           "one answer each, none to the auto-reply or the bounce")
        bodies = "\n".join(a[2] for a in got)
        for want in ("Thư không có tệp đính kèm", "không phải địa chỉ thư điện tử đã đăng ký của đơn vị",
                     "không ứng với báo cáo nào"):
            assert want in bodies, (want, bodies)
        eq(submissions(d), [], "nothing submitted")
        eq([m["sender"] for m in d.ctl("inbox", "list", "--outcome", "held")["messages"]], ["someone@gmail.com"], "held")
        eq(len(d.ctl("inbox", "list", "--outcome", "refused")["messages"]), 4, "refused (the bounce too)")


def test_mailin_exit_codes_daemon_down_and_too_large():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        p = mailin(d, b"x" * 5000, to, "--max-bytes", "4096")
        eq(p.returncode, 65, "too large: EX_DATAERR, the sender is told")
        assert b"larger than 4096 bytes" in p.stderr, p.stderr
        d.stop()
        raw, _ = outlook_reply(to, "<down@x>")
        p = mailin(d, raw, to, "--timeout", "1")
        eq(p.returncode, 75, "the daemon is down: EX_TEMPFAIL, Postfix keeps it")
        kept = [f for f in os.listdir(os.path.join(d.dir, "inbox")) if not f.startswith(".")]
        eq(len(kept), 1, "kept in the inbox even so")
        # the daemon back: the retry is taken
        d.start()
        p = mailin(d, raw, to)
        eq(p.returncode, 0, p.stderr.decode())
        eq(len(submissions(d)), 1, "taken on the retry")
        p = mailin(d, raw, to, "--state-dir", "/nonexistent/thidua")
        eq(p.returncode, 75, "inbox not writable: EX_TEMPFAIL")


def test_mailin_answers_are_rate_limited_per_address():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        for i in range(12):
            p = mailin(d, plain_reply(to, f"<loop{i}@x>"), to)
            eq(p.returncode, 0, p.stderr.decode())
        eq(len(inbox(d)), 12, "every message kept")
        eq(len(outbox(d, "kind = 'mail_answer'")), 10, "at most 10 answers an hour to one address")
        at(d, "2024-11-01T13:01")           # an hour later: answered again
        p = mailin(d, plain_reply(to, "<loop-later@x>"), to)
        eq(p.returncode, 0, p.stderr.decode())
        eq(len(outbox(d, "kind = 'mail_answer'")), 11, "answered after the hour")


def test_mailin_a_restored_backup_keeps_the_reply_addresses_working():
    from test_backup import backup, members, restore
    tmp = scratch()
    archive = os.path.join(tmp, "b.tar")
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        backup(d, archive)
        m = members(archive)
        assert "reply.key" in m and m["reply.key"].mode & 0o777 == 0o600, sorted(m)
    target = os.path.join(tmp, "restored")
    rc, out = restore(archive, target)
    assert rc == 0, out
    with Daemon(config=reply_config(tmp), state_dir=target) as r:
        raw, _ = outlook_reply(to, "<after-restore@x>")
        p = mailin(r, raw, to)
        eq(p.returncode, 0, p.stderr.decode())
        eq([(x["outcome"], x["unit"]) for x in inbox(r)], [("submitted", "XA-TRUNGAN")], "the token still works")


def test_mailin_over_smtp_the_reminder_s_reply_to_and_the_answer_travel_through_thidua_mail():
    """With an smtp channel and thidua-mail: the reminder as the unit receives it carries
    the Reply-To; a reply to it becomes a receipt, and the answer reaches the sender only."""
    import email as emailmod
    from test_delivery import Receiver, Smtp, config_with_channels, wait_for, workers_ready
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config_with_channels(tmp, http, smtp, {})
            with open(cfg, encoding="utf-8") as fp:
                text = fp.read()
            with open(cfg, "w", encoding="utf-8") as fp:
                fp.write(text.replace("daemon = {\n", REPLY_TO, 1))
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")   # the 10wd reminders of BC-NAM
                got = wait_for("the reminder to Trung An", lambda: [c for _, r, c in smtp.messages if TRUNGAN in r])
                m = emailmod.message_from_bytes(got[0], policy=emailmod.policy.default)
                to = str(m["Reply-To"])
                assert ADDR.match(to), to
                assert HINT in m.get_body(("plain",)).get_content(), "the request to reply"
                raw, _ = outlook_reply(to, "<smtp-reply@outlook.com>")
                p = mailin(d, raw, to, "--sender", TRUNGAN)
                eq(p.returncode, 0, p.stderr.decode())
                (s,) = submissions(d)
                answers_ = wait_for("the answer", lambda: [(r, c) for _, r, c in smtp.messages
                                                           if b"Bi=C3=AAn nh=E1=BA=ADn" in c or "Biên nhận".encode() in c
                                                           or s["receipt"].encode() in c])
                ((rcpts, content),) = answers_
                eq(rcpts, [TRUNGAN], "to the sender only")
                a = emailmod.message_from_bytes(content, policy=emailmod.policy.default)
                assert str(a["Subject"]).startswith(f"[Biên nhận] {s['receipt']}"), a["Subject"]
                assert NAME_VI in a.get_body(("plain",)).get_content()
                eq(a["Reply-To"], None, "an answer asks for nothing")
    finally:
        http.close()
        smtp.close()


def test_mailin_more_than_64_attachments_is_refused_not_cut():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        m = EmailMessage()
        m["From"], m["To"], m["Subject"], m["Message-ID"] = TRUNGAN, to, "Re: Nhắc hạn", "<many@x>"
        m.set_content("65 tệp")
        for i in range(65):
            m.add_attachment(b"trang %d" % i, maintype="application", subtype="pdf", filename=f"trang-{i}.pdf")
        p = mailin(d, m.as_bytes(), to)
        eq(p.returncode, 0, p.stderr.decode())
        eq([(r["outcome"], r["code"]) for r in inbox(d)], [("refused", "too_many_files")], "refused")
        eq(submissions(d), [], "no part of it submitted")


def test_mailin_replies_as_real_clients_write_them():
    """Outlook, Gmail, Thunderbird, iPhone Mail and a forward (tests/blackbox/mail_clients.py):
    every file with its exact Vietnamese name, in order, and the first text part as the note.
    The phone's photographed page is inline with a Content-ID in a multipart/mixed: a file
    sent, not a picture of the body (those are inside a multipart/related)."""
    import mail_clients as mc
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        to = reply_address(d)
        for kind in ("outlook", "gmail", "thunderbird", "phone", "forward"):
            raw, note, files = mc.CLIENTS[kind](to, f"<{kind}-direct@client.example>")
            p = mailin(d, raw, to, "--sender", TRUNGAN)
            eq(p.returncode, 0, p.stderr.decode())
            row = inbox(d)[-1]
            eq((row["outcome"], row["code"]), ("submitted", None), f"{kind}: {row['detail']}")
            got = query(d, "SELECT f.name, f.sha256, s.note FROM submission_files f JOIN submissions s"
                           " ON s.id = f.submission WHERE s.receipt = ?1 ORDER BY f.idx", row["receipt"])
            eq([(g["name"], g["sha256"]) for g in got], [(n, hashlib.sha256(b).hexdigest()) for n, b in files],
               f"{kind}: the files")
            eq(got[0]["note"].strip(), note.strip(), f"{kind}: the note")
