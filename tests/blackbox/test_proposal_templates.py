"""Templates for the messages about proposals (events proposal_pending ... proposal_withdrawn):
a configured text reaches the spool, the SMTP server and the chat webhook per channel kind,
with its {{#proposals}} list and the count of those not listed; the steps the configuration
leaves alone keep the built-in text byte for byte; a proposal variable outside its list is
a configuration error at its FILE:LINE.

On Monday 3 March 2025, Phú Hòa Đông imports 53 households for Gia đình học tập (one
message to the commune lists 50 and counts 3 more), and An Phú proposes two hamlets for a
Giấy khen (tập thể) to the district council (10 working days: due 17/03/2025), withdrawing
the second."""
import email
import email.policy
import json
import os
import subprocess
import tempfile

from harness import BIN, CONFIG, Daemon, eq, write
from test_delivery import Receiver, Smtp, config_with_channels, wait_for, workers_ready
from test_proposals import households_csv
from test_deadlines import PLAN

PHD = "Ủy ban nhân dân xã Phú Hòa Đông"
ANPHU = "Ủy ban nhân dân xã An Phú"
COUNCIL = "Hội đồng Thi đua – Khen thưởng huyện Củ Chi"
# the message's code is in the X-Thidua-Dedup-Key header, not in the text (issue 15)
FOOTER = "\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\n"

TEMPLATES = r'''
templates = (
  { event = "proposal_pending"; channel = "mail";
    subject = "Chờ xét duyệt: {{proposal_count}} hồ sơ {{programme_code}} năm {{year}}";
    body = "Kính gửi {{recipient_name}},\n\n"
           "Đơn vị có {{proposal_count}} hồ sơ \"{{programme_name}}\" chờ xét duyệt ở bước {{stage}}, hạn {{due_date}}:\n"
           "{{#proposals}}• Số {{proposal_id}}: {{nominee_name}} ({{nominee_code}}),{{#level}} cấp {{level}},{{/level}}"
           " đề nghị: {{proposer_name}} [{{proposer_code}}]\n{{/proposals}}"
           "{{#more_count}}• Còn {{more_count}} hồ sơ khác.\n{{/more_count}}"
           "Mã: {{dedup_key}}\n"; },
  { event = "proposal_pending"; channel = "chat";
    subject = "🗂 {{programme_name}}: {{proposal_count}} hồ sơ";
    body = "{{#proposals}}{{proposal_id}}. {{nominee_name}}\n{{/proposals}}{{^more_count}}Hết.{{/more_count}}"; }
);
'''


def config_copy(tmp, text=None):
    if text is None:
        text = open(CONFIG, encoding="utf-8").read()
    path = os.path.join(tmp, "thidua.cfg")
    write(path, text + TEMPLATES)
    return path


def proposal_outbox(d):
    con = d.db()
    try:
        return [dict(zip(("id", "recipient", "step", "key", "path"), r)) for r in
                con.execute("SELECT id, recipient, step, dedup_key, path FROM outbox WHERE kind = 'proposal' ORDER BY id")]
    finally:
        con.close()


def read_eml(path):
    with open(path, "rb") as fp:
        m = email.message_from_bytes(fp.read(), policy=email.policy.default)
    return str(m["Subject"]), m.get_content().replace("\r\n", "\n")


def propose(d):
    """the day's proposals: 53 households imported, two hamlets proposed, one withdrawn"""
    path = os.path.join(d.dir, "gdht-2025.csv")
    with open(path, "wb") as fp:
        fp.write(households_csv(53))
    r = d.ctl("--as", "huynh.van.nam", "proposals", "import", "--programme", "GDHT", "--year", "2025",
              "--unit", "XA-PHUHOADONG", path)
    eq(r["imported"], 53, "imported")
    ids = []
    for name in ("Ấp Xóm Chùa", "Ấp Bàu Tre"):
        r = d.call("proposal.create", programme="GK-TT", year=2025, unit="XA-ANPHU", nominee_name=name, submit=True)
        assert r["ok"], r
        eq(r["proposal"]["due_at"], "2025-03-17T23:59:59+07:00", "10 working days")
        ids.append(r["proposal"]["id"])
    r = d.call("proposal.withdraw", proposal=ids[1], reason="Lập nhầm", **{"as": "nguyen.thi.lan"})
    assert r["ok"], r
    eq(ids, [54, 55], "the hamlets' proposals follow the households'")


