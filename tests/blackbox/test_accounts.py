"""Accounts and sessions (docs/PROTOCOL.md, "Accounts and sessions"): invitations by mail,
passwords, logins and their throttling, sessions on the web socket and their expiry by the
daemon's clock, and a receipt's file downloaded through a session. The web socket is
spoken to as the gateway speaks to it: raw ZeroMQ frames on STATE_DIR/web.sock."""
import email
import email.policy
import hashlib
import json
import os
import sqlite3
import subprocess
import tempfile
import time

import zmq

from harness import BIN, CONFIG, Daemon, eq, write

START = "2024-11-10T09:00:00+07:00"
PW = "mật khẩu của Lan 2024"
PW_NAM = "Huỳnh Văn Nam mật khẩu"
DOC = "Báo cáo kết quả năm 2024 của xã An Phú".encode()
BIG = bytes(range(256)) * 8192          # 2 MiB: kept under files/, not in its row
ADMIN = '  { name = "quan.tri"; display_name = "Quản Trị Viên"; unit = "HCM"; roles = [ "admin" ]; },\n'


def web(d, op, frames=False, **fields):
    """One request on the web socket; the reply's JSON (and its file frames if asked)."""
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 20000)
    s.connect(f"ipc://{d.dir}/web.sock")
    try:
        s.send_multipart([b"", json.dumps(dict(fields, op=op)).encode()])
        got = s.recv_multipart()
    finally:
        s.close()
    reply = json.loads(got[1])
    return (reply, got[2:]) if frames else reply


def api_frames(d, op, **fields):
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 20000)
    s.connect(d.endpoint)
    try:
        s.send_multipart([b"", json.dumps(dict(fields, op=op)).encode()])
        got = s.recv_multipart()
    finally:
        s.close()
    return json.loads(got[1]), got[2:]


def code(r):
    return None if r["ok"] else r["error"]["code"]


def login(d, name, password, address="203.0.113.7"):
    return web(d, "session.login", name=name, password=password, address=address)


def session(d, name, password):
    r = login(d, name, password)
    assert r["ok"], r
    return r["session"]


def admin_config(tmp):
    """the sample configuration with an admin of the top unit, quan.tri"""
    text = open(CONFIG, encoding="utf-8").read()
    i = text.index("principals = (") + len("principals = (\n")
    path = os.path.join(tmp, "admin.cfg")
    write(path, text[:i] + ADMIN + text[i:])
    return path


def read_eml(path):
    with open(path, "rb") as fp:
        return email.message_from_bytes(fp.read(), policy=email.policy.default)


def invite_mail(d, link):
    """the spooled .eml of the invitation whose link is link"""
    for row in d.db().execute("SELECT path, recipient, state FROM outbox WHERE kind = 'account_invite' ORDER BY id DESC"):
        if row[0] and row[0].endswith(".eml") and link in read_eml(row[0]).get_content():
            return row, read_eml(row[0])
    raise AssertionError("no spooled invitation carries " + link)


def test_an_invitation_is_mailed_to_the_unit_used_once_and_expires():
    with Daemon(start_at=START) as d:
        inv = d.call("account.invite", name="nguyen.thi.lan")
        assert inv["ok"], inv
        eq(inv["sent_to"], ["ubnd.anphu@cuchi.example.org"], "the unit's address")
        eq(inv["expires_at"], "2024-11-13T09:00:00+07:00", "72 hours")
        assert inv["link"].startswith("http://127.0.0.1:8470/moi/") and len(inv["link"].rsplit("/", 1)[1]) == 64, inv
        token = inv["link"].rsplit("/", 1)[1]
        d.call("clock.advance", by="1s")        # the outbox is worked through on the way
        (path, recipient, state), mail = invite_mail(d, inv["link"])
        eq((recipient, state), ("XA-ANPHU", "spooled"), "to the unit, spooled without an smtp channel")
        eq(mail["To"], "ubnd.anphu@cuchi.example.org", "To")
        assert "Nguyễn Thị Lan" in mail.get_content() and "nguyen.thi.lan" in mail.get_content(), mail.get_content()
        # the token is not in the database: only its hash
        con = d.db()
        assert token not in json.dumps(con.execute("SELECT * FROM invites").fetchall()), "token stored"
        eq(con.execute("SELECT count(*) FROM invites WHERE hash = ?", (hashlib.sha256(token.encode()).hexdigest(),))
           .fetchone()[0], 1, "stored as its SHA-256")
        # redeemed once: a password and a session
        r = web(d, "session.redeem", token=token, password=PW, address="198.51.100.1")
        assert r["ok"] and len(r["session"]) == 64 and r["principal"]["unit"] == "XA-ANPHU", r
        eq(code(web(d, "session.show", session=r["session"])), None, "the session works")
        r2 = web(d, "session.redeem", token=token, password="một mật khẩu khác nữa", address="198.51.100.1")
        eq(code(r2), "invite_invalid", "a second use")
        assert "quản trị" in r2["error"]["message"], r2
        assert login(d, "nguyen.thi.lan", PW)["ok"], "the first password stands"
        eq(code(web(d, "session.redeem", token="f" * 64, password=PW)), "invite_invalid", "never given")
        row = d.db().execute("SELECT principal, detail FROM audit WHERE op = 'session.failed' ORDER BY seq DESC").fetchone()
        eq((row[0], json.loads(row[1])["why"]), ("web", "invitation unknown or used"), "a bad token is audited")
        # a new invitation replaces the unused one; an invitation expires
        first = d.call("account.invite", name="tran.thi.thu")["link"].rsplit("/", 1)[1]
        second = d.call("account.invite", name="tran.thi.thu")["link"].rsplit("/", 1)[1]
        eq(code(web(d, "session.redeem", token=first, password=PW)), "invite_invalid", "replaced")
        d.call("clock.advance", by="72h1s")
        r = web(d, "session.redeem", token=second, password=PW)
        eq(code(r), "invite_expired", "after 72 hours")
        assert "2024-11-16T09:00:01+07:00" in r["error"]["message"] or "hết hạn" in r["error"]["message"], r
        eq(d.call("account.invite", name="tran.thi.thu")["sent_to"], ["ap.phuloi.phd@cuchi.example.org"], "its hamlet")


