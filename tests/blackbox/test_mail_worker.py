"""Issue 5, the mail worker: bin/thidua-mail against a real SMTP server on loopback
(aiosmtpd, in this process) and a fake thiduad (a ZeroMQ ROUTER bound here, speaking
docs/JOBS.md). The received mail is parsed with Python's email package and compared with
what was meant, Vietnamese included. Waiting is always for an event, bounded."""
import asyncio
import base64
import email
import email.policy
import email.utils
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unicodedata
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

from harness import BIN, eq

logging.getLogger("mail.log").setLevel(logging.CRITICAL)     # aiosmtpd's own session reports
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")   # loopback, a test

UNIT = "Ủy ban nhân dân xã Phú Hòa Đông"
OFFICE = "Phòng GD&ĐT Củ Chi"
SUBJECT = "[Nhắc hạn] Báo cáo tổng kết phong trào thi đua năm 2024 — còn 3 ngày làm việc"
TEXT = ("Kính gửi Ủy ban nhân dân xã Phú Hòa Đông,\n\n"
        "Hạn nộp «Báo cáo tổng kết năm 2024» là 17:00 ngày 10/11/2024 (còn 3 ngày làm việc).\n"
        ".Dòng bắt đầu bằng dấu chấm, dòng rất dài: " + "thi đua yêu nước " * 12 + "\n"
        "Trân trọng.\n")
HTML = "<p>Kính gửi <b>Ủy ban nhân dân xã Phú Hòa Đông</b>,</p>\n<p>Hạn nộp: 10/11/2024.</p>\n"


# -- a real SMTP server, scripted -----------------------------------------------------

class Handler:
    """Stores what it receives; answers chosen recipients, MAIL FROM or the end of the
    data with chosen replies; can answer RCPT or the data slowly."""

    def __init__(self):
        self.messages = []          # (mail_from, [rcpt], raw bytes)
        self.rcpt_replies = {}      # address -> "451 ..." / "550 ..."
        self.mail_reply = None
        self.data_reply = None
        self.data_delay = 0.0
        self.rcpt_delay = 0.0
        self.connections = 0
        self.logins = []
        self.tls = []               # per message received: did its session go through TLS

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        self.tls.append(session.ssl is not None)
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((mechanism, auth_data.login, auth_data.password))
        ok = auth_data.login == b"thidua" and auth_data.password == b"m\xe1\xba\xadt kh\xe1\xba\xa9u 1!"
        return AuthResult(success=ok, handled=False)


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        self.event_handler.connections += 1
        super().connection_made(transport)


class SmtpServer(Controller):
    """aiosmtpd on 127.0.0.1 and a free port, in its own thread."""

    def __init__(self, handler=None, **kw):
        self.handler_obj = handler or Handler()
        super().__init__(self.handler_obj, hostname="127.0.0.1", port=free_port(), **kw)

    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def h(self):
        return self.handler_obj

    def url(self, scheme="smtp"):
        return f"{scheme}://127.0.0.1:{self.port}"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError(f"never happened within {timeout}s: {what}")


# -- the fake thiduad and the worker ----------------------------------------------------

