"""Memory a client can make thiduad hold: an unfinished multipart message, replies nobody
reads. Resident memory is read from /proc while the abuse goes on and after; another
client must be answered meanwhile."""
import json
import signal
import os
import socket
import tempfile
import time

import zmq

from harness import CONFIG, Daemon, eq, write
from zmtp import Peer, rss

MiB = 1 << 20

# Under AddressSanitizer (make asan) freed memory waits in a quarantine of 256 MiB and its
# allocator gives memory back on its own schedule: for these tests, a small quarantine and
# a prompt release, so that resident memory measures what the daemon holds. (No effect on
# a build without the sanitizer.)
os.environ["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=4",
                                                     "allocator_release_to_os_interval_ms=100"]))


def sanitized(d):
    with open(f"/proc/{d.proc.pid}/maps") as fp:
        return "libasan" in fp.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remote_config(tmp, max_request=4 * MiB, rate=50):
    """the shipped config with a tcp api, a key for its first principal, and a smaller
    max_request_bytes (so the bounds are reached quickly)"""
    server_pub, server_sec = zmq.curve_keypair()
    pub, sec = zmq.curve_keypair()
    path = os.path.join(tmp, "thiduad.key")
    write(path, server_sec.decode() + "\n")
    os.chmod(path, 0o600)
    port = free_port()
    text = open(CONFIG, encoding="utf-8").read()
    text = text.replace("daemon = {", f'daemon = {{\n  api = "tcp://127.0.0.1:{port}";\n'
                        f'  curve_key_file = "{path}";\n  max_request_bytes = {max_request};\n'
                        f'  requests_per_second = {rate};', 1)
    i = text.index("principals = (")
    j = text.index('name = "', i) + len('name = "')
    text = text[:j] + text[j:].replace(";", f'; public_key = "{pub.decode()}";', 1)
    cfg = os.path.join(tmp, "remote.cfg")
    write(cfg, text)
    return cfg, f"tcp://127.0.0.1:{port}", dict(server_key=server_pub, public=pub, secret=sec)


def answered(d, endpoint, keys=None):
    """another client, on its own connection, gets a reply to status"""
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 10000)
    if keys:
        s.curve_serverkey, s.curve_publickey, s.curve_secretkey = keys["server_key"], keys["public"], keys["secret"]
    s.connect(endpoint)
    try:
        s.send_multipart([b"", json.dumps({"op": "status", "id": "other"}).encode()])
        reply = json.loads(s.recv_multipart()[-1])
        eq(reply.get("ok"), True, f"status for another client: {reply}")
    finally:
        s.close()


def endless(d, endpoint, keys=None, frames=120, size=MiB):
    """frames of size bytes with MORE, never a last one; returns (frames written before
    the daemon cut the connection or None, highest resident memory seen)"""
    peer = Peer(endpoint, **(keys or {}))
    chunk = os.urandom(size)
    peak, cut_at = rss(d.proc.pid), None
    try:
        for i in range(frames):
            try:
                peer.send_frame(chunk, more=True)
            except (BrokenPipeError, ConnectionResetError):
                cut_at = i
                break
            if i % 4 == 0:
                peak = max(peak, rss(d.proc.pid))
        # what was written may still be on its way: wait for the cut (bounded)
        deadline = time.monotonic() + 10
        while cut_at is None and time.monotonic() < deadline:
            peak = max(peak, rss(d.proc.pid))
            try:
                peer.sock.settimeout(0.1)
                if peer.sock.recv(65536) == b"":
                    cut_at = frames
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                cut_at = frames
    finally:
        peer.close()
    return cut_at, max(peak, rss(d.proc.pid))