def test_login_failures_look_alike_and_lock_the_account_for_15_minutes():
    with Daemon(start_at=START) as d:
        assert d.call("account.passwd", name="nguyen.thi.lan", password=PW)["ok"]
        bad, unknown, nopw = (login(d, "nguyen.thi.lan", "sai mật khẩu rồi"), login(d, "khong.ton.tai", PW),
                              login(d, "tran.thi.thu", PW))
        eq({code(bad), code(unknown), code(nopw)}, {"login_failed"}, "one code")
        eq({bad["error"]["message"], unknown["error"]["message"], nopw["error"]["message"]}, {bad["error"]["message"]},
           "one message for a wrong password, an unknown name and no password yet")
        for _ in range(4):
            eq(code(login(d, "nguyen.thi.lan", "sai mật khẩu rồi", address=f"192.0.2.{_}")), "login_failed", "failure")
        r = login(d, "nguyen.thi.lan", PW)
        eq(code(r), "account_locked", "the sixth attempt, with the right password")
        assert "2024-11-10T09:15:00+07:00" in r["error"]["message"], r
        row = [a for a in d.call("accounts.list")["accounts"] if a["name"] == "nguyen.thi.lan"][0]
        eq((row["failed_logins"], row["locked_until"], row["locked"]), (5, "2024-11-10T09:15:00+07:00", False), "listed")
        # an unknown name is locked the same way: nothing tells it does not exist
        for _ in range(5):
            login(d, "khong.ton.tai", PW, address="192.0.2.50")
        eq(code(login(d, "khong.ton.tai", PW, address="192.0.2.51")), "account_locked", "unknown name locked too")
        d.call("clock.advance", by="14m59s")
        eq(code(login(d, "nguyen.thi.lan", PW)), "account_locked", "still locked")
        d.call("clock.advance", by="1s")
        r = login(d, "nguyen.thi.lan", PW)
        assert r["ok"], r
        row = [a for a in d.call("accounts.list")["accounts"] if a["name"] == "nguyen.thi.lan"][0]
        eq((row["failed_logins"], row["locked_until"], row["last_login"]), (0, None, "2024-11-10T09:15:00+07:00"), "cleared")
        ops = [r[0] for r in d.db().execute("SELECT op FROM audit WHERE op LIKE 'session.%' ORDER BY seq")]
        # refusals while locked check no password and are no failures: 3 + 4 + 4
        eq(ops.count("session.failed"), 11, "every failure audited")
        eq(ops.count("session.lockout"), 2, "two lockouts")
        eq(ops[-1], "session.login", "the login")


