"""Issue 4: the deadline engine. Reminders before a due date, escalation up the hierarchy
after it, in working hours, exactly once; everything driven by the fake clock (no sleeping).

The dates below are worked out by hand from config/thidua.cfg (BC-NAM 2024 is due Friday
15 November 2024; November 2024 has no public holiday):
  reminders   10wd -> Fri 01/11   3wd -> Tue 12/11   1d -> Thu 14/11
  escalation  1wd  -> Mon 18/11 (self)   3wd -> Wed 20/11 (parent CUCHI + receiver CUCHI-GDDT)
              7wd  -> Tue 26/11 (level:district = CUCHI)
              15wd -> Fri 06/12 (unit:HCM-SGDDT), repeated every 7 days: 13/12; 20/12 and 27/12
                      are past the lock (late_until_days = 30: 15/12), so they never fire
each at the start of working hours, 07:30 +07:00.
"""
import email
import email.policy
import email.utils
import hashlib
import json
import os
import re
import sqlite3
import tempfile
from datetime import datetime, timedelta, timezone

from harness import CONFIG, Daemon, eq

TZ = timezone(timedelta(hours=7))
DOC = "Báo cáo kết quả năm 2024".encode()
BC_NAM = "Báo cáo kết quả thực hiện phong trào thi đua năm"
GDDT = "Phòng Giáo dục và Đào tạo huyện Củ Chi"
# the footer: the message's code is in the X-Thidua-Dedup-Key header, no longer in the text
# (issue 15, "the footer code moves to a header"); {key} is kept for the callers' format()
FOOTER = "\n--\nthidua - Phong trào thi đua xây dựng xã hội học tập\n"
BC_NAM_2024 = BC_NAM + " 2024"          # not "... năm kỳ 2024" (issue 15)
PLAN = ("Thực hiện Kế hoạch số 1792/KH-UBND ngày 06/3/2024 của Ủy ban nhân dân huyện Củ Chi về tổ chức"
        " thực hiện Phong trào thi đua \"Cả nước xây dựng xã hội học tập, đẩy mạnh học tập suốt đời giai đoạn"
        " 2023 - 2030\" trên địa bàn huyện Củ Chi.\n\n")
GDDT_TO = GDDT + " (thư điện tử: gddt@cuchi.example.org)"
HOW = ("Cách gửi: văn bản báo cáo có chữ ký, đóng dấu (bản scan hoặc bản ký số) gửi qua thư điện tử đến địa chỉ"
       " của đơn vị nhận nêu trên; đơn vị nhận tiếp nhận và cấp số biên nhận.\n")
CUTOFF = ("Hạn cuối nhận báo cáo nộp muộn: 23 giờ 59 ngày {day}; sau thời điểm này hệ thống không tiếp nhận"
          " báo cáo và không gửi thêm thông báo.\n")
LATE_NOTE = "\n(Thông báo gửi muộn: hệ thống tạm ngừng vào thời điểm nhắc.)\n"


# ------------------------------------------------------------------ helpers

def T(s):
    """Local time (+07:00) 'YYYY-MM-DDTHH:MM[:SS]' -> UTC seconds."""
    if len(s) == 16:
        s += ":00"
    return int(datetime.fromisoformat(s).replace(tzinfo=TZ).timestamp())


def local(t):
    return datetime.fromtimestamp(t, TZ).strftime("%Y-%m-%dT%H:%M:%S")


def at(d, when):
    """Move the fake clock to a local time, running what falls due on the way."""
    d.ctl("clock", "set", datetime.fromtimestamp(T(when), TZ).isoformat())


def submit(d, unit, report="BC-NAM", period="2024"):
    r = d.call("report.submit", files=(("bao-cao.pdf", DOC),), unit=unit, report=report, period=period)
    assert r["ok"], r
    return r["receipt"]


def review(d, action, unit, reason=None, report="BC-NAM", period="2024"):
    fields = dict(unit=unit, report=report, period=period)
    if reason:
        fields["reason"] = reason
    r = d.call("report." + action, **fields)
    assert r["ok"], r
    return r["obligation"]


def query(d, sql, *args):
    con = d.db()
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


def outbox(d, where="1", *args):
    return query(d, f"SELECT * FROM outbox WHERE {where} ORDER BY moment, recipient, id", *args)


def ladder_of(d, unit, report="BC-NAM", period="2024"):
    """Everything sent to or about one unit's obligation: (cycle, step, recipient, kind, moment)."""
    return [(r["cycle"], r["step"], r["recipient"], r["kind"], local(r["moment"])) for r in query(d,
            "SELECT n.cycle, n.step, n.recipient, o.kind, o.moment FROM notices n"
            " JOIN outbox o ON o.id = n.outbox JOIN obligations b ON b.id = n.obligation"
            " WHERE b.unit = ?1 AND b.report = ?2 AND b.period = ?3 ORDER BY o.moment, n.recipient",
            unit, report, period)]


def spool_files(d):
    sp = os.path.join(d.dir, "spool")
    return sorted(f for f in os.listdir(sp) if not f.endswith(".tmp")) if os.path.isdir(sp) else []


def read_eml(path):
    with open(path, "rb") as fp:
        return email.message_from_bytes(fp.read(), policy=email.policy.default)


def text_of(msg):
    return msg.get_content().replace("\r\n", "\n")


def config_emails(path=CONFIG):
    """unit code -> its (first) email, read from the configuration file."""
    with open(path, encoding="utf-8") as fp:
        text = fp.read()
    return dict(re.findall(r'code = "([^"]+)";\s*name = "[^"]*";\s*level = [^}]*?emails = \[ "([^"]+)"', text))


def config_names(path=CONFIG):
    with open(path, encoding="utf-8") as fp:
        text = fp.read()
    return dict(re.findall(r'code = "([^"]+)";\s*name = "([^"]*)";\s*level = ', text))


def set_stored_clock(d, when):
    """The daemon is stopped: time passes while it is down. In fake-clock mode the only way
    to let time pass without running what falls due on the way is to move the stored fake
    time (meta 'fake_clock', which a restarted daemon resumes from)."""
    con = d.db()
    con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('fake_clock', ?1)", (str(T(when)),))
    con.commit()
    con.close()


def config_copy(tmp, edit=lambda text: text, name="thidua.cfg"):
    with open(CONFIG, encoding="utf-8") as fp:
        text = edit(fp.read())
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as fp:
        fp.write(text)
    return path