class Worker:
    """bin/thidua-mail (or thidua-webhook, kind="webhook") connected to a ROUTER bound
    here. Use as a context manager."""

    def __init__(self, capacity=4, verbose="-vv", kind="mail"):
        import zmq
        self.zmq = zmq
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"thidua-{kind}-")
        self.endpoint = f"ipc://{self.dir}/jobs.sock"
        self.ctx = zmq.Context()
        self.router = self.bind()
        self.log_path = os.path.join(self.dir, "worker.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(BIN, f"thidua-{kind}"), "-e", self.endpoint, "-c", str(capacity),
                                      verbose, "--name", f"test-{kind}"], stdout=self.log, stderr=self.log)
        self.ident = None
        self.seen = []              # every message the worker sent, in order
        ready = self.recv_type("ready")
        eq((ready["kind"], ready["capacity"], ready["version"], ready["name"], ready["pid"]),
           (kind, capacity, 1, f"test-{kind}", self.proc.pid), "ready")

    def bind(self):
        r = self.ctx.socket(self.zmq.ROUTER)
        r.setsockopt(self.zmq.LINGER, 0)
        r.bind(self.endpoint)
        return r

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read_log(self):
        with open(self.log_path, "rb") as fp:
            return fp.read().decode("utf-8", "replace")

    def recv(self, timeout=20):
        """The next message from the worker (JSON), or AssertionError."""
        if not self.router.poll(int(timeout * 1000)):
            raise AssertionError(f"the worker said nothing for {timeout}s:\n{self.read_log()[-4000:]}")
        ident, body = self.router.recv_multipart()
        self.ident = ident
        msg = json.loads(body)
        self.seen.append(msg)
        return msg

    def recv_type(self, type_, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            msg = self.recv(max(0.01, deadline - time.monotonic()))
            if msg["type"] == type_:
                return msg
            if time.monotonic() > deadline:
                raise AssertionError(f"no {type_} within {timeout}s")

    def send(self, msg):
        self.router.send_multipart([self.ident, json.dumps(msg).encode()])

    def results(self, n, timeout=30):
        """The next n results, by job id."""
        out = {}
        while len(out) < n:
            m = self.recv_type("result", timeout)
            out[m["job"]] = m
        return out

    def result(self, job_id, timeout=30):
        r = self.results(1, timeout)
        assert job_id in r, r
        return r[job_id]

    def run(self, msg, timeout=30):
        self.send(msg)
        return self.result(msg["job"], timeout)

    def wait_exit(self, timeout=20):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the worker did not exit within {timeout}s:\n{self.read_log()[-4000:]}")

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        log = self.read_log()
        self.router.close()
        self.ctx.term()
        shutil.rmtree(self.dir, ignore_errors=True)
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log or "LeakSanitizer" in log:
            raise AssertionError(f"sanitizer report from thidua-{self.kind}:\n{log[-6000:]}")


def channel(server_url, tls="none", **kw):
    return dict({"name": "email", "url": server_url, "tls": tls, "connect_timeout": 5, "timeout": 20}, **kw)


def job(job_id, ch, to, subject=SUBJECT, text=TEXT, html=None, key=None, attempt=1, **payload):
    key = key or f"BC-NAM/2024/r10wd/1730421000/reminder/{job_id}"
    p = {"channel": ch, "from": "thidua@cuchi.example.org", "from_name": OFFICE, "to": to,
         "subject": subject, "text": text, "html": html,
         "message_id": "<%s@thidua>" % hashlib.sha256(key.encode()).hexdigest()[:32], "dedup_key": key}
    p.update(payload)
    return {"type": "job", "job": job_id, "attempt": attempt, "lease": 120, "payload": p}


def check_lines(raw):
    """7-bit clean; every line within SMTP's 998; folded header lines with encoded-words
    and quoted-printable lines at most 76 (the first line of a header may hold its name
    and a whole encoded-word: 81 for Subject; libcurl's boundary lines are about 86). A
    display name's run of encoded words is one encoded-word however long (mail_msg.c), so
    a line that holds one encoded-word and nothing else may be longer."""
    raw.decode("ascii")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998, f"line of {len(line)}: {line!r}"
        if line[:1] == b" " or not (b":" in line or line.startswith(b"--")):
            if re.fullmatch(rb" =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=", line):
                continue
            assert len(line) <= 76, f"line of {len(line)}: {line!r}"


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def body_text(part):
    """A text part's content; its line breaks are CRLF on the wire (the canonical form of
    text/ in MIME), which Python's parser keeps: compare as lines."""
    content = part.get_content()
    assert "\r" not in content.replace("\r\n", ""), repr(content)
    return content.replace("\r\n", "\n")


# -- the tests --------------------------------------------------------------------------

def test_vietnamese_mail_arrives_exactly_as_meant():
    with SmtpServer() as srv, Worker() as w:
        r = w.run(job("1", channel(srv.url()), [{"address": "ubnd.phuhoadong@cuchi.example.org", "name": UNIT}]))
        eq((r["status"], r["code"]), ("sent", 250), f"result {r}")
        assert r["reason"].startswith("250 2.0.0 Ok: queued as Q1"), r
        eq(r["recipients"], [{"address": "ubnd.phuhoadong@cuchi.example.org", "status": "sent", "code": 250,
                              "reason": "250 2.0.0 Ok: queued as Q1"}], "recipients")
        eq(len(srv.h.messages), 1, "messages received")
        mail_from, rcpts, raw = srv.h.messages[0]
        eq((mail_from, rcpts), ("thidua@cuchi.example.org", ["ubnd.phuhoadong@cuchi.example.org"]), "envelope")
        check_lines(raw)
        m = parse(raw)
        eq(m["Subject"], SUBJECT, "Subject")
        eq((m["From"].addresses[0].display_name, m["From"].addresses[0].addr_spec),
           (OFFICE, "thidua@cuchi.example.org"), "From")
        eq([(a.display_name, a.addr_spec) for a in m["To"].addresses],
           [(UNIT, "ubnd.phuhoadong@cuchi.example.org")], "To")
        key = "BC-NAM/2024/r10wd/1730421000/reminder/1"
        eq(m["Message-ID"], "<%s@thidua>" % hashlib.sha256(key.encode()).hexdigest()[:32], "Message-ID")
        eq(m["X-Thidua-Dedup-Key"], key, "dedup key header")
        eq(m["MIME-Version"], "1.0", "MIME-Version")
        eq(m["Auto-Submitted"], "auto-generated", "Auto-Submitted")
        date = email.utils.parsedate_to_datetime(m["Date"])
        eq(date.utcoffset().total_seconds(), 0, "Date in UTC")
        assert abs(date.timestamp() - time.time()) < 120, m["Date"]
        plain = m.get_body(preferencelist=("plain",))
        eq(plain.get_content_type(), "text/plain", "type")
        eq(plain.get_content_charset(), "utf-8", "charset")
        eq(plain["Content-Transfer-Encoding"], "quoted-printable", "encoding")
        eq(body_text(plain), TEXT, "body")
        assert m.get_body(preferencelist=("html",)) is None, "no HTML part was asked for"


def test_html_alternative_and_display_names():
    to = [{"address": "a@cuchi.example.org", "name": "Trần Văn A, Chủ tịch"},
          {"address": "b@cuchi.example.org", "name": 'Nguyen "Ba" B, Pho chu tich'},
          {"address": "c@cuchi.example.org", "name": "Plain Name"},
          {"address": "d@cuchi.example.org"},
          {"address": "D@cuchi.example.org", "name": "a repeat, dropped"}]
    subject = "Thông báo: " + "đánh giá, xếp loại thi đua " * 6   # folded into several encoded-words
    with SmtpServer() as srv, Worker() as w:
        r = w.run(job("h1", channel(srv.url()), to, subject=subject, html=HTML))
        eq(r["status"], "sent", f"result {r}")
        eq([x["address"] for x in r["recipients"]], [t["address"] for t in to[:4]], "recipients")
        check_lines(srv.h.messages[0][2])
        m = parse(srv.h.messages[0][2])
        eq(srv.h.messages[0][1], [t["address"] for t in to[:4]], "envelope recipients")
        eq(m["Subject"], subject, "long Subject")
        eq([(a.display_name, a.addr_spec) for a in m["To"].addresses],
           [(t.get("name", ""), t["address"]) for t in to[:4]], "To")
        eq(m.get_content_type(), "multipart/mixed", "top level")
        alt = next(m.iter_parts())
        eq(alt.get_content_type(), "multipart/alternative", "alternative")
        eq([p.get_content_type() for p in alt.iter_parts()], ["text/plain", "text/html"], "order: HTML preferred")
        eq(body_text(m.get_body(preferencelist=("plain",))), TEXT, "text")
        eq(body_text(m.get_body(preferencelist=("html",))), HTML, "html")


LONG_NAMES = [
    "Phòng Giáo dục và Đào tạo huyện Củ Chi",
    "Ủy ban nhân dân xã Phú Hòa Đông, huyện Củ Chi, Thành phố Hồ Chí Minh",
    "Trường Trung học cơ sở Nguyễn Văn Xơ — Hội đồng Thi đua – Khen thưởng",
    "Ban Thi đua – Khen thưởng Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh",
    'Chi bộ "Ấp 3", xã Tân Thạnh Đông (Củ Chi)',    # specials among the words
    unicodedata.normalize("NFD", "Phòng Giáo dục và Đào tạo huyện Củ Chi"),   # tones as marks
]


def encoded_words(value):
    """The decoded text of each encoded-word of a raw header value, in order."""
    return [base64.b64decode(b).decode("utf-8")
            for b in re.findall(r"=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=", value)]


def rfc2047_reading(value):
    """A display name read as RFC 2047 section 6.2 says (white space between adjacent
    encoded-words dropped), as mail clients other than Python's read it."""
    import email.header
    return str(email.header.make_header(email.header.decode_header(value.split("<")[0].strip())))


def test_long_vietnamese_names_are_encoded_at_word_ends():
    """Issue 13 item 18: an encoded-word cut inside a word ("huyện C" / "ủ Chi") makes
    Python's email.policy.default show "C ủ". Every name must read exactly the same to Python
    and to an RFC 2047 reader, and every encoded word holds whole characters."""
    to = [{"address": f"u{i}@cuchi.example.org", "name": n} for i, n in enumerate(LONG_NAMES)]
    subject = ("[Nhắc hạn] Ủy ban nhân dân xã Phú Hòa Đông, huyện Củ Chi: Báo cáo tổng kết phong trào"
               " thi đua yêu nước năm 2024 — còn 3 ngày làm việc")
    with SmtpServer() as srv, Worker() as w:
        for k, from_name in enumerate(LONG_NAMES):
            r = w.run(job(f"n{k}", channel(srv.url()), to, subject=subject, from_name=from_name))
            eq(r["status"], "sent", f"result {r}")
            raw = srv.h.messages[-1][2]
            check_lines(raw)
            m = parse(raw)
            eq(m["From"].addresses[0].display_name, from_name, "From, read by email.policy.default")
            eq([a.display_name for a in m["To"].addresses], LONG_NAMES, "To, read by email.policy.default")
            eq(m["Subject"], subject, "Subject, read by email.policy.default")
            plain = email.message_from_bytes(raw)       # compat32: the raw header values
            eq(rfc2047_reading(plain["From"]), from_name, "From, read as RFC 2047 says")
            eq([rfc2047_reading(v) for v in plain["To"].split(">,")], LONG_NAMES, "To, read as RFC 2047 says")
            words = encoded_words(plain["Subject"])
            eq("".join(words), subject, "the Subject's encoded words")
            for word in words[:-1]:
                assert word.endswith(" "), f"a Subject encoded-word ends inside a word: {words}"
            for value in (plain["From"], plain["To"]):
                for word in encoded_words(value):
                    assert not unicodedata.combining(word[0]), f"an encoded-word starts with a mark: {word!r}"
                # never two encoded-words side by side: readers disagree about the space between
                assert not re.search(r"\?=\s+=\?", value), f"adjacent encoded-words: {value!r}"


def test_two_jobs_to_one_server_share_one_connection():
    with SmtpServer() as srv, Worker() as w:
        before = srv.h.connections          # the controller's own check when it started
        for i in range(3):
            r = w.run(job(f"c{i}", channel(srv.url()), [{"address": f"x{i}@cuchi.example.org"}]))
            eq(r["status"], "sent", f"job c{i}: {r}")
        eq(srv.h.connections - before, 1, "SMTP connections for three messages")
        eq(len(srv.h.messages), 3, "messages")
        # a resend after a crash: same payload, next attempt, same Message-ID
        again = job("c0", channel(srv.url()), [{"address": "x0@cuchi.example.org"}], attempt=2)
        eq(w.run(again)["status"], "sent", "resend")
        ids = [parse(raw)["Message-ID"] for _, _, raw in srv.h.messages]
        eq(ids[3], ids[0], "Message-ID of the resend")
        eq(srv.h.connections - before, 1, "still one connection")


def test_message_id_derived_from_the_dedup_key_when_absent():
    with SmtpServer() as srv, Worker() as w:
        key = "test/email/1732694400/req-7"
        r = w.run(job("m1", channel(srv.url(), utc_offset=7 * 3600), [{"address": "a@cuchi.example.org"}], key=key,
                      message_id=""))
        eq(r["status"], "sent", f"result {r}")
        m = parse(srv.h.messages[0][2])
        # issue 13 item 22: at the sending address's domain, not "@thidua"
        eq(m["Message-ID"], "<%s@cuchi.example.org>" % hashlib.sha256(key.encode()).hexdigest()[:32],
           "derived Message-ID")
        date = email.utils.parsedate_to_datetime(m["Date"])
        eq(date.utcoffset().total_seconds(), 7 * 3600, f"Date in the channel's utc_offset: {m['Date']}")
        assert abs(date.timestamp() - time.time()) < 120, m["Date"]
        r = w.run(job("m2", channel(srv.url(), utc_offset="+07:00"), [{"address": "a@cuchi.example.org"}]))
        eq(r["status"], "failed", f"a utc_offset that is not seconds: {r}")
        assert "utc_offset" in r["reason"], r


def test_451_retries_550_fails_with_the_server_text_and_per_recipient_answers():
    with SmtpServer() as srv, Worker() as w:
        srv.h.rcpt_replies = {
            "busy@cuchi.example.org": "451 4.7.1 Greylisted, try again in 5 minutes",
            "nobody@cuchi.example.org": "550 5.1.1 <nobody@cuchi.example.org>: Recipient address rejected: User unknown",
        }
        ch = channel(srv.url())
        r = w.run(job("r1", ch, [{"address": "busy@cuchi.example.org"}]))
        eq((r["status"], r["code"], r["retry_after"]), ("retry", 451, 60), f"451: {r}")
        assert "451 4.7.1 Greylisted, try again in 5 minutes" in r["reason"], r
        r = w.run(job("r2", ch, [{"address": "nobody@cuchi.example.org"}]))
        eq((r["status"], r["code"]), ("failed", 550), f"550: {r}")
        assert "550 5.1.1 <nobody@cuchi.example.org>: Recipient address rejected: User unknown" in r["reason"], r
        eq(r["recipients"][0]["status"], "failed", "the recipient")
        # some refused, some not: the message goes to those accepted, each answer recorded;
        # the one refused for now (4xx) is marked for the daemon to try again
        r = w.run(job("r3", ch, [{"address": "nobody@cuchi.example.org"}, {"address": "ok@cuchi.example.org"},
                                 {"address": "busy@cuchi.example.org"}, {"address": "not an address"}]))
        eq((r["status"], r["code"]), ("sent", 250), f"partial: {r}")
        assert "2 of 3 recipients refused, 1 of them for now" in r["reason"], r
        got = {x["address"]: (x["status"], x["code"]) for x in r["recipients"]}
        eq(got, {"nobody@cuchi.example.org": ("failed", 550), "ok@cuchi.example.org": ("sent", 250),
                 "busy@cuchi.example.org": ("retry", 451), "not an address": ("failed", None)}, "per recipient")
        eq(len(srv.h.messages), 1, "one message delivered")
        eq(srv.h.messages[0][1], ["ok@cuchi.example.org"], "delivered to")
        eq([a.addr_spec for a in parse(srv.h.messages[0][2])["To"].addresses],
           ["nobody@cuchi.example.org", "ok@cuchi.example.org", "busy@cuchi.example.org"], "To lists the valid ones")
        # the message refused as a whole, or the sender deferred
        srv.h.data_reply = "554 5.7.1 Message rejected: looks like spam"
        r = w.run(job("r4", ch, [{"address": "ok@cuchi.example.org"}]))
        eq((r["status"], r["code"], r["reason"]), ("failed", 554, "554 5.7.1 Message rejected: looks like spam"),
           f"data refused: {r}")
        srv.h.data_reply = None
        srv.h.mail_reply = "421 4.3.2 Service shutting down, closing transmission channel"
        r = w.run(job("r5", ch, [{"address": "ok@cuchi.example.org"}]))
        eq((r["status"], r["code"]), ("retry", 421), f"sender deferred: {r}")
        srv.h.mail_reply = None
        eq(w.run(job("r6", ch, [{"address": "ok@cuchi.example.org"}]))["status"], "sent", "after the 421")


def test_transport_trouble_and_tls_rules():
    with SmtpServer() as srv, Worker() as w:
        closed = free_port()
        r = w.run(job("t1", channel(f"smtp://127.0.0.1:{closed}"), [{"address": "a@cuchi.example.org"}]))
        eq((r["status"], r["code"], r["retry_after"]), ("retry", None, 60), f"refused connection: {r}")
        assert f"127.0.0.1:{closed}" in r["reason"], r
        r = w.run(job("t2", channel("smtp://192.0.2.25:25"), [{"address": "a@cuchi.example.org"}]))
        eq((r["status"], r["code"]), ("failed", None), f"tls none to another host: {r}")
        assert "allowed only to a server on this machine" in r["reason"], r
        r = w.run(job("t3", channel(srv.url(), tls="starttls"), [{"address": "a@cuchi.example.org"}]))
        eq(r["status"], "failed", f"starttls not offered: {r}")
        assert "does not offer STARTTLS" in r["reason"], r
        r = w.run(job("t4", channel("http://127.0.0.1/"), [{"address": "a@cuchi.example.org"}]))
        eq(r["status"], "failed", f"not smtp: {r}")
        r = w.run(job("t5", channel(srv.url()), [{"address": "a@cuchi.example.org"}], **{"from": "no sender"}))
        eq(r["status"], "failed", f"bad sender: {r}")
        assert "sender" in r["reason"], r
        # no sender in the message (thiduad's operator alerts): the channel's
        r = w.run(job("t5b", channel(srv.url(), **{"from": "ops@cuchi.example.org"}),
                      [{"address": "a@cuchi.example.org"}], **{"from": None, "from_name": None}))
        eq(r["status"], "sent", f"the channel's sender: {r}")
        eq(parse(srv.h.messages[-1][2])["From"].addresses[0].addr_spec, "ops@cuchi.example.org", "From")
        r = w.run(job("t6", channel(srv.url()), [{"address": "a@cuchi.example.org"}],
                      message_id="<x@y>\r\nBcc: victim@example.org"))
        eq(r["status"], "failed", f"header injection: {r}")
        r = w.run(job("t7", channel(srv.url()), [{"address": "a@cuchi.example.org",
                                                  "name": "X\r\nBcc: victim@example.org"}],
                      subject="Hi\r\nBcc: victim@example.org"))
        eq(r["status"], "sent", f"control characters are encoded: {r}")
        m = parse(srv.h.messages[-1][2])
        eq(m["Bcc"], None, "no injected header")
        eq(m["Subject"], "Hi\r\nBcc: victim@example.org", "Subject kept, encoded")
        eq(srv.h.messages[-1][1], ["a@cuchi.example.org"], "envelope")


def test_login_and_the_password_never_in_the_log():
    password = "mật khẩu 1!"
    h = Handler()
    with SmtpServer(h, authenticator=h.authenticate, auth_required=True, auth_require_tls=False) as srv, \
            Worker() as w:
        ch = channel(srv.url(), username="thidua", password=password)
        r = w.run(job("a1", ch, [{"address": "a@cuchi.example.org"}]))
        eq(r["status"], "sent", f"with login: {r}")
        eq(h.logins[-1][1:], (b"thidua", password.encode()), "credentials the server saw")
        r = w.run(job("a2", dict(ch, password="wrong"), [{"address": "a@cuchi.example.org"}]))
        eq((r["status"], r["code"]), ("failed", 535), f"wrong password: {r}")
        log = w.read_log()
        assert "smtp > AUTH (hidden)" in log, "the -vv log shows the dialogue"
        for secret in (password, password.encode().decode("latin-1"),
                       base64.b64encode(password.encode()).decode(),
                       base64.b64encode(b"\0thidua\0" + password.encode()).decode(),
                       base64.b64encode(b"thidua\0thidua\0" + password.encode()).decode()):
            assert secret not in log, f"the log holds the password ({secret!r})"


def make_cert(tmp):
    """A self-signed certificate for 127.0.0.1, or None without the openssl tool."""
    if not shutil.which("openssl"):
        return None
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def test_starttls_and_implicit_tls():
    with tempfile.TemporaryDirectory() as tmp:
        pair = make_cert(tmp)
        if not pair:
            print("  (no openssl tool: TLS not tested)")
            return
        cert, key = pair
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        h = Handler()
        with SmtpServer(h, tls_context=ctx, require_starttls=True, authenticator=h.authenticate,
                        auth_required=True) as srv, Worker() as w:
            ch = channel(srv.url(), tls="starttls", username="thidua", password="mật khẩu 1!", ca_file=cert)
            counts = []
            for i in range(2):
                r = w.run(job(f"s{i}", ch, [{"address": "a@cuchi.example.org", "name": UNIT}]))
                eq(r["status"], "sent", f"starttls: {r}")
                counts.append(h.connections)    # aiosmtpd counts the TLS upgrade as one more
            eq(counts[1], counts[0], "the second message on the same connection")
            eq(parse(h.messages[0][2])["Subject"], SUBJECT, "Subject over TLS")
        # the untrusted case, on a server of its own (the same server: see
        # test_a_kept_connection_is_never_reused_across_tls_settings)
        with SmtpServer(tls_context=ctx, require_starttls=True) as srv, Worker() as w:
            r = w.run(job("s3", channel(srv.url(), tls="starttls"), [{"address": "a@cuchi.example.org"}]))
            eq((r["status"], r["code"]), ("failed", None), f"untrusted certificate: {r}")
            assert "certificate" in r["reason"], r
        h2 = Handler()
        with SmtpServer(h2, ssl_context=ctx) as srv, Worker() as w:
            # "tls" means smtps:// even when the url says smtp://
            r = w.run(job("i1", channel(srv.url(), tls="tls", ca_file=cert), [{"address": "a@cuchi.example.org"}]))
            eq(r["status"], "sent", f"implicit tls: {r}")
            eq(len(h2.messages), 1, "received over smtps")


def make_private_ca(tmp):
    """A private CA and a certificate it signed for 127.0.0.1: (ca.pem, cert.pem, key.pem),
    or None without the openssl tool."""
    if not shutil.which("openssl"):
        return None
    ca, ca_key = os.path.join(tmp, "ca.pem"), os.path.join(tmp, "ca.key")
    cert, key, csr = os.path.join(tmp, "server.pem"), os.path.join(tmp, "server.key"), os.path.join(tmp, "server.csr")
    ext = os.path.join(tmp, "ext.cnf")
    with open(ext, "w") as fp:
        fp.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
        "-subj", "/CN=So Giao duc thu nghiem CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
        "-extfile", ext)
    return ca, cert, key