def test_an_endless_multipart_message_is_cut_over_ipc_and_tcp():
    with tempfile.TemporaryDirectory() as tmp:
        cfg, tcp, keys = remote_config(tmp)
        with Daemon(config=cfg, start_at="2024-02-10T09:00:00+07:00") as d:
            local = f"ipc://{d.dir}/api.sock"
            for endpoint, k in ((local, None), (tcp, keys)):
                before = rss(d.proc.pid)
                # the connection may hold two requests and a MiB (9 MiB here); 120 MiB are sent
                cut_at, peak = endless(d, endpoint, k)
                assert cut_at is not None and cut_at < 40, f"{endpoint}: not cut (after {cut_at} MiB)"
                assert peak - before < 48 * MiB, f"{endpoint}: resident memory grew by {(peak - before) >> 20} MiB"
                answered(d, endpoint, k)
            d.wait_log("connections cut holding more than")
            # memory is handed back: within a few seconds, near where it was
            deadline = time.monotonic() + 15
            while rss(d.proc.pid) - before > 24 * MiB and time.monotonic() < deadline:
                time.sleep(0.2)
            assert rss(d.proc.pid) - before <= 24 * MiB, f"{(rss(d.proc.pid) - before) >> 20} MiB still held"


def test_many_unfinished_messages_stay_under_the_memory_bound():
    """each connection under its own bound, together over the daemon's: the ones that
    grow past it are cut, the total stays near the bound"""
    with tempfile.TemporaryDirectory() as tmp:
        # 1 MiB requests: a connection holds at most 3 MiB, the daemon 264 MiB
        cfg, tcp, keys = remote_config(tmp, max_request=MiB)
        with Daemon(config=cfg, start_at="2024-02-10T09:00:00+07:00") as d:
            local = f"ipc://{d.dir}/api.sock"
            before = rss(d.proc.pid)
            chunk = os.urandom(256 * 1024)
            peers, cut, peak = [], 0, before
            for i in range(160):         # 160 connections x 2.5 MiB = 400 MiB if nothing held
                p = Peer(local)
                peers.append(p)
                try:
                    for _ in range(10):
                        p.send_frame(chunk, more=True)
                except (BrokenPipeError, ConnectionResetError):
                    cut += 1
                if i % 8 == 0:
                    peak = max(peak, rss(d.proc.pid))
            answered(d, local)
            peak = max(peak, rss(d.proc.pid))
            for p in peers:
                p.close()
            assert peak - before < 330 * MiB, f"resident memory grew by {(peak - before) >> 20} MiB"
            d.wait_log("while the daemon held too much memory")


def test_replies_nobody_reads_stay_bounded_and_memory_returns():
    """a client sends 20,000 units.list (10 KB replies each, 200 MB in all) and never reads
    them: the daemon holds at most 16 MiB of replies for it (and 1,000 messages), answers
    another client meanwhile, and gives the memory back once the client has gone"""
    with tempfile.TemporaryDirectory() as tmp:
        cfg, tcp, keys = remote_config(tmp, rate=0)
        with Daemon(config=cfg, start_at="2024-02-10T09:00:00+07:00") as d:
            local = f"ipc://{d.dir}/api.sock"
            before = rss(d.proc.pid)
            for endpoint, k in ((local, None), (tcp, keys)):
                ctx = zmq.Context.instance()
                s = ctx.socket(zmq.DEALER)
                s.setsockopt(zmq.LINGER, 0)
                s.setsockopt(zmq.RCVHWM, 1)
                s.setsockopt(zmq.SNDHWM, 0)
                if k:
                    s.curve_serverkey, s.curve_publickey, s.curve_secretkey = k["server_key"], k["public"], k["secret"]
                s.connect(endpoint)
                req = json.dumps({"op": "units.list"}).encode()
                peak = rss(d.proc.pid)
                for i in range(20000):
                    s.send_multipart([b"", req])
                    if i % 500 == 0:
                        peak = max(peak, rss(d.proc.pid))
                # the daemon has read them all once another client's request is answered
                # after them and the log counts the replies it dropped
                after = len(d.read_log())
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    peak = max(peak, rss(d.proc.pid))
                    answered(d, endpoint, k)
                    if "replies dropped" in d.read_log()[after:]:
                        break
                peak = max(peak, rss(d.proc.pid))
                s.close()
                assert peak - before < 80 * MiB, f"{endpoint}: resident memory grew by {(peak - before) >> 20} MiB"
                d.wait_log("replies dropped for clients holding 16 MiB of unread replies", after=after)
            # the client has gone: within seconds, the memory is back near where it was
            # (glibc's, by malloc_trim: the sanitizer's allocator keeps its own)
            if sanitized(d):
                print("    under AddressSanitizer: memory given back not measured")
                return
            deadline = time.monotonic() + 20
            while rss(d.proc.pid) - before > 32 * MiB and time.monotonic() < deadline:
                time.sleep(0.2)
            assert rss(d.proc.pid) - before <= 32 * MiB, f"{(rss(d.proc.pid) - before) >> 20} MiB still held"