def set_bc_nam_reminders(text, reminders):
    """Replace the reminders of BC-NAM only (KH-NAM and SK-DONVI have the same line)."""
    start = text.index('{ code = "BC-NAM";')
    old = 'reminders = [ "10wd", "3wd", "1d" ];'
    i = text.index(old, start)
    new = "reminders = [ " + ", ".join(f'"{r}"' for r in reminders) + " ];"
    return text[:i] + new + text[i + len(old):]


def check_spooled(d, rows, emails):
    """Every row is spooled to an .eml in the spool directory, addressed to the recipient's
    email, carrying its dedup key, with a Message-ID derived from nothing but that key."""
    ids = {}
    for r in rows:
        eq(r["state"], "spooled", r["dedup_key"])
        path = r["path"]
        eq(os.path.dirname(path), os.path.join(d.dir, "spool"), "spool dir")
        assert path.endswith(".eml") and os.path.exists(path), path
        m = read_eml(path)
        eq(m["X-Thidua-Dedup-Key"], r["dedup_key"], "dedup header")
        eq(m["To"], emails[r["recipient"]], "To of " + r["dedup_key"])
        mid = m["Message-ID"]
        # the key's hash at the sender's domain (its From is thidua@localhost), as the mail
        # worker writes it (issue 13 item 22)
        eq(mid, "<%s@localhost>" % hashlib.sha256(r["dedup_key"].encode()).hexdigest()[:32], "Message-ID")
        eq(email.utils.parsedate_to_datetime(m["Date"]).utcoffset(), timedelta(hours=7),
           "Date in the movement's time zone (calendar.utc_offset)")
        # the file is named after the Message-ID: writing it again replaces it
        eq(os.path.basename(path), mid[1:33] + ".eml", "file name")
        ids[r["dedup_key"]] = mid
    eq(len(set(ids.values())), len(ids), "one Message-ID per message")
    return ids


def check_notices_delivered(d, names):
    """Every notice reached its recipient: the spooled file of the message it is attached to
    names the unit it is about (a reminder or an overdue notice is addressed to the unit
    itself, "Kính gửi: NAME"; a digest lists each unit)."""
    rows = query(d, "SELECT o.dedup_key, o.state, o.path, b.unit, n.step, n.recipient FROM notices n"
                 " JOIN outbox o ON o.id = n.outbox JOIN obligations b ON b.id = n.obligation")
    texts = {}
    for r in rows:
        eq(r["state"], "spooled", r["dedup_key"])
        if r["path"] not in texts:
            if r["path"].endswith(".eml"):
                texts[r["path"]] = text_of(read_eml(r["path"]))
            else:
                with open(r["path"], encoding="utf-8") as fp:
                    texts[r["path"]] = fp.read()
        assert names[r["unit"]] in texts[r["path"]], (
            f"the {r['step']} notice to {r['recipient']} about {r['unit']} is attached to message"
            f" {r['dedup_key']}, whose spooled file never mentions {names[r['unit']]}:\n{texts[r['path']]}")
    return len(rows)


# ------------------------------------------------------------------ 1. a whole cycle

