"""Issue 15: what a message says, on the shipped configuration with the fake clock (no
channel: each message is a file in the spool, an .eml for a unit with an address).

- the report and its period read as one writes them: "... năm 2024", "... quý I năm 2024",
  never "năm kỳ 2024";
- a message names the plan (movement.plan, movement.plan_name), the receiving office with
  its address, and how to submit (movement.how_to_submit, or the report type's own);
- every overdue notice and escalation of a report with a final cut-off states it;
- the message's code is a header (X-Thidua-Dedup-Key), not a line of the text; the Date
  is in +07:00;
- a compiled report (compiles = "BC-NAM"): its reminders say which units' reports are
  still missing, its receipt and completeness how many were missing when it was filed;
  the district's summary until 30 June 2025, the city's (BC-TONGHOP-TP) after.
"""
import email.utils
import os
from datetime import timedelta

from harness import Daemon, eq
from test_deadlines import (BC_NAM_2024, CUTOFF, GDDT, GDDT_TO, HOW, PLAN, at, config_names, outbox, query,
                            read_eml, submit, text_of)


def eml(row):
    m = read_eml(row["path"])
    eq(m["X-Thidua-Dedup-Key"], row["dedup_key"], "the code is in the header")
    eq(email.utils.parsedate_to_datetime(m["Date"]).utcoffset(), timedelta(hours=7), "Date in +07:00")
    assert m["Date"].endswith("+0700"), m["Date"]
    body = text_of(m)
    assert row["dedup_key"] not in body and "Mã thông báo" not in body, body
    return m, body


def test_messages_name_the_plan_the_office_and_how_to_submit_and_carry_the_code_in_a_header():
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-12-16T12:00")           # the whole 2024 ladder of BC-NAM, up to its lock
        rows = outbox(d, "report = 'BC-NAM'")
        assert rows, "messages"
        (r,) = [r for r in rows if r["recipient"] == "XA-TRUNGAN" and r["step"] == "r10wd"]
        m, body = eml(r)
        eq(str(m["Subject"]), f"[Nhắc hạn] {BC_NAM_2024} - hạn 15/11/2024", "subject")
        assert "năm kỳ" not in str(m["Subject"]) and "năm kỳ" not in body, body
        assert body.startswith("Kính gửi: Ủy ban nhân dân xã Trung An\n\n" + PLAN), body
        assert "Kế hoạch số 1792/KH-UBND" in body, body
        assert f"gửi báo cáo đúng hạn đến {GDDT_TO}.\n" + HOW in body, body
        assert "thiduactl" not in body and "qua hệ thống thidua" not in body, body
        # every overdue notice and escalation of a report taken late states the final cut-off,
        # names the office to send to with its address, and has no code in its text
        late = [r for r in rows if r["kind"] in ("overdue", "escalation")]
        eq({r["kind"] for r in late}, {"overdue", "escalation"}, "both kinds")
        for r in late:
            _, body = eml(r)
            assert CUTOFF.format(day="15/12/2024") in body, (r["dedup_key"], body)
            assert GDDT_TO in body and "1792/KH-UBND" in body, body
        for r in rows:
            eml(r)

    # a one-off quarterly period, and a report without late submissions (no cut-off line)
    with Daemon(start_at="2024-03-07T12:00:00+07:00") as d:
        at(d, "2024-04-10T12:00")
        rows = outbox(d, "report = 'BCD-2024'")
        (r,) = [r for r in rows if r["step"] == "r5wd"]
        m, body = eml(r)
        eq(str(m["Subject"]), "[Nhắc hạn] Tham mưu thành lập Ban Chỉ đạo phong trào thi đua cấp huyện quý I năm 2024"
           " - hạn 01/04/2024", "a quarter, due Sunday 31/3 -> Monday 1/4")
        assert "đến Ủy ban nhân dân huyện Củ Chi (thư điện tử: ubnd@cuchi.example.org).\n" in body, body
        for r in rows:
            if r["kind"] in ("overdue", "escalation"):
                assert "Hạn cuối nhận báo cáo nộp muộn" not in eml(r)[1], "no late_until_days: no cut-off"

    # after the reform: the new commune's reminder names the city's office and its address
    with Daemon(start_at="2025-10-25T12:00:00+07:00") as d:
        at(d, "2025-11-04T12:00")           # 10wd before Monday 17/11 (15/11 is a Saturday)
        (r,) = outbox(d, "report = 'BC-NAM-XA' AND recipient = 'XA-ANNHONTAY-2025' AND step = 'r10wd'")
        m, body = eml(r)
        eq(str(m["Subject"]), "[Nhắc hạn] Báo cáo kết quả thực hiện phong trào thi đua năm 2025 (xã, sau sắp xếp)"
           " - hạn 17/11/2025", "subject after the reform")
        assert ("đến Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh (thư điện tử: sgddt@hcmc.example.org).\n"
                in body), body


