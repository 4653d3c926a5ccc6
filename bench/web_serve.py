#!/usr/bin/env python3
"""bench/web_serve.py - thidua-web while serving: N logged-in sessions asking for the
obligations page at once for some seconds, then a 25 MiB upload in the middle of that load.
Prints requests per second, p50/p99 latency, and the resident memory of thidua-web (peak,
and its anonymous part) and of thiduad, sampled every 50 ms. Figures, not pass/fail.

  bench/web_serve.py [--sessions 50] [--seconds 10]   (THIDUA_BIN: the programs, default bin/)
"""
import argparse
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "blackbox"))
os.environ.setdefault("THIDUA_BIN", os.path.join(HERE, "..", "bin"))

from webclient import Browser, Gateway, daemon_with_accounts  # noqa: E402

PW = "mật khẩu của Lan 2024"


def rss(pid):
    with open(f"/proc/{pid}/status") as fp:
        t = fp.read()
    return {k: int(re.search(rf"{k}:\s+(\d+)", t).group(1)) for k in ("VmRSS", "RssAnon", "RssFile")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="thidua-bench-web-")
    # one principal for every session: its request rate is not what is measured here
    d = daemon_with_accounts(tmp, "2024-11-10T09:00:00+07:00", {"nguyen.thi.lan": PW},
                             replace=(('state_dir = "/var/lib/thidua";',
                                       'state_dir = "/var/lib/thidua"; requests_per_second = 0;'),))
    g = Gateway(d, ("-t", "4", "--trust-proxy"))   # as behind nginx: no per-address connection limit
    peak = {"web": {}, "daemon": {}}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for name, pid in (("web", g.proc.pid), ("daemon", d.proc.pid)):
                for k, v in rss(pid).items():
                    peak[name][k] = max(peak[name].get(k, 0), v)
            time.sleep(0.05)

    try:
        idle = rss(g.proc.pid)
        browsers = []
        for _ in range(a.sessions):
            b = Browser(g.port)
            while b.login("nguyen.thi.lan", PW).status != 303:   # logins are paced per turn
                time.sleep(0.05)
            browsers.append(b)
        sampler = threading.Thread(target=sample)
        sampler.start()
        lat, errors = [], []
        lock = threading.Lock()
        end = time.monotonic() + a.seconds

        def client(b):
            mine = []
            while time.monotonic() < end:
                t0 = time.monotonic()
                try:
                    r = b.get("/viec-can-lam")
                except OSError as e:
                    errors.append(repr(e))
                    continue
                if r.status != 200:
                    errors.append(r.status)
                mine.append(time.monotonic() - t0)
            with lock:
                lat.extend(mine)

        threads = [threading.Thread(target=client, args=(b,)) for b in browsers]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(a.seconds / 3)
        pages_only = dict(peak["web"])
        up = Browser(g.port)
        up.login("nguyen.thi.lan", PW)
        data = os.urandom(1 << 20) * 25
        u0 = time.monotonic()
        r = up.post_multipart("/nop/XA-ANPHU/BC-NAM/2024", {"csrf": up.csrf()}, [("tep", "25MiB.bin", data)])
        upload_s = time.monotonic() - u0
        assert r.status == 303, r.text[:500]
        number = r.header("Location").split("/")[2].split("?")[0]
        got = d.call("report.receipt", number=number)["receipt"]["files"][0]["sha256"]
        assert got == hashlib.sha256(data).hexdigest()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        stop.set()
        sampler.join()
        after = rss(g.proc.pid)
        lat.sort()
        print(f"sessions {a.sessions}, {len(lat)} requests of /viec-can-lam in {wall:.1f} s: "
              f"{len(lat) / wall:.0f} req/s, p50 {lat[len(lat) // 2] * 1000:.1f} ms, "
              f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms")
        print(f"failed requests: {len(errors)} {sorted(set(map(str, errors)))[:5]}")
        print(f"25 MiB upload under that load: acknowledged (durable) in {upload_s:.2f} s, SHA-256 checked")
        print(f"thidua-web RSS serving pages only (before the upload): peak {pages_only['VmRSS']} KiB "
              f"(anon {pages_only['RssAnon']}, file {pages_only['RssFile']})")
        print(f"thidua-web RSS: idle {idle['VmRSS']} KiB (anon {idle['RssAnon']}); peak while serving "
              f"{peak['web']['VmRSS']} KiB (anon {peak['web']['RssAnon']}, file {peak['web']['RssFile']}); "
              f"after {after['VmRSS']} KiB (anon {after['RssAnon']})")
        print(f"thiduad RSS peak: {peak['daemon']['VmRSS']} KiB (anon {peak['daemon']['RssAnon']})")
        warnings = [l for l in g.read_log().splitlines() if "[warning]" in l or "[error]" in l]
        print(f"thidua-web log: {len(warnings)} warnings or errors" + "".join("\n  " + l for l in warnings[:5]))
    finally:
        stop.set()
        g.close()
        d.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
