"""Message templates: the configuration's texts reach the spool, the SMTP server and the chat
webhook, per channel kind, with the built-in Vietnamese texts wherever the configuration
says nothing; a mistake in a template is a configuration error at its FILE:LINE, found by
`thiduad -n` and by a reload, never at send time.

The dates are those of tests/blackbox/test_deadlines.py (BC-NAM 2024 due Friday 15 November
2024): the 10wd reminders leave on Friday 1 November, the 1wd overdue notices on Monday
18 November, the 3wd escalations (to CUCHI and CUCHI-GDDT) on Wednesday 20 November. Nobody submits
here, so all 33 units that owe BC-NAM are late."""
import email
import email.policy
import json
import os
import signal
import subprocess
import tempfile

from harness import BIN, CONFIG, Daemon, eq, write
from test_delivery import Receiver, Smtp, config_with_channels, notifications, wait_for, workers_ready
from test_deadlines import BC_NAM_2024, GDDT_TO, HOW, PLAN

BC_NAM = "Báo cáo kết quả thực hiện phong trào thi đua năm"
GDDT = "Phòng Giáo dục và Đào tạo huyện Củ Chi"
# the message's code is in the X-Thidua-Dedup-Key header, not in the text (issue 15)
FOOTER = "\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\n"

# a reminder for mail: the subject in the configuration, the body in a file next to it
REMINDER_FILE = """Kính gửi {{recipient_name}},

Hệ thống thidua nhắc: {{report_name}} ({{report_code}}) kỳ {{period}}
phải gửi {{receiver_name}} trước 23 giờ 59 ngày {{due_date}}, còn {{days_left}} ngày.
Đơn vị: {{unit_name}} ({{unit_code}}).{{late_note}}
Mã: {{dedup_key}}
"""
TEMPLATES = r'''
templates = (
  { event = "reminder"; channel = "mail";
    subject = "Nhắc hạn nộp {{report_code}} - {{unit_name}} - còn {{days_left}} ngày";
    body_file = "nhac-han.txt"; },
  { event = "reminder"; channel = "chat";
    subject = "Nhắc {{unit_code}}";
    body = "🔔 {{unit_name}}: {{report_name}} kỳ {{period}}, hạn {{due_date}}\n"; },
  { event = "digest";
    subject = "Tổng hợp: {{unit_count}} đơn vị chưa nộp {{report_code}}";
    body = "Kính gửi: {{recipient_name}}\n"
           "{{#units}}{{unit_code}}|{{days_overdue}}|{{due_date}}\n{{/units}}"
           "Hết.\n"; },
  { event = "test"; subject = "Thử kênh {{channel}} ({{channel_kind}})"; }
);
'''


def with_templates(tmp, text):
    write(os.path.join(tmp, "nhac-han.txt"), REMINDER_FILE)
    return text + TEMPLATES


def config_copy(tmp, edit):
    with open(CONFIG, encoding="utf-8") as fp:
        text = edit(fp.read())
    path = os.path.join(tmp, "thidua.cfg")
    write(path, text)
    return path


def at(d, when):
    d.ctl("clock", "set", when + "+07:00")


def outbox(d, where, *args):
    con = d.db()
    con.row_factory = __import__("sqlite3").Row
    try:
        return [dict(r) for r in con.execute(f"SELECT * FROM outbox WHERE {where} ORDER BY id", args)]
    finally:
        con.close()


def read_eml(path):
    with open(path, "rb") as fp:
        return email.message_from_bytes(fp.read(), policy=email.policy.default)


def text_of(msg):
    return msg.get_content().replace("\r\n", "\n")


