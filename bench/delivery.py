#!/usr/bin/env python3
"""bench/delivery - webhook delivery throughput: thiduad + thidua-webhook against curl.

Issue 5, "Benchmark". Everything on 127.0.0.1, with a fast C receiver (bench/receiver.c,
built by 'make bench' into BUILD/bench/receiver) so that the receiver is not what is measured.

thidua side: a generated configuration with N units (default 10,000) of kind "school", each
with chats = [ "bench" ], a json channel "bench" to the receiver (rate 10000/s, burst 100000:
no pacing), one report type whose "1d" reminder falls for all of them at one moment, and
workers = ( { program = "thidua-webhook"; } ) with the worker's own default capacity. The
daemon runs with the fake clock; 'thiduactl clock set' to the reminder moment makes it queue
N outbox messages and fan them out into N deliveries, which it hands to the worker as jobs.
curl side: the very bodies the receiver got from thidua-webhook (N files), posted again by
one 'curl --parallel --parallel-max 64' with a -K config of N url/data-binary entries, to a
fresh receiver.

Both sides are timed the same two ways, by the receiver's clock (CLOCK_REALTIME, taken when
a post's last byte is read):
  - start -> last post: from the moment just before the side is started (thidua: before
    'thiduactl clock set', so the figure also holds the daemon deciding which reminders
    are due, writing the N outbox messages and rendering them; curl: before the curl
    process is started, so it holds curl reading its config and the N files) to the
    arrival of the last post. The headline figure and ratio.
  - first -> last post: the span of arrivals at the receiver, start-up excluded.
Per post, p50/p99 of arrival - start. The CPU seconds of every process are shown.

Figures, not pass/fail. Usage: bench/delivery.py [--units N] [--capacity C] [--workers W]
[--runs R] [--timeout S] [--keep]. With --runs R the two sides run R times, alternating,
and the best and median of each figure are printed as well (the machine may be busy with
something else). The state lives in a fresh directory under build/ (never /tmp, which may
be tmpfs where fsync costs nothing) and is removed at the end unless --keep.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import sqlite3
import statistics
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


def busy_seconds():
    """CPU seconds spent by the whole machine so far in processes (user, nice, system) and
    in steal; interrupt time is left out, as the processes' own figures leave it out"""
    with open("/proc/stat") as fp:
        f = [int(x) for x in fp.readline().split()[1:]]
    return (f[0] + f[1] + f[2] + (f[7] if len(f) > 7 else 0)) / os.sysconf("SC_CLK_TCK")


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
    """returns (start -> last post s, latencies ms sorted, facts dict) or None"""
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
        busy0 = busy_seconds()

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
        facts["others"] = busy_seconds() - busy0 - sum(facts["cpu"].values())
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
        facts["span"] = (lat[-1] - lat[0]) / 1e3 if lat else float("nan")
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


def curl_side(a, work, bodies, tag):
    """the same bodies by curl --parallel; returns a dict of figures or None"""
    rx = Receiver(work, f"curl{tag}")
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
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy0, rx0 = busy_seconds(), cpu_seconds(rx.proc.pid)
        t0 = time.time_ns()
        m0 = time.monotonic()
        p = subprocess.Popen(["curl", "--parallel", "--parallel-max", "64", "-s", "--no-progress-meter",
                              "-K", kfile], stdout=subprocess.DEVNULL, stderr=err)
        try:
            rc = p.wait(a.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            print(f"curl: not done within {a.timeout} s")
            return None
        wall = time.monotonic() - m0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy1, rx1 = busy_seconds(), cpu_seconds(rx.proc.pid)
        err.close()
        n, first, last = rx.count()
        if rc != 0:
            print(f"curl: exit status {rc}: {open(err.name, errors='replace').read()[-500:]}")
        if n < len(files):
            print(f"curl: only {n} of {len(files)} posts arrived")
            return None
        rows = rx.stop()
        lat = sorted((ns - t0) / 1e6 for _, ns, _ in rows)
        c = {"posts": len(files), "received": n, "elapsed": (last - t0) / 1e9, "span": (last - first) / 1e9,
                "wall": wall, "lat": lat, "first_ms": (first - t0) / 1e6,
                "cpu": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), "rx_cpu": rx1 - rx0}
        c["others"] = busy1 - busy0 - c["cpu"] - c["rx_cpu"]
        return c
    finally:
        rx.stop()


