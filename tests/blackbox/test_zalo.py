"""Issue 17, Zalo Official Account: the kinds zalo (a customer-service text to a follower, or
a text to a group of the OA) and zns (an approved template to a phone number), posted by the
real thidua-webhook to a fake of the Zalo endpoints on loopback that behaves as the Zalo
documents say: errors come with HTTP 200 and only "error": 0 is success. The real thiduad
delivers a reminder through it. Nothing here reaches the real Zalo hosts."""
import base64
import email
import email.policy
import hashlib
import http.server
import json
import os
import re
import sqlite3
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import tempfile
import threading

from harness import eq
from test_delivery import Smtp, config_with_channels, notifications, wait_for, workers_ready
from harness import Daemon
from test_mail_worker import Worker

TOKEN = "oa-access-token-1"


class FakeZalo:
    """openapi.zalo.me and business.openapi.zalo.me on 127.0.0.1. A valid access token is
    needed on every send (else -216, with HTTP 200). A user or phone can be scripted to get
    an error code once or always: script[recipient] = [codes...] consumed one per request,
    the last one repeating."""

    MESSAGES = {-216: "Access token is invalid", -230: "User has not interacted with the OA in the last 7 days",
                -213: "User has not followed OA", -201: "Parameters are invalid",
                -32: "Request limit exceeded", -999: "Something unexpected"}

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = []             # (path, headers, body as JSON)
        self.tokens = {TOKEN}
        self.script = {}
        self.refresh_tokens = {"r1"}    # valid, each works once
        self.used = {"r-used"}          # spent: reusing one gives -14020
        self.renewals = []              # (form, headers, answer)
        self.codes = {}                 # authorization code: the code_challenge it was given for
        self.used_codes = set()
        self.permission = []            # the query of each permission page opened
        self.hold = {}                  # user_id: an Event the answer to a post to them waits for
        self.holding = threading.Event()
        self.issued = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path == "/v4/oa/access_token":
                    form = dict(urllib.parse.parse_qsl(raw.decode()))
                    with outer.lock:
                        answer = outer.renew(form, headers)
                        outer.renewals.append((form, headers, answer))
                else:
                    body = json.loads(raw)
                    held = outer.hold.get(body.get("recipient", {}).get("user_id"))
                    if held:        # answered only when the test says so
                        outer.holding.set()
                        held.wait(30)
                    with outer.lock:
                        outer.posts.append((self.path, headers, body))
                        answer = outer.answer(self.path, self.headers.get("access_token"), body)
                data = json.dumps(answer).encode()
                self.send_response(200)        # Zalo's errors come with 200 too
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                """the permission page, as if the OA's administrator allowed the app: the
                browser is sent to redirect_uri with a code bound to the challenge"""
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/v4/oa/permission" or q.get("app_id") != "app-1" or not q.get("code_challenge") \
                        or not q.get("redirect_uri"):
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                outer.permission.append(q)
                code = outer.consent(q["code_challenge"])
                to = q["redirect_uri"] + "?" + urllib.parse.urlencode({"oa_id": "oa-9", "code": code,
                                                                        "state": q.get("state", "")})
                self.send_response(302)
                self.send_header("Location", to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def error(self, code):
        return {"error": code, "message": self.MESSAGES.get(code, "error")}

    def consent(self, challenge):
        """what Zalo's permission page does when the OA's administrator allows the app: a
        code bound to the code_challenge of the URL opened (the browser is then sent to the
        redirect_uri with it)"""
        with self.lock:
            self.code_seq = getattr(self, "code_seq", 0) + 1
            code = f"code-{self.code_seq}"
            self.codes[code] = challenge
            return code

    def pair(self):
        self.issued += 1
        access, refresh = f"a-{self.issued}", f"r-{self.issued}"
        self.tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}

    def grant(self, form):
        """the authorization_code grant with PKCE: the code is known and unused, and
        BASE64URL(SHA-256(code_verifier)) without padding is the code_challenge the code was
        given for. A code works once. (The error numbers are this fake's.)"""
        code, verifier = form.get("code"), form.get("code_verifier", "")
        if code in self.used_codes:
            return {"error": -14019, "error_name": "Invalid code", "error_description": "the code was already used"}
        if code not in self.codes:
            return {"error": -14019, "error_name": "Invalid code", "error_description": "the code is invalid"}
        self.used_codes.add(code)
        want = self.codes.pop(code)
        got = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")
        if not re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier) or got != want:
            return {"error": -14022, "error_name": "Invalid code verifier",
                    "error_description": "code_verifier does not match code_challenge"}
        return self.pair()

    def renew(self, form, headers):
        """oauth.zaloapp.com/v4/oa/access_token as documented: the app's secret key in a
        header; a refresh token works once; the new pair, expires_in as a string"""
        if headers.get("secret_key") != "app-secret" or form.get("app_id") != "app-1" \
                or form.get("grant_type") not in ("refresh_token", "authorization_code"):
            return {"error": -14001, "error_name": "Invalid app", "error_description": "app_id or secret_key is wrong"}
        if form["grant_type"] == "authorization_code":
            return self.grant(form)
        rt = form.get("refresh_token")
        if rt in self.used:
            return {"error": -14020, "error_name": "Invalid refresh token", "error_description": "Refresh token is used"}
        if rt not in self.refresh_tokens:
            return {"error": -14014, "error_name": "Invalid refresh token", "error_description": "Refresh token is invalid"}
        self.refresh_tokens.discard(rt)
        self.used.add(rt)
        return self.pair()

    def answer(self, path, token, body):
        if path not in ("/v3.0/oa/message/cs", "/v3.0/oa/group/message", "/message/template"):
            return {"error": -201, "message": f"no such API {path}"}
        if token not in self.tokens:
            return self.error(-216)
        if path == "/message/template":
            who = body.get("phone")
            if not who or not body.get("template_id") or not isinstance(body.get("template_data"), dict):
                return self.error(-201)
        else:
            rcpt = body.get("recipient", {})
            who = rcpt.get("user_id") or rcpt.get("group_id")
            if not who or not isinstance(body.get("message", {}).get("text"), str):
                return self.error(-201)
        codes = self.script.get(who)
        if codes:
            code = codes[0] if len(codes) == 1 else codes.pop(0)
            if code:
                return self.error(code)
        if path == "/message/template":
            return {"error": 0, "message": "Success", "data": {"msg_id": f"zns-{len(self.posts)}"}}
        return {"error": 0, "message": "Success", "data": {"message_id": f"m-{len(self.posts)}", "user_id": who}}

    def sent(self, path):
        with self.lock:
            return [(h, b) for p, h, b in self.posts if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def job(job_id, channel, text="Hạn nộp: 23 giờ 59 ngày 15/11/2024 (còn 14 ngày).", title="Nhắc hạn nộp báo cáo"):
    return {"type": "job", "job": job_id, "attempt": 1, "lease": 60,
            "payload": {"channel": channel, "dedup_key": f"k/{job_id}", "title": title, "text": text}}


def zalo(fake, **kw):
    return dict({"name": "zalo-oa", "kind": "zalo", "url": fake.base, "secret": TOKEN}, **kw)


def test_zalo_and_zns_bodies_and_the_token_header():
    """A follower gets /v3.0/oa/message/cs with recipient.user_id and the text; a group
    /v3.0/oa/group/message with recipient.group_id; zns /message/template with phone,
    template_id, template_data and the dedup key as tracking_id; each with the access_token
    header. Vietnamese round-trips exactly."""
    fake = FakeZalo()
    try:
        with Worker(capacity=8, verbose="-v", kind="webhook") as w:
            w.send(job("u", zalo(fake, chat_id="8412345")))
            w.send(job("g", zalo(fake, group_id="g-99")))
            w.send(job("z", {"name": "zns", "kind": "zns", "url": fake.base + "/", "secret": TOKEN,
                             "phone": "84912345678", "template_id": "231001"}))
            res = w.results(3)
            for j in "ugz":
                eq(res[j]["status"], "sent", f"{j}: {res[j]}")
            (h, b), = fake.sent("/v3.0/oa/message/cs")
            eq(h["access_token"], TOKEN, "the token header")
            eq(b, {"recipient": {"user_id": "8412345"},
                   "message": {"text": "Nhắc hạn nộp báo cáo\nHạn nộp: 23 giờ 59 ngày 15/11/2024 (còn 14 ngày)."}},
               "cs body")
            (h, b), = fake.sent("/v3.0/oa/group/message")
            eq(b["recipient"], {"group_id": "g-99"}, "group recipient")
            (h, b), = fake.sent("/message/template")
            eq(b, {"phone": "84912345678", "template_id": "231001", "tracking_id": "k/z",
                   "template_data": {"title": "Nhắc hạn nộp báo cáo",
                                     "text": "Hạn nộp: 23 giờ 59 ngày 15/11/2024 (còn 14 ngày)."}}, "zns body")
            eq(h["access_token"], TOKEN, "zns token header")
    finally:
        fake.close()


def test_errors_with_http_200_are_not_success():
    """Only "error": 0 is sent. -230, -213, -201: failed for that recipient with what it
    means; -216 (the token): retry, naming the token; -32 (request limit): retry later with
    a wait; an unknown code: failed with the code and Zalo's message."""
    fake = FakeZalo()
    fake.script = {"u230": [-230], "u213": [-213], "u201": [-201], "u32": [-32], "u999": [-999]}
    try:
        with Worker(capacity=8, verbose="-v", kind="webhook") as w:
            for u in fake.script:
                w.send(job(u, zalo(fake, chat_id=u)))
            w.send(job("badtoken", zalo(fake, chat_id="ok", secret="expired-token")))
            fake.script["84900001144"] = [-1144]     # the OA's daily ZNS quota
            w.send(job("q1144", {"name": "zns", "kind": "zns", "url": fake.base, "secret": TOKEN,
                                 "phone": "84900001144", "template_id": "231001"}))
            res = w.results(len(fake.script) + 1)
            eq((res["q1144"]["status"], res["q1144"]["retry_after"]), ("retry", 3600), f"daily quota: {res['q1144']}")
            for u in ("u230", "u213", "u201", "u999"):
                eq(res[u]["status"], "failed", f"{u}: {res[u]}")
                eq(res[u]["code"], 200, "the HTTP status is 200 all the same")
            assert "recipient u230 has not interacted with the OA in the last 7 days" in res["u230"]["reason"], res["u230"]
            assert "recipient u213 does not follow the OA" in res["u213"]["reason"], res["u213"]
            assert "error -201" in res["u201"]["reason"], res["u201"]
            assert "error -999 (Something unexpected)" in res["u999"]["reason"], res["u999"]
            for u in ("u230", "u213", "u201"):     # the daemon sends the unit's e-mail instead
                eq(res[u].get("recipient_unreachable"), True, f"{u}: {res[u]}")
            eq(res["u999"].get("recipient_unreachable"), None, f"an unknown code: {res['u999']}")
            eq(res["u32"]["status"], "retry", f"quota: {res['u32']}")
            assert res["u32"]["retry_after"] >= 60, res["u32"]
            assert "quota" in res["u32"]["reason"], res["u32"]
            eq(res["badtoken"]["status"], "retry", f"token: {res['badtoken']}")
            assert "error -216" in res["badtoken"]["reason"] and "access token" in res["badtoken"]["reason"], res["badtoken"]
            assert "expired-token" not in w.read_log(), "the token never reaches the log"
    finally:
        fake.close()


def test_bad_zalo_channels_are_refused_with_the_field():
    fake = FakeZalo()
    try:
        with Worker(capacity=8, verbose="-v", kind="webhook") as w:
            r = w.run(job("a", zalo(fake)))
            eq(r["status"], "failed", r)
            assert "chat_id" in r["reason"] and "group_id" in r["reason"], r
            r = w.run(job("b", {"name": "zns", "kind": "zns", "url": fake.base, "secret": TOKEN, "phone": "849"}))
            assert "template_id" in r["reason"], r
            r = w.run(job("c", {"name": "zalo-oa", "kind": "zalo", "url": fake.base, "chat_id": "1"}))
            assert "access token" in r["reason"], r
            # no token yet, another job renewing it: wait, post nothing
            r = w.run(job("d", {"name": "zalo-oa", "kind": "zalo", "url": fake.base, "chat_id": "1", "renewing": True}))
            eq((r["status"], r["retry_after"]), ("retry", 5), r)
            assert "being renewed" in r["reason"], r
            eq(fake.posts, [], "nothing posted")
    finally:
        fake.close()


def mails_to(smtp, who):
    return [(rcpts, data) for _, rcpts, data in smtp.messages if any(who in r for r in rcpts)]


def test_the_daemon_delivers_a_reminder_through_zalo_and_zns():
    """The real thiduad with the real workers: the 10-working-day reminders of BC-NAM go to
    XA-TRUNGAN's follower on the OA and to XA-ANPHU's phone by ZNS, and not by e-mail too;
    a follower who has not interacted lately (-230) cannot be reached: that delivery keeps
    Zalo's explanation and the same message goes to XA-BINHMY's e-mail instead, through the
    real mail worker to a real SMTP server; the notification is sent."""
    fake, smtp = FakeZalo(), Smtp()
    fake.script = {"u-quiet": [-230]}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            extra = f''',
  {{ name = "oa-trungan"; kind = "zalo"; url = "{fake.base}"; secret = "{TOKEN}"; chat_id = "u-trungan"; }},
  {{ name = "zns-anphu"; kind = "zns"; url = "{fake.base}"; secret = "{TOKEN}"; phone = "84912345678";
    template_id = "231001"; }},
  {{ name = "oa-quiet"; kind = "zalo"; url = "{fake.base}"; secret = "{TOKEN}"; chat_id = "u-quiet"; }}'''
            cfg = config_with_channels(tmp, fake, smtp, {"XA-TRUNGAN": "oa-trungan", "XA-ANPHU": "zns-anphu",
                                                         "XA-BINHMY": "oa-quiet"}, extra)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")   # the 10wd reminders of BC-NAM
                wait_for("the zalo posts", lambda: fake.sent("/v3.0/oa/message/cs") and fake.sent("/message/template"))

                def settled():
                    rows = [n for n in notifications(d, report="BC-NAM") if n["recipient"] in
                            ("XA-TRUNGAN", "XA-ANPHU", "XA-BINHMY")]
                    return rows if len(rows) == 3 and all(n["state"] in ("sent", "failed") for n in rows) else None
                rows = wait_for("settled", settled)
                cs = [b for _, b in fake.sent("/v3.0/oa/message/cs") if b["recipient"]["user_id"] == "u-trungan"]
                eq(len(cs), 1, "one post to the follower")
                assert "Ủy ban nhân dân xã Trung An" in cs[0]["message"]["text"], cs
                (h, z), = fake.sent("/message/template")
                eq((z["phone"], z["template_id"]), ("84912345678", "231001"), "zns recipient")
                assert "Ủy ban nhân dân xã An Phú" in z["template_data"]["text"] + z["template_data"]["title"], z
                eq({n["recipient"]: n["state"] for n in rows}, {"XA-TRUNGAN": "sent", "XA-ANPHU": "sent",
                                                                "XA-BINHMY": "sent"}, f"states: {rows}")
                # reached through Zalo: one delivery each, no e-mail besides
                for unit in ("XA-TRUNGAN", "XA-ANPHU"):
                    n = next(n for n in rows if n["recipient"] == unit)
                    dl = d.call("notifications.show", notification=n["id"])["notification"]["deliveries"]
                    eq([(x["kind"], x["state"]) for x in dl], [("webhook", "sent")], f"{unit}: {dl}")
                # not reachable: the e-mail instead, the Zalo explanation kept
                quiet = next(n for n in rows if n["recipient"] == "XA-BINHMY")
                show = d.call("notifications.show", notification=quiet["id"])["notification"]
                z, m = show["deliveries"]
                eq((z["channel"], z["state"], m["channel"], m["state"]), ("oa-quiet", "failed", "thu", "sent"), show)
                assert "recipient u-quiet has not interacted with the OA in the last 7 days" in z["error"], z
                assert f"sent to the unit's e-mail instead (delivery {m['id']})" in z["error"], z
                mail, = mails_to(smtp, "ubnd.binhmy@")
                eq(mail[0], ["ubnd.binhmy@cuchi.example.org"], "to the unit's address")
                msg = email.message_from_bytes(mail[1], policy=email.policy.default)
                text = msg.get_body(preferencelist=("plain",)).get_content()
                assert "Ủy ban nhân dân xã Bình Mỹ" in text, text
                eq(mails_to(smtp, "ubnd.trungan@") + mails_to(smtp, "ubnd.anphu@"), [], "no e-mail where Zalo reached")
                rc, out = d.ctl_raw("notifications", "show", str(quiet["id"]))
                eq(rc, 0, out)
                assert "recipient u-quiet has not interacted with the OA in the last 7 days" in out, out
                assert f"sent to the unit's e-mail instead (delivery {m['id']})" in out, out
                eq(z["fallback"], m["id"], "the failed delivery names the e-mail")
    finally:
        fake.close()
        smtp.close()


def test_no_fallback_when_zalo_fails_otherwise_or_the_unit_has_no_address():
    """Only -230, -213, -201 send the e-mail instead: an unknown code is a dead letter with
    Zalo's code and message, and no e-mail; a ZNS phone that does not follow (-213) of a
    unit without an address is a dead letter that says there was no e-mail to send; a -201
    through ZNS falls back like the others."""
    fake, smtp = FakeZalo(), Smtp()
    fake.script = {"84900000001": [-999], "84900000002": [-213], "84900000003": [-201]}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            extra = "".join(f''',
  {{ name = "zns-{i}"; kind = "zns"; url = "{fake.base}"; secret = "{TOKEN}"; phone = "8490000000{i}";
    template_id = "231001"; }}''' for i in (1, 2, 3))
            cfg = config_with_channels(tmp, fake, smtp, {"XA-TRUNGAN": "zns-1", "XA-ANPHU": "zns-2",
                                                         "XA-BINHMY": "zns-3"}, extra)
            text = open(cfg, encoding="utf-8").read()
            gone = 'emails = [ "ubnd.anphu@cuchi.example.org" ];'
            assert gone in text
            open(cfg, "w", encoding="utf-8").write(text.replace(gone, ""))
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")

                def settled():
                    rows = [n for n in notifications(d, report="BC-NAM") if n["recipient"] in
                            ("XA-TRUNGAN", "XA-ANPHU", "XA-BINHMY")]
                    return rows if len(rows) == 3 and all(n["state"] in ("sent", "failed") for n in rows) else None
                rows = {n["recipient"]: n for n in wait_for("settled", settled)}
                eq(rows["XA-TRUNGAN"]["state"], "failed", rows["XA-TRUNGAN"])
                assert "error -999 (Something unexpected)" in rows["XA-TRUNGAN"]["error"], rows["XA-TRUNGAN"]
                eq(rows["XA-ANPHU"]["state"], "failed", rows["XA-ANPHU"])
                assert "does not follow the OA" in rows["XA-ANPHU"]["error"] \
                    and "not sent by e-mail instead: the unit has no e-mail address" in rows["XA-ANPHU"]["error"], rows
                eq(rows["XA-BINHMY"]["state"], "sent", rows["XA-BINHMY"])
                for unit in ("XA-TRUNGAN", "XA-ANPHU"):
                    dl = d.call("notifications.show", notification=rows[unit]["id"])["notification"]["deliveries"]
                    eq([(x["kind"], x["state"]) for x in dl], [("webhook", "failed")], f"{unit}: {dl}")
                wait_for("the mail to Bình Mỹ", lambda: mails_to(smtp, "binhmy"))
                eq(mails_to(smtp, "ubnd.trungan@"), [], "an unknown code sends no e-mail")
                # a retry of the dead letter does not touch the one that fell back
                eq(d.call("notifications.retry", notification=rows["XA-BINHMY"]["id"]).get("error", {}).get("code"),
                   "not_failed", "nothing to retry where the e-mail went")
                # a test message is to no unit: it fails with Zalo's reason, no e-mail, no word of one
                rc, out = d.ctl_raw("notify", "test", "--channel", "zns-2")
                assert rc == 1 and "does not follow the OA" in out and "e-mail" not in out, out
    finally:
        fake.close()
        smtp.close()


def test_the_config_refuses_zalo_channels_without_what_they_need():
    """thiduad -n names the channel and the missing field: a zalo channel needs its access
    token and exactly one of chat_id and group_id; zns needs phone and template_id; the
    zalo fields on another kind are an error too."""
    from harness import BIN
    fake, smtp = FakeZalo(), Smtp()
    cases = [
        ('kind = "zalo"; secret = "t";', "channel bad: zalo needs either chat_id (the follower's user_id) or group_id"),
        ('kind = "zalo"; secret = "t"; chat_id = "1"; group_id = "2";', "zalo needs either chat_id"),
        ('kind = "zalo"; chat_id = "1";', "channel bad: zalo needs secret (the Official Account's access token)"),
        ('kind = "zns"; secret = "t"; phone = "849";', "channel bad: zns needs phone (the recipient, 84xxxxxxxxx) and template_id"),
        ('kind = "slack"; phone = "849";', "channel bad: group_id, phone, template_id, app_id, app_secret and refresh_token"
         " belong to zalo and zns channels"),
        ('kind = "zalo"; chat_id = "1"; app_id = "a";', "channel bad: app_id and app_secret go together"),
        ('kind = "zalo"; secret = "t"; chat_id = "1"; refresh_token = "r";', "refresh_token needs them"),
    ]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for fields, want in cases:
                extra = f''',\n  {{ name = "bad"; url = "{fake.base}"; {fields} }}'''
                path = config_with_channels(tmp, fake, smtp, {}, extra)
                p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", path], capture_output=True, text=True)
                eq(p.returncode, 1, f"{fields}: {p.stdout}{p.stderr}")
                assert want in p.stderr, (fields, p.stderr)
            for good in (f''',\n  {{ name = "ok"; kind = "zalo"; url = "{fake.base}"; secret = "t"; group_id = "g"; }}''',
                         # to be authorised by thiduactl zalo authorize: no token in the file
                         f''',\n  {{ name = "ok"; kind = "zns"; url = "{fake.base}"; app_id = "a"; app_secret = "s";
                            phone = "849"; template_id = "1"; }}'''):
                p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", config_with_channels(tmp, fake, smtp, {}, good)],
                                   capture_output=True, text=True)
                eq(p.returncode, 0, p.stderr)
    finally:
        fake.close()
        smtp.close()