def private_ca_server_context(tmp):
    """(the private CA's ca.pem, a server SSLContext with the certificate it signed), or
    None without the openssl tool (said on the test's output)."""
    made = make_private_ca(tmp)
    if not made:
        print("  (no openssl tool: TLS not tested)")
        return None
    ca, cert, key = made
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ca, ctx


def test_a_kept_connection_is_never_reused_across_tls_settings():
    """Issue 13 item 16: two channels to the same server and login, one without TLS and one
    requiring STARTTLS: the second must not take the plain connection the first left open.
    Nor may a channel without the private CA take a connection verified with it."""
    with tempfile.TemporaryDirectory() as tmp:
        made = private_ca_server_context(tmp)
        if not made:
            return
        ca, ctx = made
        h = Handler()
        login = {"username": "thidua", "password": "mật khẩu 1!"}
        with SmtpServer(h, tls_context=ctx, authenticator=h.authenticate, auth_required=True,
                        auth_require_tls=False) as srv, Worker() as w:
            plain = channel(srv.url(), tls="none", name="thu-noi-bo", **login)
            secure = channel(srv.url(), tls="starttls", name="thu-so", ca_file=ca, **login)
            unverified = channel(srv.url(), tls="starttls", name="thu-khac", **login)
            to = [{"address": "a@cuchi.example.org"}]
            r = w.run(job("p1", plain, to))
            eq((r["status"], h.tls[-1]), ("sent", False), f"plain: {r}")
            r = w.run(job("s1", secure, to))
            eq(r["status"], "sent", f"starttls after a plain message: {r}")
            eq(h.tls[-1], True, "the starttls channel's message went through TLS")
            sessions = h.connections
            r = w.run(job("p2", plain, to))
            eq((r["status"], h.tls[-1]), ("sent", False), f"plain again: {r}")
            r = w.run(job("s2", secure, to))
            eq((r["status"], h.tls[-1]), ("sent", True), f"starttls again: {r}")
            eq(h.connections, sessions, "each channel kept its own connection open for its next message")
            before = len(h.messages)
            r = w.run(job("u1", unverified, to))
            eq((r["status"], r["code"]), ("failed", None), f"a channel without the CA: {r}")
            assert "certificate" in r["reason"], r
            eq(len(h.messages), before, "nothing sent over the connection verified for another channel")
            r = w.run(job("s3", secure, to))
            eq((r["status"], h.tls[-1]), ("sent", True), f"starttls once more: {r}")