def test_custom_mail_template_in_the_spool_and_built_in_texts_elsewhere():
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp, lambda text: with_templates(tmp, text))
        with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
            at(d, "2024-11-01T08:00:00")
            (r,) = outbox(d, "report = 'BC-NAM' AND recipient = 'XA-TRUNGAN'")
            eq(r["state"], "spooled", "spooled")
            assert r["path"].endswith(".eml"), r["path"]
            m = read_eml(r["path"])
            eq(str(m["Subject"]), "Nhắc hạn nộp BC-NAM - Ủy ban nhân dân xã Trung An - còn 14 ngày", "custom subject")
            eq(text_of(m), "Kính gửi Ủy ban nhân dân xã Trung An,\n\n"
               f"Hệ thống thidua nhắc: {BC_NAM} (BC-NAM) kỳ 2024\n"
               f"phải gửi {GDDT} trước 23 giờ 59 ngày 15/11/2024, còn 14 ngày.\n"
               "Đơn vị: Ủy ban nhân dân xã Trung An (XA-TRUNGAN).\n"
               f"Mã: {r['dedup_key']}\n", "custom body from body_file")
            eq(m.get_content_charset(), "utf-8", "charset")

            # no overdue template: the built-in text, byte for byte
            at(d, "2024-11-18T08:00:00")
            (r,) = outbox(d, "report = 'BC-NAM' AND recipient = 'XA-TRUNGAN' AND kind = 'overdue'")
            m = read_eml(r["path"])
            eq(str(m["Subject"]), f"[Quá hạn] {BC_NAM_2024} - hạn 15/11/2024", "built-in overdue subject")
            eq(text_of(m), "Kính gửi: Ủy ban nhân dân xã Trung An\n\n" + PLAN +
               f"Đơn vị chưa gửi {BC_NAM_2024} đến {GDDT}.\n"
               "Hạn nộp: 23 giờ 59 ngày 15/11/2024. Đơn vị đã quá hạn 3 ngày.\n\n"
               f"Đề nghị đơn vị gửi báo cáo ngay đến {GDDT_TO}.\n" + HOW +
               "Hạn cuối nhận báo cáo nộp muộn: 23 giờ 59 ngày 15/12/2024; sau thời điểm này hệ thống không"
               " tiếp nhận báo cáo và không gửi thêm thông báo.\n" + FOOTER.format(key=r["dedup_key"]),
               "built-in overdue body, with the final cut-off (late_until_days = 30)")

            # an escalation listing several units: the digest template, one line per unit
            at(d, "2024-11-20T08:00:00")
            (r,) = outbox(d, "report = 'BC-NAM' AND recipient = 'CUCHI-GDDT' AND step = 'e3wd'")
            m = read_eml(r["path"])
            eq(str(m["Subject"]), "Tổng hợp: 33 đơn vị chưa nộp BC-NAM", "digest subject")
            lines = text_of(m).split("\n")
            eq(lines[0], f"Kính gửi: {GDDT}", "digest greeting")
            eq(lines[-2:], ["Hết.", ""], "digest end")
            units = [line.split("|") for line in lines[1:-2]]
            eq(len(units), 33, "one line per late unit (nobody submitted)")
            assert ["XA-TRUNGAN", "5", "15/11/2024"] in units, units
            eq(sorted(u[0] for u in units), [u[0] for u in units], "in the order of the units")