MANAGED = 'app_id = "app-1"; app_secret = "app-secret"; oauth_url = "{base}";'


def stored_pair(d):
    db = sqlite3.connect(f"file:{os.path.join(d.dir, 'thidua.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT access_token, refresh_token, lease_until FROM zalo_tokens WHERE app_id = 'app-1'").fetchone()
    finally:
        db.close()


def test_the_daemon_renews_the_token_one_at_a_time_and_stores_the_pair_first():
    """An OA whose tokens thidua renews (app_id, app_secret, refresh_token): the configured
    access token is stale. The first job renews it (form refresh_token, app_id, grant_type;
    header secret_key) and posts nothing; the pair is stored; the next attempt goes with the
    new token. A job that got -216 meanwhile makes the daemon renew once more with the new
    refresh token: no refresh token is ever sent twice, and the stored pair is the last one
    issued."""
    fake, smtp = FakeZalo(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            m = MANAGED.format(base=fake.base)
            extra = (f',\n  {{ name = "oa-trungan"; kind = "zalo"; url = "{fake.base}"; secret = "stale"; refresh_token = "r1"; {m}'
                     f' chat_id = "u-trungan"; }},\n'
                     f'  {{ name = "zns-anphu"; kind = "zns"; url = "{fake.base}"; refresh_token = "r1"; {m}'
                     f' phone = "84912345678"; template_id = "231001"; }}')
            cfg = config_with_channels(tmp, fake, smtp, {"XA-TRUNGAN": "oa-trungan", "XA-ANPHU": "zns-anphu"}, extra)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")
                wait_for("a renewal", lambda: fake.renewals)
                form, headers, answer = fake.renewals[0]
                eq(form, {"refresh_token": "r1", "app_id": "app-1", "grant_type": "refresh_token"}, "the form")
                eq(headers["secret_key"], "app-secret", "the secret key header")
                eq(headers["content-type"], "application/x-www-form-urlencoded", "a form")

                def all_sent():
                    d.ctl("clock", "advance", "10m")
                    rows = [n for n in notifications(d, report="BC-NAM") if n["recipient"] in ("XA-TRUNGAN", "XA-ANPHU")]
                    return rows if len(rows) == 2 and all(n["state"] == "sent" for n in rows) else None
                wait_for("both sent", all_sent)
                posts = fake.sent("/v3.0/oa/message/cs") + fake.sent("/message/template")
                good = [h["access_token"] for h, _ in posts if h["access_token"] in fake.tokens]
                eq(len(good), 2, f"one post each with a renewed token: {[h['access_token'] for h, _ in posts]}")
                sent_refresh = [f["refresh_token"] for f, _, _ in fake.renewals]
                eq(len(sent_refresh), len(set(sent_refresh)), f"a refresh token is never sent twice: {sent_refresh}")
                assert all("access_token" in a for _, _, a in fake.renewals), fake.renewals
                access, refresh, lease = stored_pair(d)
                eq((access, refresh, lease), (f"a-{fake.issued}", f"r-{fake.issued}", 0), "the last pair is stored")
                # the pair is kept in zalo_tokens only: not in a delivery's detail, nor in a log line
                db = sqlite3.connect(f"file:{os.path.join(d.dir, 'thidua.db')}?mode=ro", uri=True)
                details = " ".join(str(r[0]) for r in db.execute("SELECT detail FROM deliveries"))
                db.close()
                log = open(d.log_path, encoding="utf-8", errors="replace").read()
                for i in range(1, fake.issued + 1):
                    assert f'"r-{i}"' not in details and f'"a-{i}"' not in details, details
                    assert f"r-{i}" not in log, f"refresh token r-{i} in the log"
                assert "app-secret" not in log, "the app secret in the log"
    finally:
        fake.close()
        smtp.close()


def test_a_used_refresh_token_is_refused_and_said_so():
    """A refresh token already spent (reused: -14020) is refused: the message is not posted
    with a stale token, it waits (retry) with the reason saying to authorise the OA again,
    and the renewal is free for the next attempt."""
    fake, smtp = FakeZalo(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            m = MANAGED.format(base=fake.base)
            extra = (f',\n  {{ name = "oa-trungan"; kind = "zalo"; url = "{fake.base}"; refresh_token = "r-used"; {m}'
                     f' chat_id = "u-trungan"; }}')
            cfg = config_with_channels(tmp, fake, smtp, {"XA-TRUNGAN": "oa-trungan"}, extra)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")

                def failed_renewal():
                    rows = [n for n in notifications(d, report="BC-NAM") if n["recipient"] == "XA-TRUNGAN"]
                    show = rows and d.call("notifications.show", notification=rows[0]["id"])["notification"]
                    return show if show and "-14020" in json.dumps(show, ensure_ascii=False) else None
                show = wait_for("the refusal", failed_renewal)
                text = json.dumps(show, ensure_ascii=False)
                assert "the refresh token was already used; authorise the OA again" in text, text
                eq(fake.sent("/v3.0/oa/message/cs"), [], "nothing posted")
                eq(stored_pair(d)[2], 0, "the renewal is free again")
                d.ctl("clock", "advance", "30m")
                wait_for("a second try", lambda: len(fake.renewals) >= 2)
                eq([f["refresh_token"] for f, _, _ in fake.renewals][:2], ["r-used", "r-used"], "the stored token, again")
    finally:
        fake.close()
        smtp.close()


def zalo_ctl(d, env, *args):
    """thiduactl with its own XDG_STATE_HOME (where the code verifier waits)"""
    from harness import BIN
    p = subprocess.run([os.path.join(BIN, "thiduactl"), "-e", d.endpoint] + list(args), capture_output=True,
                       text=True, env=dict(os.environ, **env), timeout=60)
    return p.returncode, p.stdout + p.stderr


def open_page(url):
    """the browser: opens the permission page, returns where Zalo sends it"""
    class NoFollow(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **kw):
            return None
    try:
        urllib.request.build_opener(NoFollow).open(url)
    except urllib.error.HTTPError as e:
        eq(e.code, 302, f"the permission page: {e}")
        return e.headers["Location"]
    raise AssertionError("the permission page did not redirect")


def test_zalo_authorize_with_pkce_stores_the_pair_in_the_daemon():
    """An OA with app_id and app_secret but no token yet: its messages wait, saying to run
    thiduactl zalo authorize. `zalo authorize --channel --redirect-uri` prints Zalo's
    permission page with app_id, redirect_uri, an S256 code_challenge and a state, and
    leaves the verifier in a file only the administrator reads; after the OA's
    administrator allows the app, `--redirect URL` exchanges the code (form code, app_id,
    grant_type=authorization_code, code_verifier; header secret_key) at the configured
    oauth_url; the fake checks the verifier against the challenge. The pair is stored in
    the daemon, the waiting message goes with the new access token, the tokens reach
    neither the audit log nor the log. A code works once: using it again is refused by
    Zalo and stores nothing; a redirect from another attempt (its state) is refused before
    anything is sent."""
    fake, smtp = FakeZalo(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"XDG_STATE_HOME": os.path.join(tmp, "state")}
            m = MANAGED.format(base=fake.base)
            extra = f',\n  {{ name = "oa-trungan"; kind = "zalo"; url = "{fake.base}"; {m} chat_id = "u-trungan"; }}'
            cfg = config_with_channels(tmp, fake, smtp, {"XA-TRUNGAN": "oa-trungan"}, extra)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")

                def waiting():
                    rows = [n for n in notifications(d, report="BC-NAM") if n["recipient"] == "XA-TRUNGAN"]
                    dl = rows and d.call("notifications.show", notification=rows[0]["id"])["notification"]["deliveries"]
                    return rows[0] if dl and dl[0]["attempts"] and dl[0]["state"] == "pending" else None
                row = wait_for("a message waiting for the authorisation", waiting)
                dl = d.call("notifications.show", notification=row["id"])["notification"]["deliveries"][0]
                assert "not authorised yet: run thiduactl zalo authorize --channel oa-trungan" in dl["error"], dl
                eq(fake.posts, [], "nothing posted without a token")

                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "oa-trungan",
                                   "--redirect-uri", "https://thidua.example.org/zalo/callback")
                eq(rc, 0, out)
                url = re.search(r"(http://127\.0\.0\.1:\d+/v4/oa/permission\?\S+)", out).group(1)
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
                eq((q["app_id"], q["redirect_uri"]), ("app-1", "https://thidua.example.org/zalo/callback"), q)
                assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"]), q
                vfile = os.path.join(tmp, "state", "thidua", "zalo-oa-trungan.json")
                eq(os.stat(vfile).st_mode & 0o777, 0o600, "the verifier is the administrator's only")
                eq(os.stat(os.path.dirname(vfile)).st_mode & 0o777, 0o700, "and so is its directory")
                verifier = json.load(open(vfile))["code_verifier"]
                assert verifier not in out and verifier not in url, "the verifier never leaves the file"

                back = open_page(url)
                # a redirect of another attempt: refused before anything reaches Zalo
                other = back.replace("state=", "state=x")
                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "oa-trungan", "--redirect", other)
                assert rc != 0 and "state is not the one this authorisation made" in out, out
                eq(fake.renewals, [], "nothing sent")

                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "oa-trungan", "--redirect", back)
                eq(rc, 0, out)
                assert "channel oa-trungan: the Official Account of app app-1 is authorised" in out, out
                (form, headers, answer), = fake.renewals
                code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back).query))["code"]
                eq(form, {"code": code, "app_id": "app-1", "grant_type": "authorization_code",
                          "code_verifier": verifier}, "the form")
                eq(headers["secret_key"], "app-secret", "the secret key header")
                eq(answer["access_token"], "a-1", f"the fake took the verifier: {answer}")
                eq(stored_pair(d), ("a-1", "r-1", 0), "the pair is stored")
                assert not os.path.exists(vfile), "the verifier is gone once used"

                # the waiting message goes with the new token
                d.ctl("clock", "advance", "10m")
                wait_for("the post", lambda: fake.sent("/v3.0/oa/message/cs"))
                (h, b), = fake.sent("/v3.0/oa/message/cs")
                eq(h["access_token"], "a-1", "the new access token")

                # a code works once: a second authorisation given the spent code is refused by Zalo
                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "oa-trungan",
                                   "--redirect-uri", "https://thidua.example.org/zalo/callback")
                eq(rc, 0, out)
                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "oa-trungan", "--code", code)
                assert rc != 0 and "Zalo refused the code: error -14019" in out and "already used" in out, out
                eq(stored_pair(d), ("a-1", "r-1", 0), "nothing stored")
                assert os.path.exists(vfile), "the verifier stays for a new code"
                # a code given for another challenge: the verifier does not match
                wrong = fake.consent("A" * 43)
                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "oa-trungan", "--code", wrong)
                assert rc != 0 and "error -14022" in out, out

                db = sqlite3.connect(f"file:{os.path.join(d.dir, 'thidua.db')}?mode=ro", uri=True)
                audit = " ".join(str(r) for r in db.execute("SELECT op, detail FROM audit WHERE op = 'zalo.store'"))
                db.close()
                assert "zalo.store" in audit and "a-1" not in audit and "r-1" not in audit, audit
                log = open(d.log_path, encoding="utf-8", errors="replace").read()
                assert "r-1" not in log and "app-secret" not in log and verifier not in log, "secrets in the log"
    finally:
        fake.close()
        smtp.close()