def test_connections_kept_for_many_settings_stay_bounded():
    """One pool of kept connections per set of settings (issue 13 item 16), at most 16: the
    17th set closes the pool idle longest, the others stay and are reused."""
    with SmtpServer() as srv, Worker() as w:
        to = [{"address": "a@cuchi.example.org"}]
        ch = lambda i: channel(srv.url(), name=f"thu-{i}", ca_file=f"/etc/thidua/ca-{i}.pem")   # 18 settings
        base = srv.h.connections
        for i in range(18):
            eq(w.run(job(f"b{i}", ch(i), to))["status"], "sent", f"settings {i}")
        eq(srv.h.connections - base, 18, "one connection per set of settings")
        eq(w.run(job("b17again", ch(17), to))["status"], "sent", "the last settings again")
        eq(srv.h.connections - base, 18, "its connection was kept")
        eq(w.run(job("b0again", ch(0), to))["status"], "sent", "the first settings again")
        eq(srv.h.connections - base, 19, "the first pool was closed for the 17th: a new connection")


def test_slow_server_heartbeat_timeout_and_concurrency():
    with SmtpServer() as srv, Worker(capacity=2) as w:
        # a content filter that takes 6 s to answer the end of the data: libcurl waits for
        # that answer blocking, yet the worker keeps pinging (thiduad drops a worker
        # silent for 15 s)
        srv.h.data_delay = 6.0
        w.send(job("slow", channel(srv.url(), timeout=30), [{"address": "a@cuchi.example.org"}]))
        r = w.recv_type("result", timeout=30)
        eq((r["job"], r["status"]), ("slow", "sent"), f"the slow job: {r}")
        i = w.seen.index(r)
        assert any(m["type"] == "ping" for m in w.seen[1:i]), "no ping while the server was thinking"
        # the same with a 2 s timeout: retry, in time
        t0 = time.monotonic()
        r = w.run(job("short", channel(srv.url(), timeout=2), [{"address": "b@cuchi.example.org"}]))
        eq((r["status"], r["code"]), ("retry", None), f"timed out: {r}")
        assert "no answer" in r["reason"], r
        assert time.monotonic() - t0 < 4.5, "the timeout was not kept"
        # the server's late answer to that message must not be read as the next one's
        srv.h.data_delay = 0
        r = w.run(job("next", channel(srv.url(), timeout=30), [{"address": "e@cuchi.example.org"}]))
        eq((r["status"], r["code"]), ("sent", 250), f"after a timeout: {r}")
        # two jobs at once: the server's slowness before the data overlaps
        srv.h.rcpt_delay = 2.0
        t0 = time.monotonic()
        w.send(job("p1", channel(srv.url()), [{"address": "c@cuchi.example.org"}]))
        w.send(job("p2", channel(srv.url()), [{"address": "d@cuchi.example.org"}]))
        got = w.results(2)
        eq((got["p1"]["status"], got["p2"]["status"]), ("sent", "sent"), f"in parallel: {got}")
        assert time.monotonic() - t0 < 3.8, f"not in parallel: {time.monotonic() - t0:.1f}s"


