"""Text from outside is clipped before it is echoed or stored: an unknown op or principal
is quoted by a short prefix (cut where a character ends), a worker's reason is stored
within 1 KiB and its frame within 64 KiB, whatever size they came in."""
import base64
import json
import os
import tempfile
import time

import zmq

from harness import CONFIG, Daemon, eq, write
from test_robustness import _call

MiB = 1 << 20


def raw(d, body):
    """one request of bytes as sent; returns (reply, its size)"""
    reply = _call(d, [b"", body])
    return reply, len(json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode())


def test_unknown_names_are_quoted_by_a_bounded_prefix():
    long = "Ủy ban nhân dân huyện Củ Chi " * 40000          # about 1.2 MB, 3-byte characters
    with Daemon(start_at="2024-03-06T09:00:00+07:00") as d:
        cases = (({"op": long, "id": "a"}, "unknown_op"),
                 ({"op": "status", "id": "b", "as": long}, "unknown_principal"),
                 ({"op": "audit.list", "id": "c", "since": long}, "invalid_field"))
        for req, code in cases:
            reply, size = raw(d, json.dumps(req, ensure_ascii=False).encode())
            eq(reply["error"]["code"], code, str(reply)[:300])
            msg = reply["error"]["message"]
            assert size < 2048, f"{code}: a reply of {size} bytes"
            assert "Ủy ban nhân dân huyện" in msg, msg          # a prefix, cut whole
            assert "\ufffd" not in msg and "?'" not in msg, msg          # no character cut in two
        # any error message at all stays within 1 KiB (its own text and what it quotes)
        reply, size = raw(d, json.dumps({"op": "report.receipt", "id": "d", "receipt": long}, ensure_ascii=False).encode())
        assert len(reply["error"]["message"].encode()) <= 1024 and size < 2048, (size, reply["error"]["message"][:200])


def test_a_workers_reason_is_stored_within_its_bound():
    with tempfile.TemporaryDirectory() as tmp:
        secret = "whsec_" + base64.b64encode(b"thidua-test-secret-key-0123456789").decode()
        text = open(CONFIG, encoding="utf-8").read() + f'''
channels = (
  {{ name = "hook"; kind = "json"; url = "http://127.0.0.1:9/hook"; secret = "{secret}"; }}
);
'''
        cfg = os.path.join(tmp, "thidua.cfg")
        write(cfg, text)
        with Daemon(config=cfg, start_at="2024-03-06T09:00:00+07:00") as d:
            w = zmq.Context.instance().socket(zmq.DEALER)
            w.setsockopt(zmq.LINGER, 0)
            w.setsockopt(zmq.RCVTIMEO, 20000)
            w.connect(f"ipc://{d.dir}/jobs.sock")
            try:
                w.send(json.dumps({"type": "ready", "kind": "webhook", "capacity": 1, "version": 1,
                                   "pid": os.getpid(), "name": "fake"}).encode())
                test = d.call("notify.test", id="t1", channel="hook")
                eq(test["ok"], True, str(test))
                while True:
                    job = json.loads(w.recv())
                    if job["type"] == "job":
                        break
                reason = "Máy chủ từ chối: " + "lỗi " * (2 * MiB // 5)     # 2 MB
                w.send(json.dumps({"type": "result", "job": job["job"], "status": "failed", "code": 500,
                                   "reason": reason, "padding": "x" * MiB}, ensure_ascii=False).encode())
                deadline = time.monotonic() + 20          # the result handled: bounded wait
                while time.monotonic() < deadline:
                    shown = d.call("notifications.show", notification=test["notification"])
                    if shown["notification"]["state"] == "failed":
                        break
                    time.sleep(0.02)
            finally:
                w.close()
            n = shown["notification"]
            eq(n["state"], "failed", str(n)[:500])
            size = len(json.dumps(shown, ensure_ascii=False).encode())
            assert size < 16 * 1024, f"notifications.show is {size} bytes"
            answer = n["deliveries"][0]["answer"]
            assert answer.startswith("Máy chủ từ chối: lỗi") and len(answer.encode()) <= 1024, answer[:100]
            assert len(n["error"].encode()) <= 1100, n["error"][:200]
            con = d.db()
            detail, err = con.execute("SELECT length(detail), length(last_error) FROM deliveries").fetchone()
            assert detail <= 64 * 1024, f"a detail of {detail} bytes stored"
