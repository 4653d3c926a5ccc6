#!/usr/bin/env python3
"""bench/delivery - webhook delivery throughput: thiduad + thidua-webhook against curl.

Issue 5, "Benchmark". Everything on 127.0.0.1, with a fast C receiver (bench/receiver.c,
built by 'make bench' into BUILD/bench/receiver) so that the receiver is not what is measured.

thidua side: a generated configuration with N units (default 10,000) of kind "school", each
with chats = [ "bench" ], a json channel "bench" to the receiver (rate 10000/s, burst 100000:
no pacing), one report type whose "1d" reminder falls for all of them at one moment, and
workers = ( { program = "thidua-webhook"; } ). The daemon runs with the fake clock;
'thiduactl clock set' to the reminder moment makes it queue N outbox messages and fan them
out into N deliveries, which it hands to the worker as jobs. Measured:
  - T0: the real time (CLOCK_REALTIME) just before 'thiduactl clock set' is started;
  - the time until the receiver has N posts: rate = N / (arrival of the last post - T0);
  - per post, arrival - T0: the real time from the moment the outbox messages are made
    (they are all made inside that one clock set request, whose own duration is shown
    too) to the post's arrival at the receiver; p50 and p99 of those. The outbox's
    created_at is in fake-clock seconds and is of no use here.
curl side: the very bodies the receiver got from thidua-webhook (N files), posted again by
one 'curl --parallel --parallel-max 64' with a -K config of N url/data-binary entries,
to a fresh receiver: rate = N / the wall time of the curl process.

Figures, not pass/fail. Usage: bench/delivery.py [--units N] [--capacity C] [--workers W]
[--timeout S] [--keep]. The state lives in a fresh directory under build/ (never /tmp,
which may be tmpfs where fsync costs nothing) and is removed at the end unless --keep.
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import http.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BIN", os.path.join(ROOT, "bin"))
BUILD = os.environ.get("BUILD", os.path.join("build", "normal"))
if not os.path.isabs(BIN):
    BIN = os.path.join(ROOT, BIN)
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
RECEIVER = os.path.join(BUILD, "bench", "receiver")

START = "2024-11-10T12:00:00+07:00"      # the fake clock at start
MOMENT = "2024-11-19T00:00:00+07:00"     # the "1d" reminder of a report due 2024-11-20
SECRET = "whsec_dGhpZHVhLWJlbmNoLXNlY3JldC1rZXktMDEyMzQ1Njc4OQ=="


def write_config(path, state, port, units, capacity, workers):
    args = f' args = [ "-c", "{capacity}" ];' if capacity else ""
    count = f" count = {workers};" if workers != 1 else ""
    out = [
        'movement = { name = "Benchmark"; plan = "bench/delivery"; };',
        f'daemon = {{ state_dir = "{state}"; }};',
        'calendar = { timezone = "Asia/Ho_Chi_Minh"; utc_offset = "+07:00"; weekend = [];',
        '  working_hours = { start = "00:00"; end = "23:59"; }; holidays = (); };',
        'levels = ( { code = "country"; name = "Cả nước"; }, { code = "unit"; name = "Đơn vị"; } );',
        'units = (',
        '  { code = "VN"; name = "Bộ Giáo dục và Đào tạo"; level = "country"; kind = "government"; },',
    ]
    for i in range(units):
        sep = "," if i + 1 < units else ""
        out.append(f'  {{ code = "TH-{i:05d}"; name = "Trường Tiểu học số {i}"; level = "unit"; parent = "VN";'
                   f' kind = "school"; chats = [ "bench" ]; }}{sep}')
    out += [
        ');',
        'report_types = (',
        '  { code = "BENCH"; name = "Báo cáo kết quả thực hiện phong trào thi đua"; receiver = "VN";',
        '    submitters = { kinds = [ "school" ]; };',
        '    once = { period = "2024"; due = "2024-11-20"; opens = "2024-11-01"; };',
        '    reminders = [ "1d" ]; }',
        ');',
        'channels = (',
        f'  {{ name = "bench"; kind = "json"; url = "http://127.0.0.1:{port}/hook"; secret = "{SECRET}";',
        '    rate = 10000.0; burst = 100000; }',
        ');',
        f'workers = ( {{ program = "thidua-webhook";{count}{args} }} );',
    ]
    with open(path, "w", encoding="utf-8") as fp:
        fp.write("\n".join(out) + "\n")
    os.chmod(path, 0o640)    # it holds the channel secret


class Receiver:
    """bench/receiver as a child process: port, GET /count, stop (writes the records)."""

    def __init__(self, work, name, keep_bodies=False):
        self.records = os.path.join(work, f"{name}.tsv")
        self.bodies = os.path.join(work, f"{name}-bodies") if keep_bodies else None
        cmd = [RECEIVER, "-o", self.records]
        if self.bodies:
            os.makedirs(self.bodies)
            cmd += ["-b", self.bodies]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "port":
            raise RuntimeError(f"the receiver did not start: {line}")
        self.port = int(line[1])
        self.conn = None

    def count(self):
        """(posts, first arrival ns, last arrival ns)"""
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.conn.request("GET", "/count")
                n, first, last = (int(x) for x in self.conn.getresponse().read().split())
                return n, first, last
            except (OSError, http.client.HTTPException):
                self.conn = None
        raise RuntimeError("the receiver does not answer")

    def stop(self):
        """SIGTERM; returns [(webhook-id, arrival_ns, body bytes)]"""
        if self.conn:
            self.conn.close()
            self.conn = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rows = []
        if os.path.exists(self.records):
            with open(self.records) as fp:
                for line in fp:
                    i, ns, blen = line.rstrip("\n").split("\t")
                    rows.append((i, int(ns), int(blen)))
        return rows


def ctl(state, *args, timeout=130):
    p = subprocess.run([os.path.join(BIN, "thiduactl"), "-e", f"ipc://{state}/api.sock", "--timeout",
                        str(timeout), "--json"] + list(args), capture_output=True, timeout=timeout + 10)
    out = p.stdout.decode("utf-8", "replace")
    try:
        reply = json.loads(out) if out.strip() else None
    except ValueError:
        reply = None
    return p.returncode, reply, out + p.stderr.decode("utf-8", "replace")


def pct(sorted_vals, p):
    """nearest-rank percentile"""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as fp:
            f = fp.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def stop_proc(proc, timeout=20):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def thidua_side(a, work, rx):
    """returns (elapsed s, latencies ms sorted, facts dict) or None"""
    state = os.path.join(work, "state")
    cfg = os.path.join(work, "delivery.cfg")
    write_config(cfg, state, rx.port, a.units, a.capacity, a.workers)
    log = open(os.path.join(work, "thiduad.log"), "wb")
    proc = subprocess.Popen([os.path.join(BIN, "thiduad"), "-c", cfg, "--state-dir", state,
                             f"--fake-clock={START}"], stdout=log, stderr=log)
    worker_pids = []
    facts = {}
    try:
        t_start = time.monotonic()
        while True:
            if proc.poll() is not None:
                print("delivery: thiduad exited:\n" + open(log.name, errors="replace").read()[-3000:])
                return None
            if time.monotonic() - t_start > a.timeout:
                print(f"delivery: thiduad not ready with its workers within {a.timeout} s")
                return None
            if os.path.exists(os.path.join(state, "api.sock")):
                rc, st, _ = ctl(state, "status", timeout=5)
                if rc == 0 and st:
                    ws = [w for w in st.get("workers", []) if w.get("kind") == "webhook"]
                    if len(ws) >= a.workers:
                        worker_pids = [w["pid"] for w in ws]
                        facts["capacity"] = sum(w["capacity"] for w in ws)
                        break
            time.sleep(0.05)
        facts["startup"] = time.monotonic() - t_start
        cpu0 = {p: cpu_seconds(p) for p in [proc.pid] + worker_pids + [rx.proc.pid]}

        t0 = time.time_ns()
        m0 = time.monotonic()
        rc, _, out = ctl(state, "clock", "set", MOMENT)
        facts["clock_set"] = time.monotonic() - m0
        if rc != 0:
            print(f"delivery: thiduactl clock set failed: {out}")
            return None
        n = last = 0
        while time.monotonic() - m0 < a.timeout:
            n, _, last = rx.count()
            if n >= a.units:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        facts["cpu"] = {p: cpu_seconds(p) - c for p, c in cpu0.items()}
        facts["daemon_pid"], facts["worker_pids"], facts["rx_pid"] = proc.pid, worker_pids, rx.proc.pid
        if n < a.units:
            print(f"thidua-webhook: only {n} of {a.units} posts within {a.timeout} s")
            return None
        elapsed = (last - t0) / 1e9
        # a little more time for the last results to reach the database, then its view
        time.sleep(0.5)
        stop_proc(proc)
        proc = None
        try:
            db = sqlite3.connect(f"file:{state}/thidua.db?mode=ro", uri=True, timeout=10)
            facts["outbox"] = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
            facts["deliveries"] = dict(db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
            facts["attempts"] = dict(db.execute("SELECT attempts, count(*) FROM deliveries GROUP BY attempts").fetchall())
            db.close()
        except sqlite3.Error as e:
            facts["db_error"] = str(e)
        rows = rx.stop()
        lat = sorted((ns - t0) / 1e6 for _, ns, _ in rows)
        facts["posts"] = len(rows)
        facts["unique_ids"] = len({i for i, _, _ in rows})
        facts["body_bytes"] = sum(b for _, _, b in rows) / max(len(rows), 1)
        facts["first_ms"] = lat[0] if lat else float("nan")
        return elapsed, lat, facts
    finally:
        stop_proc(proc)
        log.close()
        for p in worker_pids:    # stopped by thiduad; a leftover one only if it was killed
            if alive(p):
                try:
                    os.kill(p, signal.SIGTERM)
                except OSError:
                    pass


def curl_side(a, work, bodies):
    """the same bodies by curl --parallel; returns (wall s, posts received, span s) or None"""
    rx = Receiver(work, "curl")
    try:
        files = sorted(os.listdir(bodies))
        if not files:
            print("curl: no bodies to post")
            return None
        url = f"http://127.0.0.1:{rx.port}/hook"
        kfile = os.path.join(work, "curl.cfg")
        with open(kfile, "w") as fp:
            blocks = []
            for i, f in enumerate(files):
                blocks.append(f'url = "{url}"\noutput = "/dev/null"\nheader = "Content-Type: application/json"\n'
                              f'header = "webhook-id: curl-{i}"\ndata-binary = "@{os.path.join(bodies, f)}"\n')
            fp.write("next\n".join(blocks))
        err = open(os.path.join(work, "curl.err"), "wb")
        t = time.monotonic()
        p = subprocess.Popen(["curl", "--parallel", "--parallel-max", "64", "-s", "--no-progress-meter",
                              "-K", kfile], stdout=subprocess.DEVNULL, stderr=err)
        try:
            rc = p.wait(a.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            print(f"curl: not done within {a.timeout} s")
            return None
        wall = time.monotonic() - t
        err.close()
        n, first, last = rx.count()
        if rc != 0:
            print(f"curl: exit status {rc}: {open(err.name, errors='replace').read()[-500:]}")
        return wall, n, (last - first) / 1e9, len(files)
    finally:
        rx.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=10000, help="posts (units with the chat channel)")
    ap.add_argument("--capacity", type=int, default=0, help="thidua-webhook -c (default: its own, 64)")
    ap.add_argument("--workers", type=int, default=1, help="count of thidua-webhook processes")
    ap.add_argument("--timeout", type=float, default=120, help="give up after this many seconds per side")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (state, logs, bodies)")
    a = ap.parse_args()

    print("== bench/delivery: webhook posts per second, thidua-webhook against curl --parallel ==")
    for f in (os.path.join(BIN, "thiduad"), os.path.join(BIN, "thiduactl"), os.path.join(BIN, "thidua-webhook"),
              RECEIVER):
        if not os.access(f, os.X_OK):
            print(f"delivery: {f} is missing; run 'make bench'")
            return 0
    if not shutil.which("curl"):
        print("delivery: curl is missing (make deps)")
        return 0
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-delivery-", dir=os.path.join(ROOT, "build"))
    rx = None
    try:
        rx = Receiver(work, "thidua", keep_bodies=True)
        res = thidua_side(a, work, rx)
        rx.stop()
        if res is None:
            return 0
        elapsed, lat, facts = res
        rate = a.units / elapsed
        print(f"thidua-webhook: {a.units} posts in {elapsed:.2f} s = {rate:.0f}/s; "
              f"p50 outbox->delivery {pct(lat, 50):.0f}ms p99 {pct(lat, 99):.0f}ms")
        print(f"  (outbox->delivery: real time from just before 'thiduactl clock set', which makes the "
              f"{facts.get('outbox')} outbox messages and their deliveries in one request of "
              f"{facts['clock_set'] * 1000:.0f} ms, to each post's arrival at the receiver; first post at "
              f"{facts['first_ms']:.0f} ms)")
        cpu = facts["cpu"]
        print(f"  CPU seconds during the run: thiduad {cpu[facts['daemon_pid']]:.2f}, thidua-webhook "
              + "+".join(f"{cpu[p]:.2f}" for p in facts["worker_pids"])
              + f", receiver {cpu[facts['rx_pid']]:.2f}; worker capacity {facts['capacity']}")
        print(f"  posts {facts['posts']} ({facts['unique_ids']} distinct webhook-ids, "
              f"{facts['body_bytes']:.0f} bytes of body on average); deliveries by state "
              f"{facts.get('deliveries')}, by attempts {facts.get('attempts')}")
        c = curl_side(a, work, rx.bodies)
        if c is None:
            return 0
        wall, n, span, nfiles = c
        rate2 = nfiles / wall
        print(f"curl --parallel 64: {nfiles} posts in {wall:.2f} s = {rate2:.0f}/s")
        print(f"  ({n} received; first to last arrival {span:.2f} s)")
        print(f"ratio: {rate / rate2:.2f}")
        return 0
    finally:
        if rx:
            rx.stop()
        if a.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