def test_an_address_failing_20_times_is_refused_and_others_are_not():
    with Daemon(start_at=START) as d:
        assert d.call("account.passwd", name="nguyen.thi.lan", password=PW)["ok"]
        for i in range(20):     # a different name each time: no account reaches its lockout
            eq(code(login(d, f"ten.{i}", "mật khẩu bất kỳ", address="203.0.113.66")), "login_failed", i)
        r = login(d, "nguyen.thi.lan", PW, address="203.0.113.66")
        eq(code(r), "login_throttled", "the address is refused, even with the right password")
        assert "2024-11-10T09:15:00+07:00" in r["error"]["message"], r
        assert login(d, "nguyen.thi.lan", PW, address="203.0.113.67")["ok"], "another address logs in"
        # guessing invitation tokens counts too, and is refused the same way
        token = d.call("account.invite", name="tran.thi.thu")["link"].rsplit("/", 1)[1]
        for i in range(20):
            eq(code(web(d, "session.redeem", token=f"{i:064x}", password=PW, address="203.0.113.68")), "invite_invalid", i)
        eq(code(web(d, "session.redeem", token=token, password=PW, address="203.0.113.68")), "login_throttled",
           "even the right token")
        assert web(d, "session.redeem", token=token, password=PW, address="203.0.113.69")["ok"], "from another address"
        d.call("clock.advance", by="15m")
        assert login(d, "nguyen.thi.lan", PW, address="203.0.113.66")["ok"], "after 15 minutes"


def test_a_burst_of_logins_is_checked_a_few_per_turn_and_the_rest_refused_at_once():
    with Daemon(start_at=START) as d:
        assert d.call("account.passwd", name="nguyen.thi.lan", password=PW)["ok"]
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 20000)
        s.connect(f"ipc://{d.dir}/web.sock")
        n = 60
        for i in range(n):      # from many addresses: the address throttle is not what answers
            s.send_multipart([b"", json.dumps({"op": "session.login", "name": f"ten.{i}", "password": "x" * 12,
                                               "address": f"10.0.{i}.1"}).encode()])
        t0 = time.monotonic()
        submitted = d.call("report.submit", files=[("bao-cao.pdf", DOC)], unit="XA-ANPHU", report="BC-NAM", period="2024")
        waited = time.monotonic() - t0
        codes = [json.loads(s.recv_multipart()[-1])["error"]["code"] for _ in range(n)]
        s.close()
        assert submitted["ok"], submitted
        busy = codes.count("login_throttled")
        assert busy > 0 and codes.count("login_failed") + busy == n, codes
        # 60 checks would hold the loop 3-4 s; a few per turn, well under one
        assert waited < 2.0, f"a submission waited {waited:.2f}s behind a burst of logins ({busy} refused busy)"


def test_a_session_expires_when_idle_30_minutes_or_after_12_hours():
    with Daemon(start_at=START) as d:
        assert d.call("account.passwd", name="nguyen.thi.lan", password=PW)["ok"]
        tok = session(d, "nguyen.thi.lan", PW)
        d.call("clock.advance", by="30m")
        assert web(d, "obligations.list", session=tok)["ok"], "30 minutes idle: still open"
        d.call("clock.advance", by="30m1s")
        r = web(d, "obligations.list", session=tok)
        eq(code(r), "session_expired", "idle 30 minutes and a second")
        eq(code(web(d, "obligations.list", session=tok)), "session_expired", "and stays so")
        # in use all along: it ends 12 hours after the login all the same
        tok = session(d, "nguyen.thi.lan", PW)
        show = web(d, "session.show", session=tok)
        eq((show["expires_at"], show["idle_expires_at"]), ("2024-11-10T22:00:01+07:00", "2024-11-10T10:30:01+07:00"), "expiry")
        for _ in range(25):
            assert web(d, "session.show", session=tok)["ok"]
            d.call("clock.advance", by="29m")
        eq(code(web(d, "session.show", session=tok)), "session_expired", "12 hours after its login")
        eq(d.db().execute("SELECT count(*) FROM sessions").fetchone()[0], 0, "ended sessions are gone")