def test_deadlines_whole_2024_cycle_of_the_annual_report():
    emails = config_emails()
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-10-28T09:00")
        submitted = {"XA-BINHMY": submit(d, "XA-BINHMY")}       # before any reminder
        # the first reminder leaves at 07:30 on Friday 1 November, not a second earlier
        at(d, "2024-11-01T07:29:59")
        eq(outbox(d, "report = 'BC-NAM'"), [], "nothing before the 10wd moment")
        eq(spool_files(d), [], "no spool file yet")
        at(d, "2024-11-01T07:30")
        first = outbox(d, "report = 'BC-NAM'")
        eq(len(first), 32, "10wd reminders: 33 units owe BC-NAM 2024, XA-BINHMY has submitted")
        eq({r["recipient"] for r in first} & {"XA-BINHMY"}, set(), "no reminder for a submitted report")
        eq({(r["kind"], r["step"], r["state"], local(r["sent_at"])) for r in first},
           {("reminder", "r10wd", "spooled", "2024-11-01T07:30:00")}, "spooled at once, in working hours")
        at(d, "2024-11-05T09:00")
        submitted["XA-ANPHU"] = submit(d, "XA-ANPHU")
        at(d, "2024-11-13T10:00")
        submitted["CUCHI-HKH"] = submit(d, "CUCHI-HKH")
        at(d, "2025-01-10T12:00")

        # units that submitted early get nothing after submitting
        for unit, rc in submitted.items():
            t = T(rc["received_at"][:19])
            eq(outbox(d, "report = 'BC-NAM' AND recipient = ?1 AND moment >= ?2", unit, t), [], unit)
        eq(ladder_of(d, "XA-BINHMY"), [], "XA-BINHMY")
        eq(ladder_of(d, "XA-ANPHU"), [(0, "r10wd", "XA-ANPHU", "reminder", "2024-11-01T07:30:00")], "XA-ANPHU")
        eq(ladder_of(d, "CUCHI-HKH"), [(0, "r10wd", "CUCHI-HKH", "reminder", "2024-11-01T07:30:00"),
                                       (0, "r3wd", "CUCHI-HKH", "reminder", "2024-11-12T07:30:00")], "CUCHI-HKH")

        # a unit that never submits: each reminder, then each escalation step, in order
        want = [
            (0, "r10wd", "XA-TRUNGAN", "reminder", "2024-11-01T07:30:00"),
            (0, "r3wd", "XA-TRUNGAN", "reminder", "2024-11-12T07:30:00"),
            (0, "r1d", "XA-TRUNGAN", "reminder", "2024-11-14T07:30:00"),
            (0, "e1wd", "XA-TRUNGAN", "overdue", "2024-11-18T07:30:00"),
            (0, "e3wd", "CUCHI", "escalation", "2024-11-20T07:30:00"),
            (0, "e3wd", "CUCHI-GDDT", "escalation", "2024-11-20T07:30:00"),
            (0, "e7wd", "CUCHI", "escalation", "2024-11-26T07:30:00"),
            (0, "e15wd", "HCM-SGDDT", "escalation", "2024-12-06T07:30:00"),
            (0, "e15wd+1", "HCM-SGDDT", "escalation", "2024-12-13T07:30:00"),
        ]   # 20/12 and 27/12 are past the lock of 15/12: nobody is asked to chase what cannot be sent
        eq(ladder_of(d, "XA-TRUNGAN"), want, "XA-TRUNGAN's ladder")
        # an attached district body climbs to the district government (not to itself)
        eq([(s, r) for _, s, r, _, _ in ladder_of(d, "CUCHI-DOAN")],
           [(s, r.replace("XA-TRUNGAN", "CUCHI-DOAN")) for _, s, r, _, _ in want], "CUCHI-DOAN's ladder")

        mine = outbox(d, "report = 'BC-NAM' AND recipient = 'XA-TRUNGAN'")
        eq([(r["step"], r["kind"], local(r["moment"]), local(r["send_after"]), local(r["sent_at"]), r["late"], r["state"])
            for r in mine],
           [(s, k, m, m, m, 0, "spooled") for _, s, _, k, m in want[:4]], "XA-TRUNGAN's own messages")
        for r in mine:
            eq(r["dedup_key"], f"BC-NAM/2024/{r['step']}/{r['moment']}/{r['kind']}/XA-TRUNGAN", "dedup key")

        # exact counts: 33 owe; BINHMY before 10wd, ANPHU before 3wd, HKH before 1d
        counts = {(r["step"]): r["n"] for r in query(d,
                  "SELECT step, count(*) AS n FROM notices n JOIN obligations b ON b.id = n.obligation"
                  " WHERE b.report = 'BC-NAM' GROUP BY step")}
        eq(counts, {"r10wd": 32, "r3wd": 31, "r1d": 30, "e1wd": 30, "e3wd": 60, "e7wd": 30,
                    "e15wd": 30, "e15wd+1": 30}, "notices per step")
        rows = outbox(d, "report = 'BC-NAM'")
        eq(len(rows), 32 + 31 + 30 + 30 + 2 + 1 + 2, "one message per unit before, digests after")
        ids = check_spooled(d, rows, emails)

        # the messages themselves: Vietnamese round-trips through RFC 2047 and 8bit UTF-8
        def msg(step, recipient):
            (r,) = [r for r in rows if r["step"] == step and r["recipient"] == recipient]
            m = read_eml(r["path"])
            eq(m["Message-ID"], ids[r["dedup_key"]], "Message-ID")
            eq(email.utils.parsedate_to_datetime(m["Date"]).timestamp(), r["sent_at"], "Date = when it left")
            return r, m

        r, m = msg("r10wd", "XA-TRUNGAN")
        eq(str(m["Subject"]), f"[Nhắc hạn] {BC_NAM_2024} - hạn 15/11/2024", "reminder subject")
        assert m["Subject"].startswith("[Nhắc hạn] Báo cáo kết quả thực hiện phong trào thi đua năm 2024 - hạn 15/11/2024")
        eq(m.get_content_type(), "text/plain", "type")
        eq(m.get_content_charset(), "utf-8", "charset")
        eq(text_of(m), "Kính gửi: Ủy ban nhân dân xã Trung An\n\n" + PLAN +
           f"Đơn vị chưa gửi {BC_NAM_2024} đến {GDDT}.\n"
           "Hạn nộp: 23 giờ 59 ngày 15/11/2024 (còn 14 ngày).\n\n"
           f"Đề nghị đơn vị gửi báo cáo đúng hạn đến {GDDT_TO}.\n" + HOW + FOOTER.format(key=r["dedup_key"]),
           "reminder body")
        r, m = msg("r1d", "XA-TRUNGAN")
        assert "Hạn nộp: 23 giờ 59 ngày 15/11/2024 (còn 1 ngày).\n" in text_of(m), text_of(m)
        r, m = msg("e1wd", "XA-TRUNGAN")
        eq(str(m["Subject"]), f"[Quá hạn] {BC_NAM_2024} - hạn 15/11/2024", "overdue subject")
        eq(text_of(m), "Kính gửi: Ủy ban nhân dân xã Trung An\n\n" + PLAN +
           f"Đơn vị chưa gửi {BC_NAM_2024} đến {GDDT}.\n"
           "Hạn nộp: 23 giờ 59 ngày 15/11/2024. Đơn vị đã quá hạn 3 ngày.\n\n"
           f"Đề nghị đơn vị gửi báo cáo ngay đến {GDDT_TO}.\n" + HOW + CUTOFF.format(day="15/12/2024")
           + FOOTER.format(key=r["dedup_key"]), "overdue body")
        for step, recipient, days in (("e3wd", "CUCHI", 5), ("e7wd", "CUCHI", 11), ("e15wd", "HCM-SGDDT", 21),
                                      ("e15wd+1", "HCM-SGDDT", 28)):
            r, m = msg(step, recipient)
            eq(str(m["Subject"]), f"[Chậm nộp] {BC_NAM_2024}: 30 đơn vị chưa nộp", step)
            body = text_of(m)
            assert "  - Ủy ban nhân dân xã Trung An (XA-TRUNGAN): quá hạn %d ngày\n" % days in body, body
            assert "XA-ANPHU" not in body and "CUCHI-HKH" not in body and "XA-BINHMY" not in body, body
            assert CUTOFF.format(day="15/12/2024") in body, body   # the last one (13/12) too
        eq(read_eml(msg("e15wd+1", "HCM-SGDDT")[0]["path"])["To"], "sgddt@hcmc.example.org", "city office")
        # every spool file belongs to an outbox row, every notice is in its message
        eq(len(spool_files(d)), len(outbox(d)), "one file per message")
        check_notices_delivered(d, config_names())


# ------------------------------------------------------------------ 2. 30 Nov -> 2 Dec

