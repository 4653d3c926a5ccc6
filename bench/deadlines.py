#!/usr/bin/env python3
"""bench/deadlines - the deadline engine at national size.

Generates a configuration with 34 provinces, 3,300 communes and 30 reporting units under
each (about 102,000 units) and ten yearly report types that all of them owe: about
1,000,000 open obligations. Then, with the real clock, it measures:
  - start-up: time until the daemon answers, with the obligations created;
  - idle: the daemon's CPU seconds over 60 seconds with nothing due;
  - burst: one report type whose reminder falls two minutes after start makes 100,000
    reminders due at once: the time from that moment until all are in the outbox;
  - resident memory (VmRSS) idle and after the burst.
Figures, not pass/fail.  Usage: bench/deadlines.py [--idle SECONDS] [--units-per-commune N]
"""
import argparse
import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.join(ROOT, "bin"))
TZ = dt.timezone(dt.timedelta(hours=7))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as fp:
        f = fp.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as fp:
        for line in fp:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def write_config(path, per_commune, start_hhmm, today, burst_units):
    prov, communes = 34, 3300
    tomorrow = today + dt.timedelta(days=1)
    out = [f'daemon = {{ state_dir = "/var/lib/thidua"; }};',
           'calendar = { timezone = "Asia/Ho_Chi_Minh"; utc_offset = "+07:00"; weekend = [];',
           f'  working_hours = {{ start = "{start_hhmm}"; end = "23:59"; }}; holidays = (); }};',
           'levels = ( { code = "country"; name = "Cả nước"; }, { code = "province"; name = "Tỉnh, thành phố"; },',
           '  { code = "commune"; name = "Xã, phường"; }, { code = "unit"; name = "Đơn vị"; } );',
           'units = (',
           '  { code = "VN"; name = "Bộ Giáo dục và Đào tạo"; level = "country"; kind = "government"; },']
    n = 0
    for p in range(prov):
        out.append(f'  {{ code = "T{p:02d}"; name = "Sở GD&ĐT tỉnh {p}"; level = "province"; parent = "VN"; kind = "province"; }},')
    for c in range(communes):
        out.append(f'  {{ code = "X{c:04d}"; name = "Ủy ban nhân dân xã số {c}"; level = "commune"; parent = "T{c % prov:02d}"; kind = "commune"; }},')
        for k in range(per_commune):
            kind = "burst" if n < burst_units else "school"
            out.append(f'  {{ code = "X{c:04d}-{k:02d}"; name = "Trường học {k} xã {c}"; level = "unit"; parent = "X{c:04d}"; kind = "{kind}"; }},')
            n += 1
    out[-1] = out[-1].rstrip(",")
    out.append(");")
    out.append("report_types = (")
    types = []
    for t in range(9):
        due = today + dt.timedelta(days=40 + 7 * t)
        types.append(f'  {{ code = "BC-{t}"; name = "Báo cáo số {t}"; receiver = "VN";'
                     f' submitters = {{ kinds = [ "commune", "school", "burst" ]; }};'
                     f' once = {{ period = "{today.year}"; due = "{due.isoformat()}"; opens = "{today.isoformat()}"; }};'
                     f' reminders = [ "10wd", "1d" ]; escalation = ( {{ after = "1wd"; to = [ "self", "parent" ]; }} ); }}')
    # opens today, so its obligations exist now; its reminder falls today at start_hhmm
    types.append(f'  {{ code = "BURST"; name = "Báo cáo nhanh"; receiver = "VN";'
                 f' submitters = {{ kinds = [ "burst" ]; }};'
                 f' once = {{ period = "{today.year}"; due = "{tomorrow.isoformat()}"; opens = "{today.isoformat()}"; }};'
                 f' reminders = [ "1d" ]; }}')
    out.append(",\n".join(types))
    out.append(");")
    with open(path, "w", encoding="utf-8") as fp:
        fp.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=int, default=60)
    ap.add_argument("--units-per-commune", type=int, default=31)
    ap.add_argument("--burst", type=int, default=100000)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-deadlines-", dir=os.path.join(ROOT, "build"))
    proc = None
    try:
        now = dt.datetime.now(TZ)
        # the burst moment: the start of working hours, a few minutes from now
        startup_budget = dt.timedelta(minutes=3)
        moment = (now + startup_budget + dt.timedelta(seconds=a.idle)).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        if moment.date() != now.date():
            print("too close to midnight (Asia/Ho_Chi_Minh): run again later")
            return 1
        cfg = os.path.join(work, "national.cfg")
        write_config(cfg, a.units_per_commune, moment.strftime("%H:%M"), now.date(), a.burst)
        print(f"config: {cfg}; burst moment {moment.isoformat()}")
        state = os.path.join(work, "state")
        t0 = time.monotonic()
        log = open(os.path.join(work, "thiduad.log"), "wb")
        proc = subprocess.Popen([os.path.join(BIN, "thiduad"), "-c", cfg, "--state-dir", state], stdout=log, stderr=log)
        sock = os.path.join(state, "api.sock")
        while True:
            if proc.poll() is not None:
                print("thiduad exited:", open(log.name).read()[-3000:])
                return 1
            if os.path.exists(sock) and subprocess.run([os.path.join(BIN, "thiduactl"), "-e", f"ipc://{sock}",
                                                        "--timeout", "5", "status"], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        ready = time.monotonic() - t0
        db = sqlite3.connect(os.path.join(state, "thidua.db"), timeout=30)
        nobl = db.execute("SELECT count(*) FROM obligations WHERE state = 'open'").fetchone()[0]
        print(f"start-up with {nobl} open obligations: ready in {ready:.1f} s, RSS {rss_mb(proc.pid):.1f} MB")
        left = (moment - dt.datetime.now(TZ)).total_seconds()
        if left < a.idle + 5:
            print(f"start-up took too long for the idle window ({left:.0f} s left); the burst still runs")
        idle = min(a.idle, max(0, int(left) - 5))
        c0 = cpu_seconds(proc.pid)
        time.sleep(idle)
        c1 = cpu_seconds(proc.pid)
        print(f"idle: {c1 - c0:.3f} CPU seconds over {idle} s ({(c1 - c0) / max(idle, 1) * 60:.4f} per idle minute), RSS {rss_mb(proc.pid):.1f} MB")
        while dt.datetime.now(TZ) < moment:
            time.sleep(0.05)
        t_moment = time.time()
        done = None
        while time.time() - t_moment < 120:
            try:
                n = db.execute("SELECT count(*) FROM outbox WHERE report = 'BURST'").fetchone()[0]
            except sqlite3.OperationalError:
                n = 0
            if n >= a.burst:
                done = time.time() - t_moment
                break
            time.sleep(0.02)
        if done is None:
            print(f"burst: only {n} of {a.burst} reminders queued within 120 s")
        else:
            print(f"burst: {a.burst} reminders queued {done:.2f} s after their due moment")
        print(f"RSS after the burst: {rss_mb(proc.pid):.1f} MB")
        return 0
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