def test_mail_and_chat_templates_reach_the_smtp_server_and_the_webhook():
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config_with_channels(tmp, http, smtp, {"XA-TRUNGAN": "json-ok"})
            with open(cfg, encoding="utf-8") as fp:
                text = fp.read()
            write(cfg, with_templates(tmp, text))
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                workers_ready(d)
                at(d, "2024-11-01T08:00:00")
                wait_for("the post", lambda: http.count("/ok") >= 1)
                wait_for("the mail", lambda: any(any("trungan" in x for x in r) for _, r, _ in smtp.messages))
                wait_for("all sent", lambda: all(n["state"] == "sent" for n in notifications(d, report="BC-NAM")))
                raw = next(c for _, r, c in smtp.messages if any("trungan" in x for x in r))
                m = email.message_from_bytes(raw, policy=email.policy.default)
                eq(m["Subject"], "Nhắc hạn nộp BC-NAM - Ủy ban nhân dân xã Trung An - còn 14 ngày", "mail subject")
                body = m.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
                assert body.startswith("Kính gửi Ủy ban nhân dân xã Trung An,\n\nHệ thống thidua nhắc: "), body
                assert f"phải gửi {GDDT} trước 23 giờ 59 ngày 15/11/2024, còn 14 ngày.\n" in body, body
                # the same message to the chat channel: the chat template
                payload = json.loads(next(p for p in http.posts if p[0] == "/ok")[2])
                eq(payload["title"], "Nhắc XA-TRUNGAN", "chat title")
                eq(payload["text"], f"🔔 Ủy ban nhân dân xã Trung An: {BC_NAM} kỳ 2024, hạn 15/11/2024\n", "chat text")
                # notify test: the test template's subject, the built-in body
                rc, out = d.ctl_raw("--timeout", "20", "notify", "test", "--channel", "thu", "--to", "vanthu@cuchi.example.org")
                eq(rc, 0, out)
                m = email.message_from_bytes(smtp.messages[-1][2], policy=email.policy.default)
                eq(m["Subject"], "Thử kênh thu (smtp)", "test subject")
                body = m.get_body(preferencelist=("plain",)).get_content()
                assert "Đây là thư thử nghiệm của hệ thống thidua qua kênh thu (smtp)." in body, body
    finally:
        http.close()
        smtp.close()


def check(path):
    p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", path], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def test_template_mistakes_are_configuration_errors_with_their_line():
    with tempfile.TemporaryDirectory() as tmp:
        good = config_copy(tmp, lambda text: with_templates(tmp, text))
        rc, out, err = check(good)
        eq(rc, 0, err)
        assert "configuration OK" in out, out

        # {{nope}} on the second piece of a body: that line
        text = open(good, encoding="utf-8").read()
        bad_body = text.replace('"{{#units}}{{unit_code}}|', '"{{#units}}{{nope}}|', 1)
        line = bad_body[:bad_body.index("{{nope}}")].count("\n") + 1
        bad = os.path.join(tmp, "bad.cfg")
        write(bad, bad_body)
        rc, out, err = check(bad)
        eq(rc, 1, "exit")
        assert err.startswith(f"{bad}:{line}: unknown variable 'nope' in the body of template digest;"), err
        assert "unit_name" in err and "days_overdue" in err, err

        # an unclosed section in the body file: the file's own name and line
        write(os.path.join(tmp, "nhac-han.txt"), REMINDER_FILE + "{{#units}}\n- {{unit_name}}\n")
        rc, out, err = check(good)
        eq(rc, 1, "exit")
        body_file = os.path.join(tmp, "nhac-han.txt")
        want = REMINDER_FILE.count("\n") + 1
        assert err.startswith(f"{body_file}:{want}: unclosed section 'units' in the body of template reminder/mail"), err

        # a reload with a mistake keeps the running texts; fixed, the new texts take effect
        write(os.path.join(tmp, "nhac-han.txt"), REMINDER_FILE)
        with Daemon(config=good, start_at="2024-10-31T12:00:00+07:00") as d:
            write(good, text.replace("Nhắc hạn nộp {{report_code}}", "Nhắc {{report_cod}}", 1))
            mark = len(d.read_log())
            d.signal(signal.SIGHUP)
            d.wait_log("the running configuration stays", after=mark)
            assert "unknown variable 'report_cod' in the subject of template reminder/mail" in d.read_log()[mark:]
            at(d, "2024-11-01T08:00:00")
            (r,) = outbox(d, "report = 'BC-NAM' AND recipient = 'XA-TRUNGAN'")
            eq(str(read_eml(r["path"])["Subject"]), "Nhắc hạn nộp BC-NAM - Ủy ban nhân dân xã Trung An - còn 14 ngày",
               "the running template")
