#!/usr/bin/env python3
"""bench/logins - what password checks cost the daemon's single loop.

Starts thiduad (fake clock, the shipped configuration) and measures on the web socket:
  - one Argon2id check (crypto_pwhash_str_verify, opslimit 2, memlimit 19 MiB): the round
    trip of a successful session.login, median and range of --logins of them, beside the
    round trip of status for the floor;
  - bursts: N logins with wrong passwords sent at once from N addresses, and one
    report.submit on the api socket right after them: how long the submission waited, how
    many logins were checked and how many refused busy (login_throttled) at once;
  - thiduad's resident memory (VmRSS) and peak (VmHWM) before and after.
Figures, not pass/fail.  Usage: bench/logins.py [--logins N] [--bursts 60,250]
"""
import argparse
import json
import os
import statistics
import sys
import time

import zmq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "blackbox"))
from harness import Daemon  # noqa: E402

PASSWORD = "mật khẩu đo thử 2024"


def mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as fp:
        for line in fp:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) / 1024
    return f"VmRSS {out['VmRSS']:.1f} MB, VmHWM {out['VmHWM']:.1f} MB"


def web_socket(d, timeout_ms=60000):
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, timeout_ms)
    s.connect(f"ipc://{d.dir}/web.sock")
    return s


def call(s, req):
    s.send_multipart([b"", json.dumps(req).encode()])
    return json.loads(s.recv_multipart()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--logins", type=int, default=20)
    ap.add_argument("--bursts", default="60,250")
    a = ap.parse_args()
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        print(f"start: {mem(d.proc.pid)}")
        assert d.call("account.passwd", name="nguyen.thi.lan", password=PASSWORD)["ok"]
        s = web_socket(d)
        rtt, floor = [], []
        for i in range(a.logins):
            t = time.monotonic()
            r = call(s, {"op": "session.login", "name": "nguyen.thi.lan", "password": PASSWORD, "address": f"10.1.{i}.1"})
            rtt.append((time.monotonic() - t) * 1000)
            assert r["ok"], r
            t = time.monotonic()
            call(s, {"op": "status"})
            floor.append((time.monotonic() - t) * 1000)
        print(f"login (one Argon2id check): median {statistics.median(rtt):.1f} ms, {min(rtt):.1f} to {max(rtt):.1f} ms;"
              f" status: median {statistics.median(floor):.2f} ms")
        print(f"after logins: {mem(d.proc.pid)}")
        for n in (int(x) for x in a.bursts.split(",")):
            b = web_socket(d)
            for i in range(n):
                b.send_multipart([b"", json.dumps({"op": "session.login", "name": f"ten.{n}.{i}", "password": "x" * 12,
                                                   "address": f"10.{n % 250}.{i // 250}.{i % 250}"}).encode()])
            t = time.monotonic()
            r = d.call("report.submit", files=[("bao-cao.pdf", b"bench %d" % n)], unit="XA-ANPHU", report="BC-NAM",
                       period="2024")
            waited = (time.monotonic() - t) * 1000
            codes = [json.loads(b.recv_multipart()[-1])["error"]["code"] for _ in range(n)]
            total = (time.monotonic() - t) * 1000
            b.close()
            assert r["ok"], r
            print(f"burst of {n} logins: a submission answered in {waited:.0f} ms; {codes.count('login_failed')} checked,"
                  f" {codes.count('login_throttled')} refused busy; all answered in {total:.0f} ms")
        print(f"end: {mem(d.proc.pid)}")
        s.close()


if __name__ == "__main__":
    main()
