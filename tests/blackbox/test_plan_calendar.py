"""Issue 15, the plan's calendar rules on the shipped configuration (config/thidua.cfg), all
driven by the fake clock:
  - days off not yet officially announced (Tết 2027, 3 September 2027: confirmed = false)
    are marked in calendar show, and from 1 December of the year before status and the log
    warn (at start-up, after a reload, once a day) until a reload confirms them;
  - a reminder N days before a Monday deadline goes on the working day before, not on the
    due day reading "còn 0 ngày";
  - nothing is owed for a date before the plan (1792/KH-UBND, 6 March 2024): KH-NAM starts
    with 2025, and obligations an older configuration created for such a date are waived;
  - past its lock (late_until_days) an obligation reads as missing, escalation ends there,
    and the overdue notices state the final cut-off date.
"""
import os
import re
import subprocess
import tempfile

from harness import BIN, Daemon, eq
from test_deadlines import T, at, config_copy, local, outbox, read_eml, text_of

TET_2027 = ["2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"]
WARNING = "calendar: the days off of 2027 are not all officially announced"


def warnings_in(log):
    return [line for line in log.splitlines() if WARNING in line]


def confirm_2027(text):
    """The Government has announced 2027: every 2027 day of the calendar is confirmed."""
    return re.sub(r'(date = "2027-[^"]*";[^\n]*?)confirmed = false;', r"\1confirmed = true;", text)


# ------------------------------------------------------------------ 1. unconfirmed days off

def test_calendar_show_marks_the_unconfirmed_days_of_tet_2027():
    with Daemon(start_at="2026-12-02T09:00:00+07:00") as d:
        days = {x["date"]: x for x in d.call("calendar.show", month="2027-02")["days"]}
        for day in TET_2027:
            eq((days[day]["working"], days[day]["why"], days[day]["confirmed"]), (False, "holiday", False), day)
        eq((days["2027-02-06"]["why"], days["2027-02-06"]["confirmed"]), ("weekend", None), "mùng 1 is a Saturday")
        eq(days["2027-02-12"]["working"], True, "Friday 12 February 2027 is a working day")
        rc, out = d.ctl_raw("calendar", "show", "2027-02")
        eq(rc, 0, out)
        line = next(x for x in out.splitlines() if "2027-02-05" in x)
        assert "chưa xác nhận / unconfirmed" in line, out
        line = next(x for x in out.splitlines() if "2027-02-12" in x)
        assert "unconfirmed" not in line, out
        days = {x["date"]: x for x in d.call("calendar.show", month="2027-09")["days"]}
        eq((days["2027-09-02"]["confirmed"], days["2027-09-03"]["confirmed"]), (True, False), "2 and 3 September 2027")
        eq(days["2027-09-03"]["working"], False, "3 September 2027 assumed off")


def test_unconfirmed_days_warn_from_1_december_until_a_reload_confirms_them():
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp)
        with Daemon(config=cfg, start_at="2026-11-30T09:00:00+07:00") as d:
            # 30 November 2026: 2027 is not due for a warning yet; 24/11/2026 (unconfirmed) is past
            eq(d.call("status")["calendar_unconfirmed"], [], "30 November: nothing")
            rc, out = d.ctl_raw("status")
            assert rc == 0 and "warning" not in out, out
            eq(warnings_in(d.read_log()), [], "no warning at start-up on 30 November")

            at(d, "2026-12-01T09:00")
            (y,) = d.call("status")["calendar_unconfirmed"]
            eq(y["year"], 2027, "the year")
            eq([x["date"] for x in y["days"]],
               TET_2027 + ["2027-04-16", "2027-05-03", "2027-09-03", "2027-11-24"], "the unconfirmed days of 2027")
            assert "2027-02-05" in y["warning"] and "config reload" in y["warning"] and cfg in y["warning"], y
            rc, out = d.ctl_raw("status")
            assert rc == 0 and "warning:   the days off of 2027 are not all officially announced" in out, out
            eq(len(warnings_in(d.read_log())), 1, "once on 1 December")

            # many turns on the same day: still once a day
            for _ in range(5):
                d.call("status")
            at(d, "2026-12-01T16:00")
            eq(len(warnings_in(d.read_log())), 1, "not every turn")
            at(d, "2026-12-03T09:00")
            eq(len(warnings_in(d.read_log())), 3, "once each day: 2 and 3 December")

            # the Government announces 2027; the operator corrects the file and reloads
            config_copy(tmp, confirm_2027)
            after = len(d.read_log())
            assert d.ctl("config", "reload")["ok"]
            eq(d.call("status")["calendar_unconfirmed"], [], "confirmed by the reload")
            at(d, "2026-12-06T09:00")
            eq(warnings_in(d.read_log()[after:]), [], "no warning after the reload")

        # restarted on a later day with the file still unconfirmed: it says so at start-up
        cfg = config_copy(tmp)
        with Daemon(config=cfg, start_at="2026-12-02T09:00:00+07:00") as d:
            d.wait_log(WARNING)
            eq(len(warnings_in(d.read_log())), 1, "at start-up")
            eq([y["year"] for y in d.call("status")["calendar_unconfirmed"]], [2027], "status today")