def test_the_web_socket_runs_as_the_session_and_nothing_else():
    with tempfile.TemporaryDirectory() as tmp, Daemon(config=admin_config(tmp), start_at=START) as d:
        for name, pw in (("nguyen.thi.lan", PW), ("huynh.van.nam", PW_NAM), ("quan.tri", "mật khẩu quản trị")):
            assert d.call("account.passwd", name=name, password=pw)["ok"]
        # without a session: only login, redeem and status
        for op, f in (("obligations.list", {}), ("clock.advance", {"by": "1m"}), ("account.invite", {"name": "quan.tri"}),
                      ("session.show", {}), ("report.submit", {"unit": "XA-ANPHU", "report": "BC-NAM", "period": "2024"})):
            r = web(d, op, **f)
            eq(code(r), "session_required", op)
            assert "đăng nhập" in r["error"]["message"], r
        assert web(d, "status")["ok"], "status without a session"
        eq(code(web(d, "status", **{"as": "nguyen.thi.lan"})), "forbidden", "'as' without a session")
        lan = session(d, "nguyen.thi.lan", PW)
        # as the session's principal: a clerk submits for its commune, not another's
        r = web(d, "report.submit", session=lan, unit="XA-ANPHU", report="BC-NAM", period="2024", files=[])
        assert code(r) in ("no_file",), r
        eq(code(web(d, "report.submit", session=lan, unit="XA-PHUHOADONG", report="BC-NAM", period="2024")), "forbidden",
           "another commune")
        # 'as' may only repeat the session's principal
        assert web(d, "obligations.list", session=lan, **{"as": "nguyen.thi.lan"})["ok"], "the same principal"
        r = web(d, "obligations.list", session=lan, **{"as": "huynh.van.nam"})
        eq(code(r), "forbidden", "another principal")
        eq(code(web(d, "clock.advance", session=lan, by="1m", **{"as": "quan.tri"})), "forbidden", "nor an admin")
        # admin-only ops: refused to a clerk's session, allowed to an admin's
        for op, f in (("clock.advance", {"by": "1m"}), ("account.invite", {"name": "huynh.van.nam"}),
                      ("accounts.list", {}), ("audit.list", {}), ("account.lock", {"name": "huynh.van.nam"})):
            eq(code(web(d, op, session=lan, **f)), "forbidden", op)
        adm = session(d, "quan.tri", "mật khẩu quản trị")
        assert web(d, "clock.advance", session=adm, by="1m")["ok"], "an admin's session"
        assert len(web(d, "accounts.list", session=adm)["accounts"]) > 10
        # the audit log names the session's principal, never the token
        row = d.db().execute("SELECT principal, detail FROM audit WHERE op = 'clock.advance'").fetchone()
        eq(row[0], "quan.tri", "audited as the principal")
        assert adm not in row[1] and "session" not in json.loads(row[1]), row
        # logout ends it
        eq(web(d, "session.logout", session=lan)["name"], "nguyen.thi.lan", "logout")
        eq(code(web(d, "obligations.list", session=lan)), "session_expired", "after logout")
        eq(code(web(d, "session.logout", session=lan)), "session_expired", "twice")
        eq(code(web(d, "obligations.list", session="zz")), "session_expired", "a malformed token")


def test_a_lock_ends_the_sessions_and_refuses_logins_until_unlocked():
    with Daemon(start_at=START) as d:
        assert d.call("account.passwd", name="nguyen.thi.lan", password=PW)["ok"]
        a, b = session(d, "nguyen.thi.lan", PW), session(d, "nguyen.thi.lan", PW)
        r = d.call("account.lock", name="nguyen.thi.lan")
        eq((r["locked"], r["sessions_ended"]), (True, 2), "both sessions end")
        for tok in (a, b):
            eq(code(web(d, "obligations.list", session=tok)), "session_expired", "ended by the lock")
        r = login(d, "nguyen.thi.lan", PW)
        eq(code(r), "account_locked", "locked")
        assert "unlock" in r["error"]["message"], r
        eq(code(login(d, "nguyen.thi.lan", "không phải mật khẩu")), "login_failed", "a wrong password says nothing of the lock")
        assert [x for x in d.call("accounts.list")["accounts"] if x["name"] == "nguyen.thi.lan"][0]["locked"]
        eq(d.call("account.unlock", name="nguyen.thi.lan")["locked"], False, "unlocked")
        assert login(d, "nguyen.thi.lan", PW)["ok"], "logs in again"
        ops = [r[0] for r in d.db().execute("SELECT op FROM audit WHERE op LIKE 'account.%' ORDER BY seq")]
        eq(ops, ["account.passwd", "account.lock", "account.unlock"], "audited")
        # a new password ends the sessions too
        tok = session(d, "nguyen.thi.lan", PW)
        eq(d.call("account.passwd", name="nguyen.thi.lan", password=PW + "!")["sessions_ended"], 2, "new password")
        eq(code(web(d, "session.show", session=tok)), "session_expired", "ended by the new password")