def summary_inputs(d, report, period, unit, at_time):
    """submit a compiled report and return its receipt"""
    at(d, at_time)
    return submit(d, unit, report=report, period=period)


def test_compiled_district_summary_counts_its_inputs_in_receipt_completeness_and_reminders():
    names = config_names()
    with Daemon(start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-05T09:00")
        submit(d, "XA-BINHMY")
        owe = sorted(o["unit"] for o in d.call("obligations.list", report="BC-NAM", period="2024")["obligations"])
        eq(len(owe), 33, "units owing BC-NAM 2024")
        missing = [u for u in owe if u != "XA-BINHMY"]
        # the 5wd reminder of the summary (Monday 25/11) says which reports are not in
        at(d, "2024-11-25T12:00")
        (r,) = outbox(d, "report = 'BC-TONGHOP' AND step = 'r5wd'")
        eq(r["recipient"], "CUCHI-GDDT", "to the office that compiles")
        m, body = eml(r)
        eq(str(m["Subject"]), "[Nhắc hạn] Báo cáo tổng hợp kết quả phong trào thi đua của huyện năm 2024 - hạn 02/12/2024",
           "subject")
        listed = ", ".join(f"{names[u]} ({u})" for u in missing[:10])
        line = f"Báo cáo của các đơn vị: đã nhận 1/33, còn thiếu 32: {listed} và 22 đơn vị khác.\n"
        assert line in body, body
        assert "đến Phòng Nội vụ huyện Củ Chi (thư điện tử: noivu@cuchi.example.org).\n" in body, body
        assert "Cách gửi: báo cáo tổng hợp có chữ ký, đóng dấu gửi Phòng Nội vụ" in body, "the type's own way"

        # filed on 26/11 with 32 of 33 missing: the receipt says so
        at(d, "2024-11-26T09:00")
        rc = submit(d, "CUCHI-GDDT", report="BC-TONGHOP")
        inputs = rc["inputs"]
        eq((inputs["report"], inputs["expected"], inputs["received"], inputs["missing"], inputs["more"]),
           ("BC-NAM", 33, 1, 32, 0), "inputs at filing")
        eq([u["unit"] for u in inputs["missing_units"]], missing, "the missing units")
        eq(inputs["missing_units"][0]["name"], names[missing[0]], "named")
        # later reports do not change what the receipt said
        at(d, "2024-11-27T09:00")
        submit(d, "XA-TRUNGAN")
        again = d.call("report.receipt", number=rc["number"])
        assert again["ok"], again
        eq(again["receipt"]["inputs"], inputs, "the receipt read again")
        c = d.call("completeness", report="BC-TONGHOP", period="2024")
        assert c["ok"], c
        (filed,) = c["inputs"]["at_filing"]
        eq((filed["unit"], filed["receipt"], filed["expected"], filed["received"], filed["missing"]),
           ("CUCHI-GDDT", rc["number"], 33, 1, 32), "completeness: missing when it was filed")
        eq(filed["filed_at"], "2024-11-26T09:00:00+07:00", "filed at")
        eq((c["inputs"]["now"]["received"], c["inputs"]["now"]["missing"]), (2, 31), "and now")
        # thiduactl shows the same
        rc_, out = d.ctl_raw("receipt", rc["number"])
        eq(rc_, 0, out)
        assert "BC-NAM: đã nhận (received) 1/33, còn thiếu (missing) 32" in out, out
        assert f"    {missing[0]}  {names[missing[0]]}\n" in out, out
        rc_, out = d.ctl_raw("completeness", "--report", "BC-TONGHOP", "--period", "2024")
        eq(rc_, 0, out)
        assert (f"Khi nộp (at filing) CUCHI-GDDT, {rc['number']}, 2024-11-26T09:00:00+07:00:"
                " BC-NAM: đã nhận (received) 1/33, còn thiếu (missing) 32\n") in out, out
        assert "Hiện nay (now): BC-NAM: đã nhận (received) 2/33, còn thiếu (missing) 31\n" in out, out
        # a report that compiles nothing has no inputs
        assert "inputs" not in d.call("completeness", report="BC-NAM", period="2024"), "BC-NAM compiles nothing"
        r = d.call("report.receipt", number=d.call("obligations.list", report="BC-NAM", period="2024",
                                                     unit="XA-BINHMY")["obligations"][0]["receipt"])
        assert "inputs" not in r["receipt"], r


def test_compiled_city_summary_after_the_reform_counts_the_new_communes():
    names = config_names()
    with Daemon(start_at="2025-10-25T12:00:00+07:00") as d:
        owe = sorted(o["unit"] for o in d.call("obligations.list", report="BC-NAM-XA", period="2025")["obligations"])
        assert "XA-ANNHONTAY-2025" in owe and "XA-BINHMY" not in owe, owe
        at(d, "2025-11-10T09:00")
        submit(d, "XA-ANNHONTAY-2025", report="BC-NAM-XA", period="2025")
        submit(d, "XA-THAIMY-2025", report="BC-NAM-XA", period="2025")
        missing = [u for u in owe if u not in ("XA-ANNHONTAY-2025", "XA-THAIMY-2025")]
        at(d, "2025-11-25T12:00")
        (r,) = outbox(d, "report = 'BC-TONGHOP-TP' AND step = 'r5wd'")
        eq(r["recipient"], "HCM-SGDDT", "to the city's office")
        m, body = eml(r)
        listed = ", ".join(f"{names[u]} ({u})" for u in missing[:10])
        more = f" và {len(missing) - 10} đơn vị khác" if len(missing) > 10 else ""
        assert (f"Báo cáo của các đơn vị: đã nhận 2/{len(owe)}, còn thiếu {len(missing)}: {listed}{more}.\n"
                in body), body
        rc = submit(d, "HCM-SGDDT", report="BC-TONGHOP-TP", period="2025")
        eq((rc["inputs"]["report"], rc["inputs"]["expected"], rc["inputs"]["received"], rc["inputs"]["missing"]),
           ("BC-NAM-XA", len(owe), 2, len(missing)), "the city's summary at filing")
        c = d.call("completeness", report="BC-TONGHOP-TP", period="2025")
        eq(c["inputs"]["at_filing"][0]["missing"], len(missing), "completeness")


def test_compiles_must_name_another_report_type():
    import subprocess
    import tempfile
    from harness import BIN
    from test_deadlines import config_copy
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config_copy(tmp, lambda text: text.replace('compiles = "BC-NAM";', 'compiles = "BC-NAMM";', 1))
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", cfg], capture_output=True, text=True)
        assert p.returncode != 0, p
        assert 'report BC-TONGHOP: compiles "BC-NAMM", which is not a report type of this file' in p.stderr, p.stderr