def one_run(a, work, tag):
    """one thidua side and one curl side on the same bodies; returns the figures or None"""
    rx = Receiver(work, f"thidua{tag}", keep_bodies=True)
    try:
        res = thidua_side(a, work, rx)
    finally:
        rx.stop()
    if res is None:
        return None
    elapsed, lat, facts = res
    rate = a.units / elapsed
    print(f"thidua-webhook: {a.units} posts, start -> last post {elapsed:.3f} s = {rate:.0f}/s; "
          f"first -> last post {facts['span']:.3f} s = {a.units / facts['span']:.0f}/s")
    print(f"  arrival - start: first post {facts['first_ms']:.0f} ms, p50 {pct(lat, 50):.0f} ms, "
          f"p99 {pct(lat, 99):.0f} ms ('thiduactl clock set', which makes the {facts.get('outbox')} outbox "
          f"messages, answered after {facts['clock_set'] * 1000:.0f} ms)")
    cpu = facts["cpu"]
    print(f"  CPU seconds: thiduad {cpu[facts['daemon_pid']]:.2f}, thidua-webhook "
          + "+".join(f"{cpu[p]:.2f}" for p in facts["worker_pids"])
          + f", receiver {cpu[facts['rx_pid']]:.2f}, other processes {facts['others']:.2f}"
          f"; worker capacity {facts['capacity']}")
    print(f"  posts {facts['posts']} ({facts['unique_ids']} distinct webhook-ids, "
          f"{facts['body_bytes']:.0f} bytes of body on average); deliveries by state "
          f"{facts.get('deliveries')}, by attempts {facts.get('attempts')}")
    c = curl_side(a, work, rx.bodies, tag)
    if c is None:
        return None
    crate = c["posts"] / c["elapsed"]
    print(f"curl --parallel 64: {c['posts']} posts, start -> last post {c['elapsed']:.3f} s = {crate:.0f}/s; "
          f"first -> last post {c['span']:.3f} s = {c['posts'] / c['span']:.0f}/s")
    print(f"  arrival - start: first post {c['first_ms']:.0f} ms, p50 {pct(c['lat'], 50):.0f} ms, "
          f"p99 {pct(c['lat'], 99):.0f} ms; process wall time {c['wall']:.3f} s")
    print(f"  CPU seconds: curl {c['cpu']:.2f}, receiver {c['rx_cpu']:.2f}, other processes {c['others']:.2f}")
    r1, r2 = rate / crate, (a.units / facts["span"]) / (c["posts"] / c["span"])
    print(f"ratio: {r1:.2f} (start -> last post); {r2:.2f} (first -> last post)")
    shutil.rmtree(rx.bodies, ignore_errors=True)
    return {"thidua": rate, "curl": crate, "ratio": r1, "thidua_span": a.units / facts["span"],
            "curl_span": c["posts"] / c["span"], "ratio_span": r2}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=10000, help="posts (units with the chat channel)")
    ap.add_argument("--capacity", type=int, default=0, help="thidua-webhook -c (default: its own, 256)")
    ap.add_argument("--workers", type=int, default=1, help="count of thidua-webhook processes")
    ap.add_argument("--runs", type=int, default=1, help="run both sides this many times")
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
    runs = []
    try:
        for r in range(a.runs):
            if a.runs > 1:
                print(f"-- run {r + 1} of {a.runs}")
            sub = os.path.join(work, f"run{r + 1}")
            os.makedirs(sub)
            res = one_run(a, sub, "")
            if res is None:
                return 0
            runs.append(res)
        if len(runs) > 1:
            med = lambda k: statistics.median(x[k] for x in runs)
            best = lambda k: max(x[k] for x in runs)
            print(f"-- {len(runs)} runs, start -> last post: thidua-webhook best {best('thidua'):.0f}/s, median "
                  f"{med('thidua'):.0f}/s; curl best {best('curl'):.0f}/s, median {med('curl'):.0f}/s; "
                  f"ratio best {best('ratio'):.2f}, median {med('ratio'):.2f}")
            print(f"-- first -> last post: thidua-webhook best {best('thidua_span'):.0f}/s, median "
                  f"{med('thidua_span'):.0f}/s; curl best {best('curl_span'):.0f}/s, median {med('curl_span'):.0f}/s; "
                  f"ratio best {best('ratio_span'):.2f}, median {med('ratio_span'):.2f}")
        return 0
    finally:
        if a.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