def test_zalo_store_and_app_refuse_what_is_not_a_managed_channel():
    """zalo.app and zalo.store name a zalo or zns channel with app_id: another channel, an
    unknown one, a bad token or expires_in are refused naming the field; a verifier file
    that others may read is not used."""
    fake, smtp = FakeZalo(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            m = MANAGED.format(base=fake.base)
            extra = (f',\n  {{ name = "oa"; kind = "zalo"; url = "{fake.base}"; {m} chat_id = "u"; }},\n'
                     f'  {{ name = "plain"; kind = "zalo"; url = "{fake.base}"; secret = "t"; chat_id = "u"; }}')
            cfg = config_with_channels(tmp, fake, smtp, {}, extra)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                r = d.call("zalo.app", channel="oa")
                eq((r["app_id"], r["app_secret"], r["oauth_url"], r["authorised"]), ("app-1", "app-secret", fake.base, False), r)
                eq(d.call("zalo.app", channel="plain")["error"]["code"], "invalid_field", "not managed")
                eq(d.call("zalo.app", channel="nope")["error"]["code"], "unknown_channel", "unknown")
                for bad in ({"access_token": ""}, {"access_token": "a b"}, {"expires_in": 5}, {"expires_in": "90000"}):
                    req = dict({"channel": "oa", "access_token": "a", "refresh_token": "r", "expires_in": 90000}, **bad)
                    e = d.call("zalo.store", **req)["error"]
                    eq(e["code"], "invalid_field", f"{bad}: {e}")
                    assert list(bad)[0] in e["message"], e
                r = d.call("zalo.store", channel="oa", access_token="a-x", refresh_token="r-x", expires_in=90000)
                eq((r["app_id"], stored_pair(d)), ("app-1", ("a-x", "r-x", 0)), r)
                eq(d.call("zalo.app", channel="oa")["authorised"], True, "authorised")
                env = {"XDG_STATE_HOME": os.path.join(tmp, "state")}
                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "oa", "--redirect-uri", "https://x.example/cb")
                eq(rc, 0, out)
                vfile = os.path.join(tmp, "state", "thidua", "zalo-oa.json")
                os.chmod(vfile, 0o644)
                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "oa", "--code", "c")
                assert rc != 0 and "only you can read" in out, out
                rc, out = zalo_ctl(d, env, "zalo", "authorize", "--channel", "plain", "--redirect-uri", "https://x.example/cb")
                assert rc != 0 and "not a zalo or zns channel with app_id" in out, out
    finally:
        fake.close()
        smtp.close()


