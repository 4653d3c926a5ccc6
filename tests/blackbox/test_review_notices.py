"""Issue 5: a submission (with receipt_notice), a report returned for correction or accepted is told to the unit that sent it,
in the words of the templates (returned, accepted), with the reason, who decided and the
new due date; a waiver sends nothing. The spool stands in for a mail server: the shipped
configuration has no channel, so each message is an .eml file."""
import os
from datetime import datetime

from harness import Daemon, eq
from test_deadlines import (BC_NAM, BC_NAM_2024, FOOTER, GDDT, GDDT_TO, HOW, PLAN, TZ, at, config_emails, config_names, outbox, read_eml,
                            submit, text_of)


def review_as(d, who, action, unit, reason=None):
    fields = dict(unit=unit, report="BC-NAM", period="2024")
    if reason:
        fields["reason"] = reason
    r = d.call("report." + action, **fields, **{"as": who})
    assert r["ok"], r
    return r["obligation"]


def the_message(d, kind, recipient="XA-ANPHU"):
    """the one message of kind, spooled to recipient: its outbox row and the parsed .eml"""
    rows = outbox(d, "kind = ?1", kind)
    eq([(r["recipient"], r["state"]) for r in rows], [(recipient, "spooled")], f"one {kind} message")
    return rows[0], read_eml(rows[0]["path"])


def vn_day(iso):
    return datetime.fromisoformat(iso).astimezone(TZ).strftime("%d/%m/%Y")


def test_returned_and_accepted_reports_are_told_to_their_unit():
    names, emails = config_names(), config_emails()
    with Daemon(start_at="2024-11-12T10:00:00+07:00") as d:
        submit(d, "XA-ANPHU")
        submit(d, "XA-TANANHOI")
        o = review_as(d, "le.thi.hoa", "return", "XA-ANPHU", reason="Thiếu bảng tổng hợp tiêu chí")
        review_as(d, "le.thi.hoa", "waive", "XA-TANANHOI", reason="Đơn vị được miễn báo cáo năm 2024")
        at(d, "2024-11-12T10:05")
        rows = outbox(d, "kind IN ('returned', 'accepted')")
        eq([(r["kind"], r["recipient"], r["state"]) for r in rows], [("returned", "XA-ANPHU", "spooled")],
           "one message, to the unit whose report came back; none for the waiver")
        msg = read_eml(rows[0]["path"])
        eq(msg["Subject"], f"[Trả lại] {BC_NAM_2024} của {names['XA-ANPHU']}", "subject")
        eq(msg["To"].addresses[0].addr_spec, emails["XA-ANPHU"], "to the unit's address")
        eq(text_of(msg),
           f"Kính gửi: {names['XA-ANPHU']}\n\n" + PLAN +
           f"{BC_NAM_2024} của {names['XA-ANPHU']} đã được trả lại để hoàn thiện.\n"
           "Lý do: Thiếu bảng tổng hợp tiêu chí\n"
           f"Người trả lại: Lê Thị Hoa ({GDDT})\n"
           f"Hạn gửi lại: 23 giờ 59 ngày {vn_day(o['due_at'])}, đến {GDDT_TO}.\n" + HOW
           + FOOTER.format(key=rows[0]["dedup_key"]), "body, exactly")

        # sent again, corrected; accepted by the administrator
        at(d, "2024-11-14T09:00")
        submit(d, "XA-ANPHU")
        d.call("report.accept", unit="XA-ANPHU", report="BC-NAM", period="2024")
        at(d, "2024-11-14T09:05")
        row, msg = the_message(d, "accepted")
        eq(msg["Subject"], f"[Đã tiếp nhận] {BC_NAM_2024} của {names['XA-ANPHU']}", "subject")
        eq(text_of(msg),
           f"Kính gửi: {names['XA-ANPHU']}\n\n"
           f"{BC_NAM_2024} của {names['XA-ANPHU']} đã được tiếp nhận.\n"
           f"Người tiếp nhận: quản trị hệ thống\n"
           + FOOTER.format(key=row["dedup_key"]), "body, exactly")
        for r in outbox(d, "kind IN ('returned', 'accepted')"):
            eq(os.path.dirname(r["path"]), os.path.join(d.dir, "spool"), f"{r['kind']} is in the spool")


def test_review_messages_follow_configured_templates():
    """A template for 'returned' in the configuration replaces the built-in text."""
    import tempfile
    from test_deadlines import config_copy
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp, lambda text: text + '''
templates = (
  { event = "returned"; channel = "mail"; subject = "Hồ sơ {{report_code}} bị trả lại";
    body = "{{unit_name}}: {{reason}} ({{actor}}), hạn {{due_date}}"; }
);
''')
        with Daemon(config=cfg, start_at="2024-11-12T10:00:00+07:00") as d:
            submit(d, "XA-ANPHU")
            o = review_as(d, "tran.van.binh", "return", "XA-ANPHU", reason="Sai mẫu")
            at(d, "2024-11-12T10:05")
            _, msg = the_message(d, "returned")
            eq(msg["Subject"], "Hồ sơ BC-NAM bị trả lại", "configured subject")
            eq(text_of(msg).rstrip("\n"),
               f"{config_names()['XA-ANPHU']}: Sai mẫu (Trần Văn Bình ({GDDT})), hạn {vn_day(o['due_at'])}",
               "configured body")


def test_a_report_type_with_receipt_notice_confirms_each_submission_to_its_unit():
    """receipt_notice = true: each submission is confirmed to the unit that sent it, with its
    receipt number; without it (the shipped configuration) nothing is sent."""
    import tempfile
    from test_deadlines import config_copy
    names = config_names()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp, lambda text: text.replace(
            '{ code = "BC-NAM"; name = "Báo cáo kết quả thực hiện phong trào thi đua năm";',
            '{ code = "BC-NAM"; name = "Báo cáo kết quả thực hiện phong trào thi đua năm"; receipt_notice = true;', 1))
        with Daemon(config=cfg, start_at="2024-11-12T10:00:00+07:00") as d:
            r = d.call("report.submit", files=(("bao-cao.pdf", b"%PDF-1.4 2024"),), unit="XA-ANPHU",
                       report="BC-NAM", period="2024", **{"as": "nguyen.thi.lan"})
            assert r["ok"], r
            number = r["receipt"]["number"]
            at(d, "2024-11-12T10:05")
            row, msg = the_message(d, "receipt")
            eq(msg["Subject"], f"[Đã nhận] {BC_NAM_2024} của {names['XA-ANPHU']}: biên nhận {number}", "subject")
            eq(text_of(msg),
               f"Kính gửi: {names['XA-ANPHU']}\n\n"
               f"{GDDT} đã nhận {BC_NAM_2024} của {names['XA-ANPHU']}.\n"
               f"Số biên nhận: {number}\n"
               f"Người gửi: Nguyễn Thị Lan ({names['XA-ANPHU']})\n"
               + FOOTER.format(key=row["dedup_key"]), "body, exactly")
    with Daemon(start_at="2024-11-12T10:00:00+07:00") as d:
        submit(d, "XA-ANPHU")
        at(d, "2024-11-12T10:05")
        eq(outbox(d, "kind = 'receipt'"), [], "the shipped configuration sends no confirmation")
