"""Issue 15, the plan's calendar rules on the shipped configuration (config/thidua.cfg), all
driven by the fake clock:
  - a reminder N days before a Monday deadline goes on the working day before, not on the
    due day reading "còn 0 ngày";
  - past its lock (late_until_days) an obligation reads as missing, escalation ends there,
    and the overdue notices state the final cut-off date.
"""
from harness import Daemon, eq
from test_deadlines import T, at, local, outbox, read_eml, text_of


# ------------------------------------------------------------------ 2. Monday deadlines

def test_reminder_before_a_monday_deadline_goes_on_the_friday_before():
    # KH-NAM 2027 is due Monday 1 March 2027. Its reminders: 10wd -> Mon 15/02 (the Tết days
    # 8-11/02 are not reached), 3wd -> Wed 24/02, and 1d -> Sunday 28/02, which moves back to
    # Friday 26/02: it used to leave on the due day itself, reading "còn 0 ngày".
    with Daemon(start_at="2027-02-01T09:00:00+07:00") as d:
        at(d, "2027-02-26T07:29:59")
        eq([(r["step"], local(r["moment"])) for r in outbox(d, "report = 'KH-NAM' AND recipient = 'XA-TRUNGAN'")],
           [("r10wd", "2027-02-15T07:30:00"), ("r3wd", "2027-02-24T07:30:00")], "before Friday")
        at(d, "2027-02-26T07:30")
        (r,) = outbox(d, "report = 'KH-NAM' AND recipient = 'XA-TRUNGAN' AND step = 'r1d'")
        eq((local(r["moment"]), local(r["sent_at"])), ("2027-02-26T07:30:00", "2027-02-26T07:30:00"), "Friday")
        body = text_of(read_eml(r["path"]))
        assert "Hạn nộp: 23 giờ 59 ngày 01/03/2027 (còn 3 ngày)." in body, body
        at(d, "2027-03-01T16:00")
        eq(outbox(d, "report = 'KH-NAM' AND moment >= ?1", T("2027-02-27T00:00")), [], "nothing on the due day")
        assert not any("(còn 0 ngày)" in text_of(read_eml(r["path"])) for r in outbox(d, "report = 'KH-NAM'")
                       if r["path"].endswith(".eml"))


# ------------------------------------------------------------------ 4. the lock

def test_past_its_lock_an_obligation_reads_missing_and_escalation_stops_with_the_cut_off_stated():
    # BC-NAM 2024: due Friday 15/11/2024, late_until_days = 30 -> nothing taken after
    # 15/12/2024 23:59:59. The city office's repeated escalation (every 7 days from 06/12)
    # ends at 13/12; 20/12 and 27/12 are past the lock.
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-05T09:00")
        assert d.call("report.submit", files=(("bc.pdf", b"x"),), unit="XA-ANPHU", report="BC-NAM", period="2024")["ok"]
        at(d, "2024-12-15T23:59:59")
        (o,) = d.call("obligations.list", unit="XA-TRUNGAN", report="BC-NAM", period="2024")["obligations"]
        eq((o["state"], o["late_until"]), ("open", "2024-12-15T23:59:59+07:00"), "open until the lock")
        sched = d.call("schedule", unit="HCM-SGDDT")["to"]
        eq([x["moment"] for x in sched if x["report"] == "BC-NAM"], [], "no step after the lock is planned")
        at(d, "2024-12-16T00:00")
        (o,) = d.call("obligations.list", unit="XA-TRUNGAN", report="BC-NAM", period="2024")["obligations"]
        eq(o["state"], "missing", "closed and missing past the lock")
        missing = d.call("obligations.list", report="BC-NAM", period="2024", state="missing")["obligations"]
        eq(len(missing), 32, "every unit that never sent it")
        eq(d.call("obligations.list", report="BC-NAM", period="2024", state="open")["count"], 0, "none open")
        (sub,) = d.call("obligations.list", unit="XA-ANPHU", report="BC-NAM", period="2024")["obligations"]
        eq(sub["state"], "submitted", "a submitted one stays submitted")
        rc, out = d.ctl_raw("obligations", "--unit", "XA-TRUNGAN", "--report", "BC-NAM")
        assert rc == 0 and "missing" in out, out
        c = d.call("completeness", report="BC-NAM", period="2024")
        eq({m["state"] for m in c["missing"]}, {"missing"}, "completeness names them missing")
        r = d.call("report.submit", files=(("bc.pdf", b"x"),), unit="XA-TRUNGAN", report="BC-NAM", period="2024")
        eq(r["error"]["code"], "late_locked", r)

        at(d, "2025-01-31T12:00")
        city = outbox(d, "report = 'BC-NAM' AND period = '2024' AND recipient = 'HCM-SGDDT'")
        eq([(r["step"], local(r["moment"])) for r in city],
           [("e15wd", "2024-12-06T07:30:00"), ("e15wd+1", "2024-12-13T07:30:00")], "the city, up to the lock")
        eq(outbox(d, "report = 'BC-NAM' AND period = '2024' AND moment > ?1", T("2024-12-15T23:59:59")), [],
           "nothing to anyone after the lock")
        cutoff = "Hạn cuối nhận báo cáo nộp muộn: 23 giờ 59 ngày 15/12/2024"
        assert cutoff in text_of(read_eml(city[-1]["path"])), "the last notice states the cut-off"
        (own,) = outbox(d, "report = 'BC-NAM' AND recipient = 'XA-TRUNGAN' AND kind = 'overdue'")
        assert cutoff in text_of(read_eml(own["path"])), "the overdue notice to the unit too"