# ------------------------------------------------------------------ 2. Monday deadlines

def test_reminder_before_a_monday_deadline_goes_on_the_friday_before():
    # KH-NAM-XA 2027 (the plan of a commune since the reform) is due Monday 1 March 2027. Its reminders: 10wd -> Mon 15/02 (the Tết days
    # 8-11/02 are not reached), 3wd -> Wed 24/02, and 1d -> Sunday 28/02, which moves back to
    # Friday 26/02: it used to leave on the due day itself, reading "còn 0 ngày".
    with Daemon(start_at="2027-02-01T09:00:00+07:00") as d:
        at(d, "2027-02-26T07:29:59")
        eq([(r["step"], local(r["moment"])) for r in outbox(d, "report = 'KH-NAM-XA' AND recipient = 'XA-ANNHONTAY-2025'")],
           [("r10wd", "2027-02-15T07:30:00"), ("r3wd", "2027-02-24T07:30:00")], "before Friday")
        at(d, "2027-02-26T07:30")
        (r,) = outbox(d, "report = 'KH-NAM-XA' AND recipient = 'XA-ANNHONTAY-2025' AND step = 'r1d'")
        eq((local(r["moment"]), local(r["sent_at"])), ("2027-02-26T07:30:00", "2027-02-26T07:30:00"), "Friday")
        body = text_of(read_eml(r["path"]))
        assert "Hạn nộp: 23 giờ 59 ngày 01/03/2027 (còn 3 ngày)." in body, body
        at(d, "2027-03-01T16:00")
        eq(outbox(d, "report = 'KH-NAM-XA' AND moment >= ?1", T("2027-02-27T00:00")), [], "nothing on the due day")
        assert not any("(còn 0 ngày)" in text_of(read_eml(r["path"])) for r in outbox(d, "report = 'KH-NAM-XA'")
                       if r["path"].endswith(".eml"))


# ------------------------------------------------------------------ 3. before the plan

def test_nothing_is_owed_for_a_date_before_the_plan():
    with Daemon(start_at="2024-03-10T09:00:00+07:00") as d:
        periods = [x["period"] for x in d.call("deadlines", report="KH-NAM")["deadlines"]]
        eq(periods[0], "2025", "KH-NAM starts with 2025")
        eq(d.call("obligations.list", report="KH-NAM")["count"], 0, "nothing owed in 2024")
        r = d.call("report.submit", files=(("ke-hoach.pdf", b"x"),), unit="XA-ANPHU", report="KH-NAM", period="2024")
        eq(r["error"]["code"], "unknown_period", r)
        for x in d.call("deadlines")["deadlines"]:
            assert x["due_date"] >= "2024-03-06", x
        at(d, "2025-01-02T09:00")
        eq(d.call("obligations.list", report="KH-NAM", period="2025")["count"], 33, "2025 is owed")

    with tempfile.TemporaryDirectory() as tmp:
        # a file that still owes KH-NAM for 1 March 2024 is refused, naming the line and the fix
        bad = config_copy(tmp, lambda t: t.replace('due = "03-01"; opens = "01-01"; first = 2025;',
                                                   'due = "03-01"; opens = "01-01"; first = 2024;'), "bad.cfg")
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", bad], capture_output=True, text=True)
        eq(p.returncode, 1, p.stdout + p.stderr)
        assert re.search(r"bad\.cfg:\d+: report KH-NAM: its first period 2024 is due 2024-03-01, before the movement"
                         r" starts \(movement\.starts = 2024-03-06\).*set yearly\.first = 2025", p.stderr), p.stderr

        # a database an older configuration filled (no movement.starts, KH-NAM from 2024):
        # those 33 obligations are waived with the reason at the reload, not left open forever
        old = config_copy(tmp, lambda t: t.replace('  starts = "2024-03-06";\n', "").replace(
            "first = 2025; last = 2030;", "first = 2024; last = 2030;"))
        with Daemon(config=old, start_at="2024-02-10T09:00:00+07:00") as d:
            eq(d.call("obligations.list", report="KH-NAM", period="2024", state="open")["count"], 33, "old file")
            at(d, "2024-03-10T09:00")
            config_copy(tmp)
            assert d.ctl("config", "reload")["ok"]
            obs = d.call("obligations.list", report="KH-NAM", period="2024")["obligations"]
            eq({o["state"] for o in obs}, {"waived"}, "waived")
            eq(len(obs), 33, "all of them")
            eq(obs[0]["reason"], "Không phát sinh nghĩa vụ: hạn nộp trước ngày bắt đầu phong trào 06/03/2024"
               " (Kế hoạch 1792/KH-UBND)", "reason")
            at(d, "2024-12-31T09:00")
            eq(outbox(d, "report = 'KH-NAM' AND moment > ?1", T("2024-03-10T09:00")), [], "no notice after")


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
        about = d.call("notifications.show", notification=own["id"])["notification"]["about"]
        eq([(a["unit"], a["state"]) for a in about], [("XA-TRUNGAN", "missing")], "the notice's obligation now")