def test_password_rules_and_no_password_or_token_is_ever_written_down():
    with Daemon(start_at=START) as d:
        for pw, what in (("ngắn", "độ dài"), ("x" * 129, "độ dài"), ("nguyen.thi.lan", "tên đăng nhập"),
                         ("NGUYEN.THI.LAN", "tên đăng nhập")):
            r = d.call("account.passwd", name="nguyen.thi.lan", password=pw)
            eq(code(r), "invalid_field", pw)
            assert "'password'" in r["error"]["message"] and pw not in r["error"]["message"], r
        eq(code(d.call("account.passwd", name="ke.la", password=PW)), "unknown_principal", "no such principal")
        eq(code(d.call("account.passwd", name="nguyen.thi.lan")), "missing_field", "no password")
        assert d.call("account.passwd", name="nguyen.thi.lan", password="x" * 128)["ok"], "128 bytes"
        assert d.call("account.passwd", name="nguyen.thi.lan", password="ắ" * 4)["ok"], "4 letters, 12 bytes"
        inv = d.call("account.invite", name="nguyen.thi.lan", id="inv-1")
        token = inv["link"].rsplit("/", 1)[1]
        eq(code(web(d, "session.redeem", token=token, password="ngắn")), "invalid_field", "rules at redeem")
        r = web(d, "session.redeem", token=token, password=PW, address="198.51.100.9", id="redeem-1")
        assert r["ok"], r
        tok = r["session"]
        assert login(d, "nguyen.thi.lan", PW + " sai", address="198.51.100.9")["ok"] is False
        r = d.call("account.passwd", name="nguyen.thi.lan", password=PW_NAM, id="pw-1")
        assert r["ok"] and PW_NAM not in json.dumps(r), r
        # a write with an id sent again runs again: nothing of it was stored to replay
        again = d.call("account.invite", name="nguyen.thi.lan", id="inv-1")
        assert again["ok"] and "replayed" not in again and again["link"] != inv["link"], again
        secrets = [PW, PW_NAM, PW + " sai", "x" * 128, token, tok, inv["link"], again["link"].rsplit("/", 1)[1]]
        d.stop()
        with open(d.log_path, encoding="utf-8", errors="replace") as fp:
            log = fp.read()
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        dump = "\n".join(con.iterdump())
        con.close()
        for s in secrets:
            assert s not in log, f"{s!r} in the log"
            assert s not in dump, f"{s!r} in the database"
        assert "$argon2id$v=19$m=19456,t=2,p=1$" in dump, "hashed with Argon2id, 19 MiB, 2 passes"


def test_report_file_gives_the_exact_bytes_to_whoever_reads_the_receipt():
    with Daemon(start_at=START) as d:
        assert d.call("account.passwd", name="nguyen.thi.lan", password=PW)["ok"]
        assert d.call("account.passwd", name="huynh.van.nam", password=PW_NAM)["ok"]
        lan, nam = session(d, "nguyen.thi.lan", PW), session(d, "huynh.van.nam", PW_NAM)
        s = zmq.Context.instance().socket(zmq.DEALER)      # a submission with files, as the gateway sends it
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 20000)
        s.connect(f"ipc://{d.dir}/web.sock")
        s.send_multipart([b"", json.dumps({"op": "report.submit", "session": lan, "unit": "XA-ANPHU", "report": "BC-NAM",
                                           "period": "2024", "files": ["bao-cao.pdf", "phu-luc.bin"]}).encode(), DOC, BIG])
        r = json.loads(s.recv_multipart()[-1])
        s.close()
        assert r["ok"], r
        number = r["receipt"]["number"]
        eq(d.db().execute("SELECT principal FROM submissions WHERE receipt = ?", (number,)).fetchone()[0], "nguyen.thi.lan",
           "submitted as the session's principal")
        for data, name in ((DOC, "bao-cao.pdf"), (BIG, "phu-luc.bin")):
            sha = hashlib.sha256(data).hexdigest()
            reply, frames = web(d, "report.file", frames=True, session=lan, receipt=number, sha256=sha)
            assert reply["ok"], reply
            eq((reply["name"], reply["size"], reply["sha256"]), (name, len(data), sha), "members")
            eq(len(frames), 1, "one file frame")
            eq(frames[0], data, f"the bytes of {name}")
            # over the api socket the local administrator gets the same
            eq(api_frames(d, "report.file", receipt=number, sha256=sha)[1], [data], "over the api socket")
        sha = hashlib.sha256(DOC).hexdigest()
        r = web(d, "report.file", session=nam, receipt=number, sha256=sha)
        eq(code(r), "forbidden", "another commune's clerk")
        assert "huynh.van.nam" in r["error"]["message"], r
        eq(code(web(d, "report.file", session=lan, receipt=number, sha256="0" * 64)), "unknown_file", "no such file")
        eq(code(web(d, "report.file", session=lan, receipt=number, sha256="ABC")), "invalid_field", "not a hash")
        eq(code(web(d, "report.file", session=lan, receipt="BN-2024-999999", sha256=sha)), "unknown_receipt", "receipt")
        # a stored copy changed on disk is refused, not sent
        big = hashlib.sha256(BIG).hexdigest()
        path = os.path.join(d.dir, "files", big[:2], big)
        os.chmod(path, 0o640)
        with open(path, "r+b") as fp:
            fp.write(b"X")
        eq(code(web(d, "report.file", session=lan, receipt=number, sha256=big)), "internal", "a changed copy")