def test_stop_and_sigterm_finish_the_jobs_in_hand():
    with SmtpServer() as srv:
        srv.h.data_delay = 1.0
        with Worker() as w:
            w.send(job("k1", channel(srv.url()), [{"address": "a@cuchi.example.org"}]))
            w.send({"type": "stop"})
            w.send(job("k2", channel(srv.url()), [{"address": "b@cuchi.example.org"}]))
            got = w.results(2)
            eq(got["k1"]["status"], "sent", f"the job in hand: {got}")
            eq((got["k2"]["status"], got["k2"]["retry_after"]), ("retry", 0), f"a job after stop: {got}")
            eq(w.wait_exit(), 0, "exit status after stop")
        with Worker() as w:
            w.send(job("k3", channel(srv.url()), [{"address": "c@cuchi.example.org"}]))
            wait_for(lambda: "job k3: sending" in w.read_log(), "the transfer started")
            w.proc.send_signal(signal.SIGTERM)
            eq(w.result("k3")["status"], "sent", "the job in hand at SIGTERM")
            eq(w.wait_exit(), 0, "exit status after SIGTERM")
        eq(len(srv.h.messages), 2, "messages delivered")


def test_announces_itself_again_after_the_daemon_comes_back():
    with SmtpServer() as srv, Worker() as w:
        # a restarted thiduad: the same endpoint, a new socket
        w.router.close()
        w.router = w.bind()
        ready = w.recv_type("ready")
        eq(ready["name"], "test-mail", "ready after reconnect")
        # thiduad's hello to a peer it does not know
        w.send({"type": "hello"})
        eq(w.recv_type("ready")["kind"], "mail", "ready after hello")
        w.send({"type": "ping"})
        w.send({"type": "no-such-type"})
        eq(w.run(job("n1", channel(srv.url()), [{"address": "a@cuchi.example.org"}]))["status"], "sent", "still works")
        assert "unexpected message 'no-such-type'" in w.read_log()