def test_deadlines_district_summary_rolls_from_saturday_to_monday():
    emails = config_emails()
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        r = d.call("deadlines", report="BC-TONGHOP", period="2024")["deadlines"][0]
        eq((r["due_date"], r["effective_date"], r["due_at"], r["moved"]),
           ("2024-11-30", "2024-12-02", "2024-12-02T23:59:59+07:00", True), "deadline moved")
        assert "thứ Bảy" in r["reason"] and "Điều 148" in r["reason"], r["reason"]
        at(d, "2024-11-02T09:00")           # opened on 1 November
        obl = d.call("obligations.list", report="BC-TONGHOP", period="2024")["obligations"]
        eq([(o["unit"], o["due_at"]) for o in obl], [("CUCHI-GDDT", "2024-12-02T23:59:59+07:00")], "obligation")
        at(d, "2024-12-02T23:59:59")
        eq([r["step"] for r in outbox(d, "report = 'BC-TONGHOP'")], ["r5wd", "r1wd"],
           "nothing overdue on Saturday 30 November nor on Monday 2 December")
        at(d, "2024-12-03T07:29:59")
        eq(len(outbox(d, "report = 'BC-TONGHOP'")), 2, "still nothing overdue")
        at(d, "2024-12-31T12:00")
        rows = outbox(d, "report = 'BC-TONGHOP'")
        eq([(r["step"], r["recipient"], r["kind"], local(r["moment"]), local(r["send_after"]), r["state"]) for r in rows], [
            ("r5wd", "CUCHI-GDDT", "reminder", "2024-11-25T07:30:00", "2024-11-25T07:30:00", "spooled"),
            ("r1wd", "CUCHI-GDDT", "reminder", "2024-11-29T07:30:00", "2024-11-29T07:30:00", "spooled"),
            ("e1wd", "CUCHI-GDDT", "overdue", "2024-12-03T07:30:00", "2024-12-03T07:30:00", "spooled"),
            ("e1wd", "CUCHI-NV", "escalation", "2024-12-03T07:30:00", "2024-12-03T07:30:00", "spooled"),
            ("e5wd", "CUCHI", "escalation", "2024-12-09T07:30:00", "2024-12-09T07:30:00", "spooled"),
        ], "BC-TONGHOP ladder from Monday 2 December")
        check_spooled(d, rows, emails)
        m = read_eml(rows[1]["path"])
        eq(str(m["Subject"]), "[Nhắc hạn] Báo cáo tổng hợp kết quả phong trào thi đua của huyện năm 2024 - hạn 02/12/2024",
           "subject with the effective due date")
        assert "Hạn nộp: 23 giờ 59 ngày 02/12/2024 (còn 3 ngày).\n" in text_of(m), text_of(m)
        m = read_eml(rows[2]["path"])
        eq(str(m["Subject"]), "[Quá hạn] Báo cáo tổng hợp kết quả phong trào thi đua của huyện năm 2024 - hạn 02/12/2024",
           "overdue subject")
        assert "đến Phòng Nội vụ huyện Củ Chi.\n" in text_of(m) and "quá hạn 1 ngày" in text_of(m), text_of(m)
        assert "gửi báo cáo ngay đến Phòng Nội vụ huyện Củ Chi (thư điện tử: noivu@cuchi.example.org).\n" in text_of(m), text_of(m)


# ------------------------------------------------------------------ 3. days off and working hours

EXTRA_TYPES = """,

  # test: due Monday 18/11/2024; the 1d reminder falls on Sunday 17/11
  { code = "T-CHUNHAT"; name = "Báo cáo thử hạn thứ Hai";
    receiver = "CUCHI-GDDT";
    submitters = { units = [ "XA-TRUNGAN", "AP-TTH-TANLAP" ]; };
    once = { period = "2024-T11"; due = "2024-11-18"; opens = "2024-10-01"; };
    reminders = [ "1d" ];
  },

  # test: due Thursday 05/09/2024; the 3d reminder falls on Monday 02/09 (Quốc khánh)
  { code = "T-QK2024"; name = "Báo cáo thử Quốc khánh 2024";
    receiver = "CUCHI-GDDT";
    submitters = { units = [ "XA-TRUNGAN" ]; };
    once = { period = "2024-T9"; due = "2024-09-05"; opens = "2024-08-01"; };
    reminders = [ "3d" ];
  },

  # test: due Wednesday 03/09/2025; 1d falls on Tuesday 02/09 (Quốc khánh), 5d on Friday 29/08
  { code = "T-QK2025"; name = "Báo cáo thử Quốc khánh 2025";
    receiver = "HCM-SGDDT";
    submitters = { units = [ "XA-BINHMY-2025" ]; };
    once = { period = "2025-T9"; due = "2025-09-03"; opens = "2025-08-01"; };
    reminders = [ "5d", "1d" ];
  }
);"""


def with_test_types(text):
    end = text.rindex("\n);")
    text = text[:end] + EXTRA_TYPES + text[end + 3:]
    # a hamlet with no email address: its messages are spooled as .json
    old = '    emails = [ "ap.tanlap.tth@cuchi.example.org" ];\n'
    assert text.count(old) == 1
    return text.replace(old, "")