def test_proposal_file_gives_a_dossiers_bytes_to_whoever_reads_the_proposal():
    with Daemon(start_at=START) as d:
        assert d.call("account.passwd", name="ngo.thi.kim", password=PW)["ok"]
        assert d.call("account.passwd", name="huynh.van.nam", password=PW_NAM)["ok"]
        kim, nam = session(d, "ngo.thi.kim", PW), session(d, "huynh.van.nam", PW_NAM)
        p = d.call("proposal.create", files=[("tờ trình.pdf", DOC), ("bảng tổng hợp.bin", BIG)], programme="BK-TT",
                   year=2024, unit="CUCHI-HKH", nominee="CHKH-PHULOI", nominee_name="Chi hội Khuyến học ấp Phú Lợi",
                   **{"as": "ngo.thi.kim"})
        assert p["ok"], p
        pid = p["proposal"]["id"]
        for data, name in ((DOC, "tờ trình.pdf"), (BIG, "bảng tổng hợp.bin")):
            sha = hashlib.sha256(data).hexdigest()
            reply, frames = web(d, "proposal.file", frames=True, session=kim, proposal=pid, sha256=sha)
            assert reply["ok"], reply
            eq((reply["proposal"], reply["name"], reply["size"], reply["sha256"]), (pid, name, len(data), sha), "members")
            eq(frames, [data], f"one file frame, the bytes of {name}")
            eq(api_frames(d, "proposal.file", proposal=pid, sha256=sha)[1], [data], "over the api socket")
        sha = hashlib.sha256(DOC).hexdigest()
        r = web(d, "proposal.file", session=nam, proposal=pid, sha256=sha)
        eq(code(r), "forbidden", "a commune that neither proposed nor decides it")
        assert "huynh.van.nam" in r["error"]["message"], r
        eq(code(web(d, "proposal.file", session=kim, proposal=pid, sha256="0" * 64)), "unknown_file", "no such file")
        eq(code(web(d, "proposal.file", session=kim, proposal=pid, sha256="ABC")), "invalid_field", "not a hash")
        eq(code(web(d, "proposal.file", session=kim, proposal=pid)), "missing_field", "no hash")
        eq(code(web(d, "proposal.file", session=kim, proposal=999, sha256=sha)), "unknown_proposal", "proposal")
        # a receipt's file is not a dossier's
        r = d.call("report.submit", files=[("bao-cao.pdf", b"only a report")], unit="XA-ANPHU", report="BC-NAM", period="2024")
        other = hashlib.sha256(b"only a report").hexdigest()
        eq(code(web(d, "proposal.file", session=kim, proposal=pid, sha256=other)), "unknown_file", "another's file")
        # a stored copy changed on disk is refused, not sent
        big = hashlib.sha256(BIG).hexdigest()
        path = os.path.join(d.dir, "files", big[:2], big)
        os.chmod(path, 0o640)
        with open(path, "r+b") as fp:
            fp.write(b"X")
        r = web(d, "proposal.file", session=kim, proposal=pid, sha256=big)
        eq(code(r), "internal", "a changed copy")
        assert "files verify" in r["error"]["message"], r


def test_thiduactl_principals_invite_passwd_lock_unlock_list():
    with Daemon(start_at=START) as d:
        rc, out = d.ctl_raw("principals", "invite", "nguyen.thi.lan")
        assert rc == 0 and "http://127.0.0.1:8470/moi/" in out and "mailed to ubnd.anphu@cuchi.example.org" in out, out
        rc, out = d.ctl_raw("principals", "passwd", "nguyen.thi.lan", input=(PW + "\n").encode())
        assert rc == 0 and "password of nguyen.thi.lan set" in out and PW not in out, out
        assert login(d, "nguyen.thi.lan", PW)["ok"], "the password piped to stdin"
        rc, out = d.ctl_raw("principals", "passwd", "nguyen.thi.lan", input="ngắn\n".encode())
        assert rc != 0 and "'password'" in out and "10" in out, out
        rc, out = d.ctl_raw("principals", "lock", "nguyen.thi.lan")
        assert rc == 0 and "nguyen.thi.lan locked; 1 session(s) ended" in out, out
        rc, out = d.ctl_raw("principals", "list")
        line = [l for l in out.splitlines() if l.startswith("nguyen.thi.lan")][0]
        assert "yes" in line and "submitter,approver" in line, line
        rc, out = d.ctl_raw("principals", "unlock", "nguyen.thi.lan")
        assert rc == 0 and "nguyen.thi.lan unlocked" in out, out
        rc, out = d.ctl_raw("principals", "lock", "ke.la")
        assert rc != 0 and "ke.la" in out, out
        eq(d.ctl("principals", "list")["accounts"][0]["name"], "tran.van.binh", "--json")


