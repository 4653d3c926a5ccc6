#!/usr/bin/env python3
"""bench/web - thidua-web against nginx, on loopback, in the same run.

  1. 200 logged-in sessions (200 keep-alive connections, each with its own session cookie)
     ask for the clerk's obligations page (/viec-can-lam) for S seconds, then the office's
     completeness page (/tong-hop); then a private nginx (Debian's nginx-light, from a
     temporary prefix) serves a static file of exactly the same size to the same 200
     connections from the same client: requests per second, p50 and p99, and the ratio.
     The client is bench/webload.c (C, one epoll loop): nginx's figure with it shows how far
     past thidua-web's figure the client itself goes.
  2. A 25 MiB upload through thidua-web by curl, timed from the request's first byte to the
     receipt (report.submit has the files on disk, fsynced, before it answers), against
     `dd conv=fsync` writing the same bytes into the daemon's state directory (same disk),
     alternated: dd, upload, dd, ... dd; each upload against the mean of the dd before it and
     the dd after it, the median of 7.
  3. Resident memory: thidua-web's peak while serving the 200 sessions (target <= 10 MB),
     thiduad's peak during the 25 MiB upload (target <= 64 MB), sampled every 10 ms.

Figures, not pass/fail.  bench/web.py [--sessions 200] [--seconds 5] [--threads 4] [--uploads 7]
(BUILD: where bench/webload was built, default build/normal; THIDUA_BIN: bin/)
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "blackbox"))
os.environ.setdefault("THIDUA_BIN", os.path.join(ROOT, os.environ.get("BIN", "bin")))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build", "normal"))

from harness import free_port  # noqa: E402
from webclient import Browser, Gateway, daemon_with_accounts  # noqa: E402

START = "2024-11-10T09:00:00+07:00"
CLERK, CLERK_PW = "nguyen.thi.lan", "mật khẩu của Lan 2024"
OFFICE, OFFICE_PW = "tran.van.binh", "mật khẩu phòng GD 2024"
MiB = 1 << 20


def rss_kib(pid, what="VmRSS"):
    with open(f"/proc/{pid}/status") as fp:
        return int(re.search(what + r":\s+(\d+)", fp.read()).group(1))


class Peak:
    """the peak VmRSS of a process, sampled every 10 ms while running"""

    def __init__(self, pid):
        self.pid, self.peak, self.anon, self.stop = pid, 0, 0, threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
                self.anon = max(self.anon, rss_kib(self.pid, "RssAnon"))
            except OSError:
                return
            time.sleep(0.01)

    def __enter__(self):
        self.peak = rss_kib(self.pid)
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join()


def login(d, name, password, i):
    import zmq
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 60000)
    s.connect(f"ipc://{d.dir}/web.sock")
    try:
        s.send_multipart([b"", json.dumps({"op": "session.login", "name": name, "password": password,
                                           "address": f"10.0.{i // 250}.{i % 250 + 1}"}).encode()])
        r = json.loads(s.recv_multipart()[1])
    finally:
        s.close()
    assert r["ok"], r
    return r["session"]


def load(port, conns, seconds, path, cookies=None):
    cmd = [os.path.join(BUILD, "bench", "webload"), "-p", str(port), "-c", str(conns), "-s", str(seconds)]
    if cookies:
        cmd += ["-k", cookies]
    import resource
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd + [path], capture_output=True, text=True, check=True).stdout
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    x = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", out)}
    # the client's own CPU, as a share of one CPU over the run: it is not the bottleneck
    # while this stays well under 100%
    x["client_cpu"] = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / x["seconds"]
    return x


def nginx(tmp, files):
    """a private nginx on a free loopback port serving files {name: size}; (proc, port)"""
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = os.path.join(tmp, "nginx")
    www = os.path.join(prefix, "www")
    os.makedirs(www)
    os.makedirs(os.path.join(prefix, "tmp"))
    os.makedirs(os.path.join(prefix, "logs"))
    for name, size in files.items():
        with open(os.path.join(www, name), "wb") as fp:
            fp.write(b"x" * size)
    for p in (tmp, prefix, www):
        os.chmod(p, 0o755)      # its workers run as nobody when started as root
    port = free_port()
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as fp:
        fp.write(f"""worker_processes 2;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    default_type text/html;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location / {{ add_header Cache-Control no-store; }}
    }}
}}
""")
    proc = subprocess.Popen([nginx_bin, "-p", prefix, "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(prefix, "logs", "stderr"), "wb"))
    wait_http_any(port, proc)
    return proc, port


def wait_http_any(port, proc, timeout=20):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"nginx exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit("nginx does not answer")


def curl_upload(port, cookie, csrf, src, name):
    """the upload as a browser sends it, by curl (streamed from the file; Python's http.client
    alone takes 0.3 s to send 25 MiB here): (status, seconds by curl's clock, Location)"""
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-H", "Expect:", "-b", cookie,
                          "-F", f"csrf={csrf}", "-F", f"tep=@{src};filename={name};type=application/octet-stream",
                          "-w", "%{http_code} %{time_total} %{redirect_url}",
                          f"http://127.0.0.1:{port}/nop/XA-ANPHU/BC-NAM/2024"],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1]), out[2] if len(out) > 2 else ""