def test_a_proposal_pending_template_for_mail_in_the_spool():
    with tempfile.TemporaryDirectory() as tmp:
        with Daemon(config=config_copy(tmp), start_at="2025-03-03T09:00:00+07:00") as d:
            propose(d)
            d.ctl("clock", "advance", "1h")
            msgs = proposal_outbox(d)
            eq([(m["recipient"], m["step"]) for m in msgs],
               [("XA-PHUHOADONG", "pending"), ("CUCHI-HDTDKT", "pending"), ("CUCHI-HDTDKT", "pending"),
                ("CUCHI-HDTDKT", "withdrawn")], "the messages")
            assert all(m["path"] and m["path"].endswith(".eml") for m in msgs), msgs

            # the households: 50 listed, 3 counted
            subject, body = read_eml(msgs[0]["path"])
            eq(subject, "Chờ xét duyệt: 53 hồ sơ GDHT năm 2025", "the digest's subject")
            eq(body, f"Kính gửi {PHD},\n\n"
               "Đơn vị có 53 hồ sơ \"Gia đình học tập\" chờ xét duyệt ở bước 1, hạn 24/03/2025:\n"
               + "".join(f"• Số {k}: Hộ ông Nguyễn Văn {k} (HGD-{k:05d}), cấp 1, đề nghị: {PHD} [XA-PHUHOADONG]\n"
                         for k in range(1, 51))
               + "• Còn 3 hồ sơ khác.\n"
               f"Mã: {msgs[0]['key']}\n", "the digest's body")

            # one hamlet: nothing more to count
            subject, body = read_eml(msgs[1]["path"])
            eq(subject, "Chờ xét duyệt: 1 hồ sơ GK-TT năm 2025", "subject")
            eq(body, f"Kính gửi {COUNCIL},\n\n"
               "Đơn vị có 1 hồ sơ \"Giấy khen (tập thể)\" chờ xét duyệt ở bước 1, hạn 17/03/2025:\n"
               f"• Số 54: Ấp Xóm Chùa ({ANPHU}), đề nghị: {ANPHU} [XA-ANPHU]\n"   # an award: no level
               f"Mã: {msgs[1]['key']}\n", "body")

            # no withdrawn template: the built-in text, byte for byte
            subject, body = read_eml(msgs[3]["path"])
            eq(subject, "[Rút hồ sơ] Giấy khen (tập thể) năm 2025: 1 hồ sơ", "built-in subject")
            eq(body, f"Kính gửi: {COUNCIL}\n\n" + PLAN +
               "Đơn vị đề nghị đã rút 1 hồ sơ đề nghị công nhận \"Giấy khen (tập thể)\" năm 2025.\n\n"
               f"  - Hồ sơ số 55: Ấp Bàu Tre ({ANPHU}), đơn vị đề nghị: {ANPHU}\n"
               + FOOTER.format(key=msgs[3]["key"]), "built-in body")


def test_proposal_templates_per_channel_kind_reach_the_smtp_server_and_the_webhook():
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config_with_channels(tmp, http, smtp, {"CUCHI-HDTDKT": "json-ok"})
            config_copy(tmp, open(cfg, encoding="utf-8").read())
            with Daemon(config=cfg, start_at="2025-03-03T09:00:00+07:00") as d:
                workers_ready(d)
                propose(d)
                wait_for("the posts", lambda: http.count("/ok") >= 3)
                wait_for("the mails", lambda: sum("hdtdkt@cuchi.example.org" in r for _, r, _ in smtp.messages) >= 3)
                posts = sorted((json.loads(p[2]) for p in http.posts if p[0] == "/ok"), key=lambda p: p["id"])
                eq([(p["title"], p["text"]) for p in posts],
                   [("🗂 Giấy khen (tập thể): 1 hồ sơ", "54. Ấp Xóm Chùa\nHết."),
                    ("🗂 Giấy khen (tập thể): 1 hồ sơ", "55. Ấp Bàu Tre\nHết."),
                    ("[Rút hồ sơ] Giấy khen (tập thể) năm 2025: 1 hồ sơ",
                     f"Kính gửi: {COUNCIL}\n\n" + PLAN +
                     "Đơn vị đề nghị đã rút 1 hồ sơ đề nghị công nhận \"Giấy khen (tập thể)\" năm 2025.\n\n"
                     f"  - Hồ sơ số 55: Ấp Bàu Tre ({ANPHU}), đơn vị đề nghị: {ANPHU}\n"
                     + FOOTER.format(key=posts[2]["id"]))], "the chat template, and the built-in text")
                mails = [email.message_from_bytes(c, policy=email.policy.default) for _, r, c in smtp.messages
                         if "hdtdkt@cuchi.example.org" in r]
                subjects = sorted(str(m["Subject"]) for m in mails)
                eq(subjects, ["Chờ xét duyệt: 1 hồ sơ GK-TT năm 2025", "Chờ xét duyệt: 1 hồ sơ GK-TT năm 2025",
                              "[Rút hồ sơ] Giấy khen (tập thể) năm 2025: 1 hồ sơ"], "the mail template to the same unit")
    finally:
        http.close()
        smtp.close()


def test_a_proposal_variable_outside_its_list_is_refused_with_its_line():
    with tempfile.TemporaryDirectory() as tmp:
        good = config_copy(tmp)
        text = open(good, encoding="utf-8").read()
        bad_text = text.replace('"Mã: {{dedup_key}}\\n"; },', '"Hồ sơ đầu: {{nominee_name}}\\n"; },', 1)
        assert bad_text != text
        line = bad_text[:bad_text.index("{{nominee_name}}\\n\"; },")].count("\n") + 1
        bad = os.path.join(tmp, "bad.cfg")
        write(bad, bad_text)
        want = (f"{bad}:{line}: variable 'nominee_name' outside {{{{#proposals}}}} in the body of template"
                " proposal_pending/mail; write it between {{#proposals}} and {{/proposals}}, where each proposal's"
                " variables are proposal_id, nominee_code, nominee_name, level, proposer_name, proposer_code,"
                " proposal_reason\n")
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", bad], capture_output=True, text=True)
        eq((p.returncode, p.stderr.splitlines(True)[0] if p.stderr else ""), (1, want), "thiduad -n")
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", good], capture_output=True, text=True)
        eq(p.returncode, 0, p.stderr)
        # the daemon does not start on it
        state = os.path.join(tmp, "state")
        os.mkdir(state)
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-c", bad, "--state-dir", state, "--fake-clock"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and want.strip() in p.stderr, (p.returncode, p.stderr)
