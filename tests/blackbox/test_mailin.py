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


def reply_config(tmp):
    return config_copy(tmp, lambda t: t.replace("daemon = {\n", REPLY_TO, 1))


def test_mailin_notices_carry_a_reply_to_naming_the_obligation():
    tmp = tempfile.mkdtemp(prefix="thidua-mailin-")
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
    tmp = tempfile.mkdtemp(prefix="thidua-mailin-")
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