def test_a_restored_backup_keeps_invitations_and_passwords():
    from test_backup import backup, members, restore
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, "b.tar")
        with Daemon(start_at=START) as d:
            assert d.call("account.passwd", name="huynh.van.nam", password=PW_NAM)["ok"]
            token = d.call("account.invite", name="nguyen.thi.lan")["link"].rsplit("/", 1)[1]
            backup(d, archive)
            m = members(archive)
            assert "invite.key" in m and m["invite.key"].mode & 0o777 == 0o600, sorted(m)
        target = os.path.join(tmp, "restored")
        rc, out = restore(archive, target)
        assert rc == 0, out
        with Daemon(state_dir=target, start_at=START) as r:
            assert web(r, "session.redeem", token=token, password=PW)["ok"], "the mailed link still works"
            assert login(r, "huynh.van.nam", PW_NAM)["ok"], "the password still works"


def test_the_web_section_sets_the_link_and_the_lifetimes():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "web.cfg")
        text = open(CONFIG, encoding="utf-8").read()
        i = text.index("web = {")
        j = text.index("};", i) + 2
        write(path, text[:i] + 'web = { url = "https://thidua.example.gov.vn/"; idle_minutes = 5; max_hours = 1;'
              ' invite_hours = 2; };' + text[j:])
        with Daemon(config=path, start_at=START) as d:
            inv = d.call("account.invite", name="nguyen.thi.lan")
            assert inv["link"].startswith("https://thidua.example.gov.vn/moi/"), inv
            eq(inv["expires_at"], "2024-11-10T11:00:00+07:00", "2 hours")
            assert d.call("account.passwd", name="nguyen.thi.lan", password=PW)["ok"]
            tok = session(d, "nguyen.thi.lan", PW)
            d.call("clock.advance", by="5m1s")
            eq(code(web(d, "session.show", session=tok)), "session_expired", "idle 5 minutes")
            tok = session(d, "nguyen.thi.lan", PW)
            for _ in range(13):
                assert web(d, "session.show", session=tok)["ok"]
                d.call("clock.advance", by="4m40s")
            eq(code(web(d, "session.show", session=tok)), "session_expired", "after 1 hour in use")
        write(path, text[:i] + 'web = { url = "thidua.example.gov.vn"; };' + text[j:])
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", path], capture_output=True)
        assert p.returncode != 0 and b"http://" in p.stdout + p.stderr, p


def test_an_invitation_goes_by_smtp_at_once_to_the_mail_only_and_its_link_is_not_kept():
    """With an smtp channel and thidua-mail: the invitation leaves at once, on a Sunday too,
    to the unit's address and not to its chat; once the server has it, the delivery's copy
    of the text no longer holds the link."""
    from test_delivery import Receiver, Smtp, config_with_channels, wait_for, workers_ready
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config_with_channels(tmp, http, smtp, {"XA-ANPHU": "json-ok"})
            with Daemon(config=cfg, start_at=START) as d:       # Sunday 09:00
                workers_ready(d)
                inv = d.call("account.invite", name="nguyen.thi.lan")
                token = inv["link"].rsplit("/", 1)[1]
                def invitations():
                    return [(r, m) for r, m in ((r, email.message_from_bytes(c, policy=email.policy.default))
                                                for _, r, c in smtp.messages) if "Mời đặt mật khẩu" in str(m["Subject"])]
                ((rcpts, m),) = wait_for("the invitation", invitations)
                eq(rcpts, ["ubnd.anphu@cuchi.example.org"], "to the unit's address")
                assert str(m["Subject"]).startswith("[thidua] Mời đặt mật khẩu"), m["Subject"]
                assert inv["link"] in m.get_body(("plain",)).get_content()
                wait_for("the delivery settled", lambda: d.db().execute(
                    "SELECT count(*) FROM deliveries WHERE state = 'sent'").fetchone()[0] >= 1)
                rows = d.db().execute("SELECT d.channel, d.payload FROM deliveries d JOIN outbox o ON o.id = d.outbox"
                                      " WHERE o.kind = 'account_invite'").fetchall()
                eq([r[0] for r in rows], ["thu"], "no chat delivery")
                assert token not in rows[0][1] and "không được lưu" in rows[0][1], rows[0][1]
                assert not [p for p in http.posts if token.encode() in p[2]], "never posted to a chat"
                assert web(d, "session.redeem", token=token, password=PW)["ok"], "the mailed link works"
    finally:
        http.close()
        smtp.close()