def test_a_refused_token_is_renewed_once_and_the_post_tried_once_more():
    """-216 on a channel whose tokens thidua renews: the token is renewed at once and the
    post tried once more with the new one. A follower for whom Zalo says -216 once gets the
    message on that second try; one for whom it keeps saying -216 is given up after the
    second (a dead letter saying to authorise again), not renewed without end."""
    fake, smtp = FakeZalo(), Smtp()
    fake.script = {"u-once": [-216, 0], "u-always": [-216]}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            m = MANAGED.format(base=fake.base)
            extra = (f',\n  {{ name = "oa-once"; kind = "zalo"; url = "{fake.base}"; refresh_token = "r1"; {m}'
                     f' chat_id = "u-once"; }},\n'
                     f'  {{ name = "oa-always"; kind = "zalo"; url = "{fake.base}"; refresh_token = "r1"; {m}'
                     f' chat_id = "u-always"; }}')
            cfg = config_with_channels(tmp, fake, smtp, {"XA-TRUNGAN": "oa-once", "XA-ANPHU": "oa-always"}, extra)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")

                def settled():
                    d.ctl("clock", "advance", "1m")     # the waits of a job while another renews
                    rows = {n["recipient"]: n for n in notifications(d, report="BC-NAM")
                            if n["recipient"] in ("XA-TRUNGAN", "XA-ANPHU")}
                    return rows if len(rows) == 2 and all(n["state"] in ("sent", "failed") for n in rows.values()) \
                        else None
                rows = wait_for("settled", settled)
                eq(rows["XA-TRUNGAN"]["state"], "sent", rows["XA-TRUNGAN"])
                eq(rows["XA-ANPHU"]["state"], "failed", rows["XA-ANPHU"])
                assert "refused again after the token was renewed: authorise the OA again" in rows["XA-ANPHU"]["error"], rows
                always = [b for _, b in fake.sent("/v3.0/oa/message/cs") if b["recipient"]["user_id"] == "u-always"]
                once = [b for _, b in fake.sent("/v3.0/oa/message/cs") if b["recipient"]["user_id"] == "u-once"]
                eq((len(once), len(always)), (2, 2), "each posted twice: once refused, once more after the renewal")
                # the first renewal (the configured token is of unknown age) and one per refusal at most
                assert len(fake.renewals) <= 1 + 3, [f["refresh_token"] for f, _, _ in fake.renewals]
                sent = [f["refresh_token"] for f, _, _ in fake.renewals]
                eq(len(sent), len(set(sent)), f"no refresh token sent twice: {sent}")
                renewals = len(fake.renewals)
                d.ctl("clock", "advance", "2h")
                d.ctl("clock", "advance", "2h")
                eq(len([b for _, b in fake.sent("/v3.0/oa/message/cs") if b["recipient"]["user_id"] == "u-always"]), 2,
                   "not tried again")
                eq(len(fake.renewals), renewals, "nor renewed again for it")
    finally:
        fake.close()
        smtp.close()