def test_lists_answer_in_pages_of_at_most_1000_rows():
    with Daemon(start_at="2024-02-10T09:00:00+07:00") as d:
        for op, cursor in (("notifications.list", "before"), ("audit.list", "before"), ("proposals.list", "after"),
                           ("titles.list", "after")):
            r = d.call(op, limit=1001)
            eq(r["error"]["code"], "invalid_field", f"{op} limit 1001")
            assert "1 to 1000" in r["error"]["message"], r
            r = d.call(op, limit=1000, **{cursor: 5})
            eq(r["ok"], True, f"{op} with a cursor: {r}")
            eq(r["more"], False, op)
            r = d.call(op, **{cursor: 0})
            eq(r["error"]["code"], "invalid_field", f"{op} {cursor} 0")
        for i in range(25):                     # each a row of the audit log
            eq(d.call("clock.advance", by="1h")["ok"], True, "clock.advance")
        seqs, before = [], None
        for _ in range(10):
            page = d.call("audit.list", limit=10, **({"before": before} if before else {}))
            assert page["count"] <= 10, page
            seqs += [row["seq"] for row in page["rows"]]
            if not page["more"]:
                break
            before = seqs[-1]
        assert len(seqs) >= 25 and seqs == sorted(set(seqs), reverse=True), seqs
        eq(len(seqs), len(d.call("audit.list", limit=1000)["rows"]), "pages against one page")


def test_a_kill_while_memory_is_held_loses_nothing_acknowledged():
    """What MemoryMax= would do at the second line: the daemon killed (SIGKILL, as the
    kernel's OOM killer does) while clients stream submissions and others hold memory with
    unfinished messages and unread replies. Restarted, it has every receipt it acknowledged,
    each once, and the audit chain verifies."""
    import threading
    from test_robustness import START, Ledger, _check_database, _client, _retry_in_doubt
    ledger = Ledger()
    with Daemon(start_at=START) as d:
        for rnd in (1, 2):
            stop = threading.Event()
            threads = [threading.Thread(target=_client, args=(d.endpoint, ledger, stop, rnd, k, ["report.submit"], 10 ** 6))
                       for k in range(3)]
            for t in threads:
                t.start()
            hogs = [Peer(d.endpoint) for _ in range(4)]
            chunk = os.urandom(MiB)
            for p in hogs:                  # each under its bound: held, not cut
                for _ in range(8):
                    p.send_frame(chunk, more=True)
            reader = zmq.Context.instance().socket(zmq.DEALER)
            reader.setsockopt(zmq.LINGER, 0)
            reader.setsockopt(zmq.RCVHWM, 1)
            reader.connect(d.endpoint)
            for _ in range(2000):
                reader.send_multipart([b"", b'{"op":"units.list"}'])
            deadline = time.monotonic() + 30
            while len(ledger.receipts) < 40 * rnd and time.monotonic() < deadline:
                time.sleep(0.01)
            held = rss(d.proc.pid)
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            d.log.close()
            stop.set()
            for t in threads:
                t.join(10)
                assert not t.is_alive(), "a client did not stop"
            for p in hogs:
                p.close()
            reader.close()
            assert len(ledger.receipts) >= 40 * rnd, f"only {len(ledger.receipts)} receipts before the kill"
            _check_database(d, ledger, rnd)
            d.start()
            rc, out = d.ctl_raw("audit", "verify")
            eq(rc, 0, f"audit verify after the kill: {out}")
            _retry_in_doubt(d, ledger)
            for number in ledger.receipts:
                eq(d.call("report.receipt", number=number)["ok"], True, f"receipt {number}")
            print(f"    round {rnd}: killed holding {held >> 20} MiB; {len(ledger.receipts)} receipts kept")
        eq(d.stop(), 0, "clean stop")
        _check_database(d, ledger, "final")