def body_size(b, path):
    r = b.get(path)
    assert r.status == 200, (path, r.status, r.text[:300])
    return len(r.body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--uploads", type=int, default=7, help="25 MiB uploads through thidua-web, alternated with dd (median)")
    a = ap.parse_args()
    if not os.access(os.path.join(BUILD, "bench", "webload"), os.X_OK):
        raise SystemExit(f"build {BUILD}/bench/webload first: make {BUILD}/bench/webload")
    tmp = tempfile.mkdtemp(prefix="thidua-bench-web-")
    d = daemon_with_accounts(tmp, START, {CLERK: CLERK_PW, OFFICE: OFFICE_PW},
                             replace=(('state_dir = "/var/lib/thidua";',
                                       'state_dir = "/var/lib/thidua"; requests_per_second = 0;'),))
    # --trust-proxy: as behind nginx, where every connection comes from one address (without
    # it libmicrohttpd keeps at most 64 connections per address)
    g = Gateway(d, ("-t", str(a.threads), "--trust-proxy", "--max-connections", str(a.sessions + 56)))
    ng = None
    try:
        print(f"bench/web: thidua-web ({a.threads} threads) and nginx (2 workers) on loopback, "
              f"{a.sessions} keep-alive connections, {a.seconds:g} s each, client bench/webload.c; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
        # the sessions: logged in through the daemon's web socket, as the gateway would
        t0 = time.monotonic()
        cookies = {}
        for who, name, pw in (("clerk", CLERK, CLERK_PW), ("office", OFFICE, OFFICE_PW)):
            path = os.path.join(tmp, who + ".cookies")
            with open(path, "w") as fp:
                for i in range(a.sessions):
                    fp.write(f"thidua_session={login(d, name, pw, i)}\n")
            cookies[who] = path
        print(f"{2 * a.sessions} logins (Argon2id each) in {time.monotonic() - t0:.1f} s")
        # a receipt on the completeness page, so that its chart has every colour of a day
        clerk = Browser(g.port)
        clerk.login(CLERK, CLERK_PW)
        r = clerk.post_multipart("/nop/XA-ANPHU/BC-NAM/2024", {"csrf": clerk.csrf()},
                                 [("tep", "bao-cao.pdf", b"%PDF-1.4\n" + b"0" * 4000)])
        assert r.status == 303, r.text[:500]
        office = Browser(g.port)
        office.login(OFFICE, OFFICE_PW)
        pages = {"/viec-can-lam": ("clerk", body_size(clerk, "/viec-can-lam")),
                 "/tong-hop": ("office", body_size(office, "/tong-hop"))}
        ng, ngport = nginx(tmp, {f"static-{n}.html": size for _, (_, size) in pages.items() for n in [size]})
        idle, idle_anon = rss_kib(g.proc.pid), rss_kib(g.proc.pid, "RssAnon")
        results, peaks = {}, {}
        for path, (who, size) in pages.items():
            with Peak(g.proc.pid) as web_peak:
                results[path] = load(g.port, a.sessions, a.seconds, path, cookies[who])
            peaks[path] = (web_peak.peak, web_peak.anon)
            results["nginx " + path] = load(ngport, a.sessions, a.seconds, f"/static-{size}.html")
        print(f"{'':28} {'body':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'client CPU':>10}")
        for path, (who, size) in pages.items():
            t, n = results[path], results["nginx " + path]
            for label, x in ((f"thidua-web {path}", t), (f"nginx, a file of {size} B", n)):
                print(f"{label:28} {size:8} {x['rps']:8.0f} {x['p50_ms']:8.2f} {x['p99_ms']:8.2f} "
                      f"{int(x['errors'] + x['non200']):7} {x['client_cpu'] * 100:9.0f}%")
            print(f"  {path}: thidua-web serves {t['rps'] / n['rps']:.2f}× nginx's requests per second "
                  f"(p50 {t['p50_ms'] / max(n['p50_ms'], 1e-9):.1f}× nginx's)")
        print(f"thidua-web resident memory (target <= 10 MB): idle {idle / 1024:.1f} MiB (anonymous "
              f"{idle_anon / 1024:.1f}); peak while serving {a.sessions} sessions " +
              ", ".join(f"{p} {k / 1024:.1f} MiB (anonymous {an / 1024:.1f})" for p, (k, an) in peaks.items()) +
              f"; after {rss_kib(g.proc.pid) / 1024:.1f} MiB")

        # the 25 MiB upload against dd conv=fsync of the same bytes on the same disk
        data = os.urandom(25 * MiB)
        src = os.path.join(tmp, "upload.bin")
        with open(src, "wb") as fp:
            fp.write(data)
        # dd and the upload alternate, dd, upload, dd, ... dd, so that both meet the disk in
        # the same state (its writeback varies by 3x from one second to the next here): each
        # upload is set against the mean of the dd before it and the dd after it
        def dd_once():
            dst = os.path.join(d.dir, "dd-test.bin")
            t0 = time.monotonic()
            subprocess.run(["dd", f"if={src}", f"of={dst}", "bs=1M", "conv=fsync"], check=True,
                           capture_output=True)
            dd_times.append(time.monotonic() - t0)
            os.unlink(dst)

        dd_times, up_times, daemon_peak, daemon_idle = [], [], 0, rss_kib(d.proc.pid)
        with open(src, "wb") as fp:
            fp.write(data)
        dd_once()
        for i in range(a.uploads):
            # other bytes each time: the same ones again would find their stored copy
            # (hashed again, not written and flushed)
            data = i.to_bytes(8, "big") + data[8:]
            with open(src, "wb") as fp:
                fp.write(data)
            clerk = Browser(g.port)
            clerk.login(CLERK, CLERK_PW)
            csrf = clerk.csrf()
            cookie = f"thidua_session={clerk.jar['thidua_session']}"
            with Peak(d.proc.pid) as dp:
                status, secs, location = curl_upload(g.port, cookie, csrf, src, f"25MiB-{i}.bin")
                up_times.append(secs)
            daemon_peak = max(daemon_peak, dp.peak)
            assert status == 303, status
            number = location.split("/bien-nhan/")[1].split("?")[0]
            got = d.call("report.receipt", number=number)["receipt"]["files"][0]
            assert got["sha256"] == hashlib.sha256(data).hexdigest() and got["size"] == len(data), got
            dd_once()
        # the gateway's part alone: the same upload with a CSRF token that does not match,
        # refused once the whole body is read, parsed and sent on (the uploads then cancelled)
        gw_times = []
        for i in range(3):
            clerk = Browser(g.port)
            clerk.login(CLERK, CLERK_PW)
            csrf = clerk.csrf()
            cookie = f"thidua_session={clerk.jar['thidua_session']}"
            status, secs, _ = curl_upload(g.port, cookie, "0" * len(csrf), src, f"25MiB-{i}.bin")
            gw_times.append(secs)
            assert status == 403, status
        # the daemon's part alone: report.submit of the same bytes on its api socket
        api_times = []
        for i in range(3):
            data = (100 + i).to_bytes(8, "big") + data[8:]
            t0 = time.monotonic()
            r = d.call("report.submit", files=[(f"api-{i}.bin", data)], unit="XA-ANPHU", report="BC-NAM",
                       period="2024", **{"as": CLERK})
            api_times.append(time.monotonic() - t0)
            assert r["ok"], r
        med = lambda v: sorted(v)[len(v) // 2]
        ratios = [u / ((dd_times[i] + dd_times[i + 1]) / 2) for i, u in enumerate(up_times)]
        print(f"25 MiB upload through thidua-web by curl, acknowledged (receipt, SHA-256 checked): median of "
              f"{len(up_times)} {med(up_times):.3f} s, best {min(up_times):.3f} s "
              f"({', '.join(f'{x:.3f}' for x in up_times)})")
        print(f"dd bs=1M conv=fsync of the same 25 MiB into the state directory, before, between and after them: "
              f"median {med(dd_times):.3f} s, best {min(dd_times):.3f} s ({', '.join(f'{x:.3f}' for x in dd_times)})")
        print(f"  upload / dd (each upload against the dd before and after it): median {med(ratios):.2f} "
              f"({', '.join(f'{x:.2f}' for x in ratios)}); best upload / best dd {min(up_times) / min(dd_times):.2f} "
              f"(target <= 1.5)")
        print(f"  its parts, one after the other: thidua-web reading, parsing and sending on the body "
              f"(refused by its CSRF check after) best of 3 {min(gw_times):.3f} s; thiduad's report.submit of "
              f"the same bytes on its api socket best of 3 {min(api_times):.3f} s")
        print(f"thiduad resident memory: peak during the 25 MiB uploads {daemon_peak / 1024:.1f} MiB "
              f"(target <= 64 MB; {daemon_idle / 1024:.1f} MiB before them)")
    finally:
        if ng:
            ng.terminate()
            ng.wait()
        g.close()
        d.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