def test_one_account_per_name_and_the_session_is_its_post_of_today():
    """nguyen.thi.lan holds two posts one after the other (XA-ANPHU until 30 June 2025,
    XA-ANNHONTAY-2025 from 1 July): one account, and the session is the post in force."""
    with Daemon(start_at="2025-07-01T09:00:00+07:00") as d:
        names = [a["name"] for a in d.call("accounts.list")["accounts"]]
        eq(names.count("nguyen.thi.lan"), 1, "one account per name")
        eq(len(names), len(set(names)), "no name twice")
        row = [a for a in d.call("accounts.list")["accounts"] if a["name"] == "nguyen.thi.lan"][0]
        eq(row["unit"], "XA-ANNHONTAY-2025", "today's post")
        inv = d.call("account.invite", name="nguyen.thi.lan")
        eq(inv["sent_to"], ["ubnd.annhontay@hcmc.example.org"], "mailed to today's unit")
        r = web(d, "session.redeem", token=inv["link"].rsplit("/", 1)[1], password=PW)
        eq((r["principal"]["unit"], r["principal"]["roles"]), ("XA-ANNHONTAY-2025", ["submitter"]), "today's post")
        # a post that has ended logs in to nothing
        assert d.call("account.passwd", name="tran.van.binh", password=PW)["ok"]
        eq(code(login(d, "tran.van.binh", PW)), "roles_ended", "roles over on 30 June 2025")


def test_a_supervised_thidua_web_is_given_the_web_socket():
    """workers = ( { program = ".../thidua-web"; } ): thiduad starts it with -e naming the
    web socket, not the jobs socket the delivery workers get."""
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "thidua-web")
        args = os.path.join(tmp, "args")
        write(prog, f'#!/bin/sh\necho "$@" > {args}.tmp && mv {args}.tmp {args}\nexec sleep 600\n')
        os.chmod(prog, 0o755)
        cfg = os.path.join(tmp, "web.cfg")
        write(cfg, open(CONFIG, encoding="utf-8").read() + f'\nworkers = ( {{ program = "{prog}"; args = [ "--listen", "127.0.0.1:0" ]; }} );\n')
        with Daemon(config=cfg, start_at=START) as d:
            deadline = time.monotonic() + 20
            while not os.path.exists(args) and time.monotonic() < deadline:
                time.sleep(0.01)
            with open(args, encoding="utf-8") as fp:
                eq(fp.read().split(), ["-e", f"ipc://{d.dir}/web.sock", "--listen", "127.0.0.1:0"], "its arguments")


def test_an_invitation_to_a_unit_reached_by_zalo_still_goes_by_mail_and_never_to_zalo():
    from test_delivery import Smtp, config_with_channels, wait_for, workers_ready
    from test_zalo import TOKEN, FakeZalo
    fake, smtp = FakeZalo(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            extra = f''',
  {{ name = "oa-anphu"; kind = "zalo"; url = "{fake.base}"; secret = "{TOKEN}"; chat_id = "u-anphu"; }}'''
            cfg = config_with_channels(tmp, fake, smtp, {"XA-ANPHU": "oa-anphu"}, extra)
            with Daemon(config=cfg, start_at=START) as d:
                workers_ready(d)
                inv = d.call("account.invite", name="nguyen.thi.lan")
                got = wait_for("the invitation", lambda: [r for _, r, c in smtp.messages
                                                          if b"ubnd.anphu" in c or "ubnd.anphu@cuchi.example.org" in r])
                eq(got[0], ["ubnd.anphu@cuchi.example.org"], "by mail")
                eq(fake.sent("/v3.0/oa/message/cs"), [], "nothing posted to Zalo")
                assert inv["sent_to"] == ["ubnd.anphu@cuchi.example.org"], inv
    finally:
        fake.close()
        smtp.close()


def test_the_invitation_s_text_is_a_template_an_office_may_replace():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.cfg")
        write(path, open(CONFIG, encoding="utf-8").read() + '''
templates = (
  { event = "account_invite"; channel = "mail"; subject = "Tài khoản {{account}} của {{unit_name}}";
    body = "Chào {{recipient_name}}, mở {{link}} trước {{expires_at}}.\\n"; }
);
''')
        with Daemon(config=path, start_at=START) as d:
            inv = d.call("account.invite", name="nguyen.thi.lan")
            d.call("clock.advance", by="1s")
            _, mail = invite_mail(d, inv["link"])
            eq(str(mail["Subject"]), "Tài khoản nguyen.thi.lan của Ủy ban nhân dân xã An Phú", "subject")
            eq(mail.get_content().replace("\r\n", "\n"),
               f"Chào Nguyễn Thị Lan, mở {inv['link']} trước 09:00 ngày 13/11/2024.\n", "body")