def test_a_refusal_of_a_token_replaced_meanwhile_does_not_renew_the_new_one():
    """A post leaves with access token a-1; before Zalo's -216 for it comes back, a new
    pair is stored (a new authorisation). The refusal was of the old token: the new pair is
    not sent for renewal, and the post is tried again at once with the new token."""
    fake, smtp = FakeZalo(), Smtp()
    fake.script = {"u-slow": [-216, 0]}
    fake.hold = {"u-slow": threading.Event()}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            m = MANAGED.format(base=fake.base)
            extra = f',\n  {{ name = "oa-slow"; kind = "zalo"; url = "{fake.base}"; {m} chat_id = "u-slow"; }}'
            cfg = config_with_channels(tmp, fake, smtp, {"XA-TRUNGAN": "oa-slow"}, extra)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.call("zalo.store", channel="oa-slow", access_token=TOKEN, refresh_token="r1", expires_in=90000)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")
                assert fake.holding.wait(30), "the post did not come"
                d.ctl("clock", "advance", "1m")
                fake.tokens.add("a-new")
                d.call("zalo.store", channel="oa-slow", access_token="a-new", refresh_token="r-new", expires_in=90000)
                fake.hold["u-slow"].set()

                def sent():
                    rows = [n for n in notifications(d, report="BC-NAM") if n["recipient"] == "XA-TRUNGAN"]
                    return rows if rows and rows[0]["state"] == "sent" else None
                wait_for("sent", sent)
                eq([h["access_token"] for h, _ in fake.sent("/v3.0/oa/message/cs")], [TOKEN, "a-new"],
                   "refused with the old token, sent with the new one")
                eq(fake.renewals, [], "the new pair was not renewed")
                eq(stored_pair(d), ("a-new", "r-new", 0), "the new pair stays")
    finally:
        for e in fake.hold.values():
            e.set()
        fake.close()
        smtp.close()


