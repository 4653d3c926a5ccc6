"""Issue 14: one RFC 5322 writer (common/mailmsg.c). A message thiduad writes to its spool
and the same message sent by thidua-mail are the same bytes: the spooled reminder is read
back, handed to the mail worker as a job with the same fields, and what the SMTP server
receives equals the .eml but for the Date line (the spool's is the daemon's fake clock,
the worker's the real one)."""
import email
import email.policy
import re

from harness import Daemon, eq
from test_deadlines import at, outbox
from test_mail_worker import SmtpServer, Worker, channel


def date_masked(raw):
    return re.sub(rb"^Date: [^\r]*\r\n", b"Date: -\r\n", raw, count=1, flags=re.M)


def test_a_spooled_message_and_the_mail_sent_are_the_same_bytes():
    with Daemon(start_at="2024-10-31T12:00:00+07:00") as d:
        at(d, "2024-11-01T08:00:00")
        (r,) = outbox(d, "report = 'BC-NAM' AND recipient = 'XA-TRUNGAN' AND kind = 'reminder'")
        assert r["path"].endswith(".eml"), r["path"]
        with open(r["path"], "rb") as fp:
            spooled = fp.read()
    m = email.message_from_bytes(spooled, policy=email.policy.default)
    text = m.get_content()
    assert "Trung An" in text and "Hạn nộp" in text, text
    payload = {"from": m["From"].addresses[0].addr_spec, "from_name": m["From"].addresses[0].display_name,
               "to": [{"address": a.addr_spec} for a in m["To"].addresses], "subject": str(m["Subject"]),
               "text": text, "html": None, "message_id": m["Message-ID"], "dedup_key": str(m["X-Thidua-Dedup-Key"])}
    if m["Reply-To"]:
        payload["reply_to"] = m["Reply-To"].addresses[0].addr_spec
    eq((payload["from"], payload["from_name"]), ("thidua@localhost", "thidua"), "the spool's sender")
    with SmtpServer() as srv, Worker() as w:
        res = w.run({"type": "job", "job": "same-1", "attempt": 1, "lease": 120,
                     "payload": dict(payload, channel=channel(srv.url(), utc_offset=7 * 3600))})
        eq(res["status"], "sent", f"result {res}")
        sent = srv.h.messages[0][2]
    assert b"Content-Transfer-Encoding: quoted-printable\r\n" in spooled, spooled[:800]
    eq(date_masked(sent), date_masked(spooled), "the bytes sent, as spooled")