def test_deadlines_reminder_on_a_day_off_goes_to_the_working_day_before():
    """A reminder N days before that lands on a day off moves back to the working day before
    it, never forward onto the due day: the 1d reminder of a Monday deadline used to leave on
    the Monday itself, reading "còn 0 ngày"."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp, with_test_types)
        # Sunday 17 November 2024 -> Friday 15 November, 07:30
        with Daemon(config=cfg, start_at="2024-10-25T12:00:00+07:00") as d:
            at(d, "2024-11-15T07:29:59")
            eq(outbox(d, "report = 'T-CHUNHAT'"), [], "nothing before 07:30 on Friday")
            at(d, "2024-11-15T07:30")
            rows = outbox(d, "report = 'T-CHUNHAT'")
            eq([(r["recipient"], r["step"], local(r["moment"]), local(r["sent_at"]), r["state"]) for r in rows],
               [("AP-TTH-TANLAP", "r1d", "2024-11-15T07:30:00", "2024-11-15T07:30:00", "spooled"),
                ("XA-TRUNGAN", "r1d", "2024-11-15T07:30:00", "2024-11-15T07:30:00", "spooled")], "Friday morning")
            eq(read_eml(rows[1]["path"])["To"], "ubnd.trungan@cuchi.example.org", "To")
            assert "Hạn nộp: 23 giờ 59 ngày 18/11/2024 (còn 3 ngày)." in text_of(read_eml(rows[1]["path"]))
            at(d, "2024-11-19T12:00")
            eq(len(outbox(d, "report = 'T-CHUNHAT'")), 2, "nothing more on the due day")
            # a unit without an email address: a .json file with the same content
            assert rows[0]["path"].endswith(".json"), rows[0]["path"]
            with open(rows[0]["path"], encoding="utf-8") as fp:
                j = json.load(fp)
            eq((j["dedup_key"], j["to"], j["to_name"], j["kind"], j["report"], j["period"]),
               (rows[0]["dedup_key"], "AP-TTH-TANLAP", "Ấp Tân Lập", "reminder", "T-CHUNHAT", "2024-T11"), "json")
            eq(j["subject"], "[Nhắc hạn] Báo cáo thử hạn thứ Hai tháng 11 năm 2024 - hạn 18/11/2024", "json subject")
            assert j["text"].startswith("Kính gửi: Ấp Tân Lập\n\n"), j["text"]
            eq([u["unit"] for u in j["units"]], ["AP-TTH-TANLAP"], "json units")

        # 2024: 2 September (Monday) is a day off, and the weekend before it -> Friday 30 August
        with Daemon(config=cfg, start_at="2024-08-20T12:00:00+07:00") as d:
            at(d, "2024-08-30T07:29:59")
            eq(outbox(d, "report = 'T-QK2024'"), [], "nothing before Friday 30 August")
            at(d, "2024-09-10T12:00")
            eq([(r["step"], local(r["moment"]), local(r["sent_at"])) for r in outbox(d, "report = 'T-QK2024'")],
               [("r3d", "2024-08-30T07:30:00", "2024-08-30T07:30:00")], "Friday 30 August 2024")

        # 2025: 1 September (Monday, the adjacent day) and 2 September (Tuesday) are off; the day
        # before the due date is 2 September, so the 1d reminder moves back to Friday 29 August,
        # where the 5d reminder already is: one reminder that morning, not two, and nothing on
        # the due day itself.
        with Daemon(config=cfg, start_at="2025-08-20T12:00:00+07:00") as d:
            cal = {x["date"]: x for x in d.call("calendar.show", month="2025-09")["days"]}
            eq([day for day in ("2025-09-01", "2025-09-02", "2025-09-03")
                if cal[day].get("working")], ["2025-09-03"], "calendar of September 2025")
            at(d, "2025-09-10T12:00")
            eq([(r["step"], local(r["moment"]), local(r["sent_at"])) for r in outbox(d, "report = 'T-QK2025'")],
               [("r5d", "2025-08-29T07:30:00", "2025-08-29T07:30:00")], "2025")


def test_deadlines_nothing_leaves_outside_working_hours():
    # A step falls due while the daemon is down; it starts again at 22:00 on a working day
    # (Friday 1 November 2024, the day of BC-NAM's 10wd reminder). The notification is queued
    # at once but leaves on the next working morning, Monday 4 November at 07:30.
    # (Every step moment is 07:30 on a working day, so only a step that fires late can fall
    # outside working hours. A fresh state directory started at 22:00 does not do: steps
    # before the database existed are history, not work (intake.c, d->epoch).)
    with Daemon(start_at="2024-10-31T16:00:00+07:00") as d:
        d.stop()
        set_stored_clock(d, "2024-11-01T22:00")
        d.start()
        eq(d.ctl("clock", "show")["now"], "2024-11-01T22:00:00+07:00", "resumed at 22:00")
        at(d, "2024-11-01T22:00")           # run what is due now
        rows = outbox(d, "report = 'BC-NAM'")
        eq(len(rows), 33, "queued")
        eq({(r["step"], local(r["moment"]), local(r["send_after"]), r["late"], r["state"]) for r in rows},
           {("r10wd", "2024-11-01T07:30:00", "2024-11-04T07:30:00", 1, "pending")}, "deferred to Monday")
        eq(spool_files(d), [], "no file at night")
        at(d, "2024-11-02T10:00")
        at(d, "2024-11-03T16:00")
        eq(spool_files(d), [], "no file on the weekend")
        at(d, "2024-11-04T07:29:59")
        eq(spool_files(d), [], "no file before 07:30")
        eq({r["state"] for r in outbox(d)}, {"pending"}, "all pending")
        at(d, "2024-11-04T07:30")
        rows = outbox(d, "report = 'BC-NAM'")
        eq({(r["state"], local(r["sent_at"])) for r in rows}, {("spooled", "2024-11-04T07:30:00")}, "sent Monday")
        eq(len(spool_files(d)), len(outbox(d)), "files")
        m = read_eml(rows[0]["path"])
        eq(email.utils.parsedate_to_datetime(m["Date"]).timestamp(), T("2024-11-04T07:30"), "Date")
        assert text_of(m).endswith(LATE_NOTE + FOOTER.format(key=rows[0]["dedup_key"])), text_of(m)


# ------------------------------------------------------------------ 4. restart in the middle

def run_scenario(restart):
    """The same 2024 cycle with or without a restart just after the 3wd reminder; returns
    {dedup_key: Message-ID}, the notices, and the spool file names."""
    emails = config_emails()
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-05T09:00")
        submit(d, "XA-ANPHU")
        at(d, "2024-11-12T08:00")           # just after the 3wd reminder (07:30)
        eq(len(outbox(d, "report = 'BC-NAM' AND step = 'r3wd'")), 32, "3wd fired")
        if restart:
            eq(d.stop(), 0, "clean stop")
            d.start()
            eq(d.ctl("clock", "show")["now"], "2024-11-12T08:00:00+07:00", "the fake clock resumed")
        at(d, "2024-11-19T10:00")
        submit(d, "XA-THAIMY")              # late, after its overdue notice
        at(d, "2025-01-10T12:00")
        rows = outbox(d)
        ids = check_spooled(d, rows, emails)
        notices = query(d, "SELECT b.unit, b.report, n.cycle, n.step, n.recipient, o.dedup_key FROM notices n"
                        " JOIN obligations b ON b.id = n.obligation JOIN outbox o ON o.id = n.outbox")
        dup = query(d, "SELECT obligation, step, recipient, count(*) AS n FROM notices"
                    " GROUP BY obligation, step, recipient HAVING n > 1")
        eq(dup, [], "each (obligation, step, recipient) once")
        check_notices_delivered(d, config_names())
        return ids, sorted(tuple(n.values()) for n in notices), spool_files(d)


def test_deadlines_restart_neither_repeats_nor_loses_a_step():
    ids_a, notices_a, files_a = run_scenario(restart=False)
    ids_b, notices_b, files_b = run_scenario(restart=True)
    eq(set(ids_b) - set(ids_a), set(), "extra messages after a restart")
    eq(set(ids_a) - set(ids_b), set(), "messages lost by a restart")
    eq(ids_b, ids_a, "same Message-ID for the same dedup key")
    eq(notices_b, notices_a, "same notices")
    eq(files_b, files_a, "same spool files")
    bc = [n for n in notices_a if n[1] == "BC-NAM"]
    # 33 owe; ANPHU submitted before 3wd; THAIMY after the overdue notice (e1wd)
    # (e15wd+2 and +3, on 20 and 27 December, are past the lock of 15 December)
    eq(len(bc), 33 + 32 + 32 + 32 + 31 * 2 + 31 + 31 * 2, "BC-NAM notices")


# ------------------------------------------------------------------ 5. digest

def test_deadlines_digest_gathers_the_late_communes_for_the_district_office():
    names = config_names()
    emails = config_emails()
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        owe = sorted(o["unit"] for o in d.call("obligations.list", report="BC-NAM", period="2024")["obligations"])
        eq(len(owe), 33, "obligations of BC-NAM 2024")
        at(d, "2024-11-05T09:00")
        done = ["XA-ANPHU", "XA-BINHMY", "CUCHI-HKH"]
        for u in done:
            submit(d, u)
        at(d, "2024-11-14T16:00")
        submit(d, "DN-MAYMAC-TPT")
        at(d, "2024-11-19T10:00")           # after the overdue notices, before the +3wd step
        submit(d, "XA-THAIMY")
        done += ["DN-MAYMAC-TPT", "XA-THAIMY"]
        at(d, "2024-11-21T12:00")
        late = [u for u in owe if u not in done]
        eq(len(late), 28, "33 - 5")
        rows = outbox(d, "report = 'BC-NAM' AND step = 'e3wd'")
        eq([(r["recipient"], r["kind"], local(r["moment"]), r["state"]) for r in rows],
           [("CUCHI", "escalation", "2024-11-20T07:30:00", "spooled"),
            ("CUCHI-GDDT", "escalation", "2024-11-20T07:30:00", "spooled")], "one message each")
        check_spooled(d, rows, emails)
        for r in rows:
            covered = [x["unit"] for x in query(d, "SELECT b.unit FROM notices n JOIN obligations b"
                                                " ON b.id = n.obligation WHERE n.outbox = ?1 ORDER BY b.unit", r["id"])]
            eq(covered, late, "the notices of " + r["recipient"])
        gddt = rows[1]
        m = read_eml(gddt["path"])
        eq(m["To"], "gddt@cuchi.example.org", "To")
        eq(str(m["Subject"]), f"[Chậm nộp] {BC_NAM_2024}: 28 đơn vị chưa nộp", "digest subject")
        body = text_of(m)
        eq(body, f"Kính gửi: {GDDT}\n\n" + PLAN +
           f"Các đơn vị sau chưa gửi {BC_NAM_2024} (hạn 15/11/2024) đến {GDDT}:\n\n"
           + "".join(f"  - {names[u]} ({u}): quá hạn 5 ngày\n" for u in late)
           + f"\nĐề nghị đôn đốc các đơn vị gửi báo cáo đến {GDDT_TO}.\n" + HOW + CUTOFF.format(day="15/12/2024")
           + FOOTER.format(key=gddt["dedup_key"]), "digest body")
        for u in late:
            assert names[u] in body, u
        for u in done:
            assert names[u] not in body, u
        # the overdue step before it went to each late unit on its own (THAIMY was late then too)
        eq(len(outbox(d, "report = 'BC-NAM' AND step = 'e1wd'")), 29, "overdue notices")
        check_notices_delivered(d, names)


# ------------------------------------------------------------------ 6. return and waiver

def test_deadlines_return_restarts_the_ladder_and_waiver_stops_it():
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-08T10:00")
        submit(d, "XA-PHUHOADONG")
        submit(d, "XA-ANPHU")
        at(d, "2024-11-13T10:00")
        o = review(d, "waive", "XA-TANANHOI", reason="Đơn vị được miễn báo cáo năm 2024")
        eq(o["state"], "waived", "waived")
        at(d, "2024-11-18T09:00")
        o = review(d, "return", "XA-PHUHOADONG", reason="Thiếu bảng tổng hợp tiêu chí")
        eq((o["state"], o["due_at"], o["reason"]),
           ("returned", "2024-11-25T23:59:59+07:00", "Thiếu bảng tổng hợp tiêu chí"), "5 working days from Monday 18/11")
        review(d, "return", "XA-ANPHU", reason="Sai mẫu")
        at(d, "2024-11-21T10:00")
        submit(d, "XA-ANPHU")               # corrected in time: its new ladder stops
        at(d, "2025-01-15T12:00")

        # the new ladder runs from Monday 25 November (cycle 1): 3wd Wed 20/11; 1d falls on
        # Sunday 24/11 -> back to Friday 22/11; +1wd 26/11; +3wd 28/11; +7wd 04/12; +15wd 16/12
        # and every 7 days: 23/12; 30/12 and 06/01/2025 are past the lock (25/11 + 30 days)
        eq(ladder_of(d, "XA-PHUHOADONG"), [
            (0, "r10wd", "XA-PHUHOADONG", "reminder", "2024-11-01T07:30:00"),
            (1, "review/2", "XA-PHUHOADONG", "returned", "2024-11-18T09:00:00"),	# the return, told at once
            (1, "r3wd", "XA-PHUHOADONG", "reminder", "2024-11-20T07:30:00"),
            (1, "r1d", "XA-PHUHOADONG", "reminder", "2024-11-22T07:30:00"),
            (1, "e1wd", "XA-PHUHOADONG", "overdue", "2024-11-26T07:30:00"),
            (1, "e3wd", "CUCHI", "escalation", "2024-11-28T07:30:00"),
            (1, "e3wd", "CUCHI-GDDT", "escalation", "2024-11-28T07:30:00"),
            (1, "e7wd", "CUCHI", "escalation", "2024-12-04T07:30:00"),
            (1, "e15wd", "HCM-SGDDT", "escalation", "2024-12-16T07:30:00"),
            (1, "e15wd+1", "HCM-SGDDT", "escalation", "2024-12-23T07:30:00"),
        ], "returned and not resubmitted")
        eq(ladder_of(d, "XA-ANPHU"), [
            (0, "r10wd", "XA-ANPHU", "reminder", "2024-11-01T07:30:00"),
            (1, "review/3", "XA-ANPHU", "returned", "2024-11-18T09:00:00"),
            (1, "r3wd", "XA-ANPHU", "reminder", "2024-11-20T07:30:00"),
        ], "returned and resubmitted on 21/11")
        eq(ladder_of(d, "XA-TANANHOI"), [
            (0, "r10wd", "XA-TANANHOI", "reminder", "2024-11-01T07:30:00"),
            (0, "r3wd", "XA-TANANHOI", "reminder", "2024-11-12T07:30:00"),
        ], "waived on 13/11: nothing after")
        # nothing about the waived unit in any digest either
        eq(query(d, "SELECT count(*) AS n FROM notices n JOIN obligations b ON b.id = n.obligation"
                 " WHERE b.unit = 'XA-TANANHOI' AND b.report = 'BC-NAM'")[0]["n"], 2, "waived")

        (r,) = outbox(d, "report = 'BC-NAM' AND recipient = 'XA-PHUHOADONG' AND step = 'e1wd'")
        eq((r["kind"], r["state"], local(r["send_after"])), ("overdue", "spooled", "2024-11-26T07:30:00"), "overdue")
        m = read_eml(r["path"])
        eq(str(m["Subject"]), f"[Quá hạn] {BC_NAM_2024} - hạn 25/11/2024", "new due date in the subject")
        assert "Hạn nộp: 23 giờ 59 ngày 25/11/2024. Đơn vị đã quá hạn 1 ngày.\n" in text_of(m), text_of(m)
        (r,) = outbox(d, "report = 'BC-NAM' AND recipient = 'CUCHI-GDDT' AND step = 'e3wd' AND moment = ?1",
                      T("2024-11-28T07:30"))
        m = read_eml(r["path"])
        eq(str(m["Subject"]), f"[Chậm nộp] {BC_NAM_2024}: 1 đơn vị chưa nộp", "its own digest")
        assert "  - Ủy ban nhân dân xã Phú Hòa Đông (XA-PHUHOADONG): quá hạn 3 ngày\n" in text_of(m), text_of(m)
        check_notices_delivered(d, config_names())


# ------------------------------------------------------------------ 7. catch-up after downtime

def test_deadlines_catch_up_after_downtime_fires_once_marked_late():
    emails = config_emails()
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-05T09:00")
        submit(d, "XA-ANPHU")
        at(d, "2024-11-08T12:00")           # the 10wd reminder went out on 1 November
        before = {r["dedup_key"] for r in outbox(d)}
        d.stop()
        # down from Friday 8 November to Wednesday 20 November 10:00: the 3wd and 1d reminders,
        # the due date, the overdue step (18/11) and the +3wd step (20/11 07:30) passed meanwhile.
        # (A 'clock set' after the restart would not do: it stops at every due moment on the way,
        # so the steps would fire on time. The stored fake time is moved instead.)
        set_stored_clock(d, "2024-11-20T10:00")
        d.start()
        at(d, "2024-11-20T10:00")
        new = [r for r in outbox(d, "report = 'BC-NAM'") if r["dedup_key"] not in before]
        eq(sorted({(r["step"], r["recipient"] if r["step"] != "e1wd" else "*", local(r["moment"]), r["late"],
                    local(r["send_after"]), r["state"]) for r in new}), [
            ("e1wd", "*", "2024-11-18T07:30:00", 1, "2024-11-20T10:00:00", "spooled"),
            ("e3wd", "CUCHI", "2024-11-20T07:30:00", 1, "2024-11-20T10:00:00", "spooled"),
            ("e3wd", "CUCHI-GDDT", "2024-11-20T07:30:00", 1, "2024-11-20T10:00:00", "spooled"),
        ], "caught up, late, in working hours; no reminder after the due date")
        eq(len([r for r in new if r["step"] == "e1wd"]), 32, "one overdue notice per late unit")
        eq(outbox(d, "report = 'BC-NAM' AND step IN ('r3wd', 'r1d')"), [], "pointless reminders not sent")
        check_spooled(d, new, emails)
        for r in new:
            assert text_of(read_eml(r["path"])).endswith(LATE_NOTE + FOOTER.format(key=r["dedup_key"])), r["path"]
        eq(ladder_of(d, "XA-TRUNGAN"), [
            (0, "r10wd", "XA-TRUNGAN", "reminder", "2024-11-01T07:30:00"),
            (0, "e1wd", "XA-TRUNGAN", "overdue", "2024-11-18T07:30:00"),
            (0, "e3wd", "CUCHI", "escalation", "2024-11-20T07:30:00"),
            (0, "e3wd", "CUCHI-GDDT", "escalation", "2024-11-20T07:30:00"),
        ], "XA-TRUNGAN after the catch-up")
        n_notices = query(d, "SELECT count(*) AS n FROM notices")[0]["n"]
        # once: another restart and another clock op change nothing
        d.stop()
        d.start()
        at(d, "2024-11-20T10:30")
        eq(query(d, "SELECT count(*) AS n FROM notices")[0]["n"], n_notices, "caught up once")
        # the next step is on time again
        at(d, "2024-11-26T12:00")
        (r,) = outbox(d, "report = 'BC-NAM' AND step = 'e7wd'")
        eq((r["recipient"], local(r["moment"]), local(r["sent_at"]), r["late"]),
           ("CUCHI", "2024-11-26T07:30:00", "2024-11-26T07:30:00", 0), "on time")
        check_notices_delivered(d, config_names())


def test_deadlines_caught_up_reminder_states_the_days_left_when_it_is_sent():
    # BC-KQ-2024 (CUCHI-GDDT -> Hội đồng TĐKT) is due Wednesday 20/11/2024; reminders 5wd
    # (13/11) and 1wd (19/11). Down from 12/11 to 20/11 10:00: both fall due meanwhile, the
    # due date has not passed, so they are caught up late on the due day. A reminder read on
    # 20/11 must not say that 7 days are left.
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-12T12:00")
        d.stop()
        set_stored_clock(d, "2024-11-20T10:00")
        d.start()
        at(d, "2024-11-20T10:00")
        rows = outbox(d, "report = 'BC-KQ-2024'")
        eq({(r["late"], local(r["sent_at"])) for r in rows}, {(1, "2024-11-20T10:00:00")}, "caught up late")
        for r in rows:
            body = text_of(read_eml(r["path"]))
            assert "Hạn nộp: 23 giờ 59 ngày 20/11/2024 (còn 0 ngày)." in body, \
                f"{r['step']} sent on 20/11/2024 for a report due 20/11/2024 says:\n{body}"


# ------------------------------------------------------------------ 8. reload changes the ladder

def test_deadlines_reload_changes_only_steps_not_yet_fired():
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp)
        with Daemon(config=cfg, start_at="2024-10-25T12:00:00+07:00") as d:
            at(d, "2024-11-05T09:00")
            eq({r["step"] for r in outbox(d, "report = 'BC-NAM'")}, {"r10wd"}, "10wd fired")
            config_copy(tmp, lambda t: set_bc_nam_reminders(t, ["10wd", "2wd", "1d"]))
            r = d.ctl("config", "reload")
            assert r["ok"], r
            at(d, "2024-11-19T12:00")
            # 2wd before Friday 15/11 = Wednesday 13/11
            eq([(s, m) for _, s, _, _, m in ladder_of(d, "XA-TRUNGAN")], [
                ("r10wd", "2024-11-01T07:30:00"),
                ("r2wd", "2024-11-13T07:30:00"),
                ("r1d", "2024-11-14T07:30:00"),
                ("e1wd", "2024-11-18T07:30:00"),
            ], "the new ladder for the steps not yet fired")
            steps = {r["step"]: r["n"] for r in query(d, "SELECT step, count(*) AS n FROM outbox"
                                                     " WHERE report = 'BC-NAM' GROUP BY step")}
            eq(steps, {"r10wd": 33, "r2wd": 33, "r1d": 33, "e1wd": 33}, "no 3wd, 10wd not repeated")
            eq(query(d, "SELECT count(*) AS n FROM notices n JOIN obligations b ON b.id = n.obligation"
                     " WHERE b.report = 'BC-NAM' AND n.step = 'r10wd'")[0]["n"], 33, "10wd once")
            # a second reload back to the shipped ladder: the 3wd moment (12/11) has passed, nothing
            # fires for it, and nothing fired is repeated
            config_copy(tmp)
            assert d.ctl("config", "reload")["ok"]
            at(d, "2024-11-21T12:00")
            eq(outbox(d, "report = 'BC-NAM' AND step = 'r3wd'"), [], "3wd never fires")
            steps = {r["step"]: r["n"] for r in query(d, "SELECT step, count(*) AS n FROM outbox"
                                                     " WHERE report = 'BC-NAM' GROUP BY step")}
            eq(steps, {"r10wd": 33, "r2wd": 33, "r1d": 33, "e1wd": 33, "e3wd": 2}, "after the second reload")


# ------------------------------------------------------------------ bugs found on the way

HAMLET_TYPE = """,

  # test: a commune and its three hamlets owe the same report; one step to self and parent
  { code = "T-AP"; name = "Báo cáo thử của xã và ấp";
    receiver = "CUCHI-GDDT";
    submitters = { units = [ "XA-PHUHOADONG", "AP-PHD-PHULOI", "AP-PHD-PHUHIEP", "AP-PHD-PHUTHUAN" ]; };
    once = { period = "2024-AP"; due = "2024-11-15"; opens = "2024-10-01"; };
    reminders = [ ];
    escalation = ( { after = "1wd"; to = [ "self", "parent" ]; } );
  }
);"""


def test_deadlines_a_late_commune_also_hears_about_its_late_hamlets():
    # On +1wd (Mon 18/11/2024) XA-PHUHOADONG is both late itself ("self") and the parent of
    # three late hamlets ("parent"). All four notices share the message key
    # T-AP/2024-AP/e1wd/MOMENT/XA-PHUHOADONG, so they are one message; it must tell the
    # commune about its hamlets, not only that it is late itself.
    with tempfile.TemporaryDirectory() as tmp:
        def edit(text):
            end = text.rindex("\n);")
            return text[:end] + HAMLET_TYPE + text[end + 3:]
        cfg = config_copy(tmp, edit)
        with Daemon(config=cfg, start_at="2024-10-25T12:00:00+07:00") as d:
            at(d, "2024-11-19T12:00")
            eq(sorted(r["recipient"] for r in query(d, "SELECT n.recipient FROM notices n JOIN obligations b"
                                                    " ON b.id = n.obligation WHERE b.report = 'T-AP'")),
               ["AP-PHD-PHUHIEP", "AP-PHD-PHULOI", "AP-PHD-PHUTHUAN", "CUCHI",
                "XA-PHUHOADONG", "XA-PHUHOADONG", "XA-PHUHOADONG", "XA-PHUHOADONG"], "notices")
            to_commune = outbox(d, "report = 'T-AP' AND recipient = 'XA-PHUHOADONG'")
            text = "".join(text_of(read_eml(r["path"])) for r in to_commune)
            for hamlet in ("Ấp Phú Lợi", "Ấp Phú Hiệp", "Ấp Phú Thuận"):
                assert hamlet in text, f"XA-PHUHOADONG was never told that {hamlet} is late; it received:\n{text}"
            check_notices_delivered(d, config_names(cfg))


NEW_COMMUNE = """  {
    code = "XA-MOI";
    name = "Ủy ban nhân dân xã Mới";
    level = "commune";
    parent = "CUCHI";
    kind = "commune";
    emails = [ "ubnd.moi@cuchi.example.org" ];
    active_from = "2023-11-09";
  },

  {
    code = "TT-CUCHI";"""


def test_deadlines_unit_added_by_reload_is_not_lost_in_a_digest_already_sent():
    # On Thursday 21/11/2024 a reload adds a commune. Its BC-NAM 2024 obligation is caught up:
    # the overdue step (18/11) and the +3wd step (20/11) to CUCHI and CUCHI-GDDT. The +3wd
    # digests of 20/11 were already spooled; a notice about the new commune must not be
    # recorded as attached to them (the file never mentions it): either it goes out in a
    # message of its own, or it is not recorded at all.
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp)
        with Daemon(config=cfg, start_at="2024-10-25T12:00:00+07:00") as d:
            at(d, "2024-11-21T12:00")
            old = '  {\n    code = "TT-CUCHI";'

            def add_commune(text):
                assert text.count(old) == 1
                return text.replace(old, NEW_COMMUNE)
            config_copy(tmp, add_commune)
            assert d.ctl("config", "reload")["ok"]
            at(d, "2024-11-22T12:00")
            assert ladder_of(d, "XA-MOI"), "the new commune owes BC-NAM 2024 and is late"
            check_notices_delivered(d, config_names(cfg))


HOLIDAY_2024_11_15 = """    { date = "2024-11-15"; kind = "off"; name = "Nghỉ thử"; source = "test"; confirmed = false; },
    # 2025"""


def test_deadlines_holiday_added_by_reload_moves_the_due_date_and_the_ladder():
    # DOMAIN.md: the calendar accepts corrections by a config change. On 05/11/2024 a reload
    # declares Friday 15/11/2024 a day off: BC-NAM 2024 is then due Monday 18/11 (Art. 148),
    # as 'deadlines' says; the open obligations and their ladder must follow: 1d before
    # 18/11 is Sunday 17/11 -> back over the weekend and the new day off to Thursday 14/11
    # 07:30, and +1wd is Tuesday 19/11. Nobody may be told on 18/11 that the report is 3
    # days overdue.
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp)
        with Daemon(config=cfg, start_at="2024-10-25T12:00:00+07:00") as d:
            at(d, "2024-11-05T12:00")
            config_copy(tmp, lambda t: t.replace("\n    # 2025\n", "\n" + HOLIDAY_2024_11_15 + "\n", 1))
            assert d.ctl("config", "reload")["ok"]
            eq(d.call("deadlines", report="BC-NAM", period="2024")["deadlines"][0]["due_at"],
               "2024-11-18T23:59:59+07:00", "deadlines after the reload")
            at(d, "2024-11-19T12:00")
            eq(ladder_of(d, "XA-TRUNGAN"), [
                (0, "r10wd", "XA-TRUNGAN", "reminder", "2024-11-01T07:30:00"),
                (0, "r3wd", "XA-TRUNGAN", "reminder", "2024-11-12T07:30:00"),
                (0, "r1d", "XA-TRUNGAN", "reminder", "2024-11-14T07:30:00"),
                (0, "e1wd", "XA-TRUNGAN", "overdue", "2024-11-19T07:30:00"),
            ], "the ladder from the corrected due date")
            due = {o["due_at"] for o in d.call("obligations.list", report="BC-NAM", period="2024")["obligations"]}
            eq(due, {"2024-11-18T23:59:59+07:00"}, "the obligations' due date")