def test_no_email_when_another_zalo_recipient_of_the_unit_got_it():
    """A unit with two followers on the OA: one gets the message, the other has not written
    lately (-230). The unit was reached through Zalo: no e-mail; the failed delivery says
    why none went."""
    fake, smtp = FakeZalo(), Smtp()
    fake.script = {"u-b": [-230]}
    fake.hold = {"u-b": threading.Event()}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            extra = (f',\n  {{ name = "oa-a"; kind = "zalo"; url = "{fake.base}"; secret = "{TOKEN}"; chat_id = "u-a"; }},\n'
                     f'  {{ name = "oa-b"; kind = "zalo"; url = "{fake.base}"; secret = "{TOKEN}"; chat_id = "u-b"; }}')
            cfg = config_with_channels(tmp, fake, smtp, {}, extra)
            text = open(cfg, encoding="utf-8").read()
            text = text.replace('code = "XA-TRUNGAN";', 'code = "XA-TRUNGAN"; chats = [ "oa-a", "oa-b" ];', 1)
            open(cfg, "w", encoding="utf-8").write(text)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")

                def deliveries():
                    rows = [n for n in notifications(d, report="BC-NAM") if n["recipient"] == "XA-TRUNGAN"]
                    return rows and d.call("notifications.show", notification=rows[0]["id"])["notification"]
                wait_for("u-a reached", lambda: any(x["channel"] == "oa-a" and x["state"] == "sent"
                                                    for x in (deliveries() or {}).get("deliveries", [])))
                fake.hold["u-b"].set()
                show = wait_for("u-b failed", lambda: (lambda n: n if n and n["state"] in ("sent", "failed") else None)
                                (deliveries()))
                eq([(x["channel"], x["state"]) for x in show["deliveries"]], [("oa-a", "sent"), ("oa-b", "failed")], show)
                assert "not sent by e-mail instead: another of the unit's Zalo recipients got the message" \
                    in show["deliveries"][1]["error"], show
                eq(mails_to(smtp, "ubnd.trungan@"), [], "no e-mail")
    finally:
        for e in fake.hold.values():
            e.set()
        fake.close()
        smtp.close()
