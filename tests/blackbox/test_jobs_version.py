"""Issue 14: one protocol version (common/proto.h), checked at a worker's ready. A worker
speaking another version is refused, told both versions, and nothing is leased to it; the
daemon's log names both versions."""
import json
import os
import tempfile

import zmq

from harness import Daemon, eq
from test_channels import FakeWorker, delivery, fake_config
from test_delivery import Receiver, Smtp, wait_for


def recv_type(s, want, timeout_ms=5000):
    """the next message of type want (pings skipped); None when none comes in time"""
    while s.poll(timeout_ms):
        msg = json.loads(s.recv())
        if msg.get("type") == want:
            return msg
    return None


def test_a_worker_of_another_protocol_version_is_refused_and_gets_no_job():
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = fake_config(tmp, http, smtp, {"XA-ANPHU": "json-ok"})
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                s = zmq.Context.instance().socket(zmq.DEALER)
                s.setsockopt(zmq.LINGER, 0)
                s.connect(f"ipc://{d.dir}/jobs.sock")
                s.send(json.dumps({"type": "ready", "kind": "webhook", "capacity": 4, "version": 2,
                                   "pid": os.getpid(), "name": "future-hook"}).encode())
                r = recv_type(s, "refused")
                assert r, "a refusal"
                eq((r["version"], r["yours"]), (1, 2), "both versions named")
                wait_for("logged", lambda: "future-hook" in d.read_log())
                line = next(x for x in d.read_log().splitlines() if "future-hook" in x)
                assert "refused" in line and "version 2" in line and "version 1" in line, line
                eq(d.ctl("status")["workers"], [], "not a worker")
                # a message falls due: nothing is leased to the refused worker
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")
                eq(recv_type(s, "job", 1500), None, "no job for the refused worker")
                eq(delivery(d, "XA-ANPHU", "json-ok")[1]["state"], "pending", "still waiting")
                # its next message is from an unknown worker: hello, not a job
                s.send(json.dumps({"type": "ping"}).encode())
                assert recv_type(s, "hello"), "told to announce itself"
                s.close()
                # a worker of the same version takes it; announcing another version later
                # drops it and its job goes back to the queue
                hook = FakeWorker(d, "webhook", capacity=1, name="now-hook")
                j = hook.job()
                assert j, "the job, to the worker of our version"
                hook.send({"type": "ready", "kind": "webhook", "capacity": 1, "version": "1",
                           "pid": os.getpid(), "name": "now-hook"})
                wait_for("dropped", lambda: d.ctl("status")["workers"] == [])
                assert "speaks jobs protocol version not an integer" in d.read_log()
                eq(delivery(d, "XA-ANPHU", "json-ok")[1]["state"], "pending", "back in the queue")
                hook.close()
    finally:
        http.close()
        smtp.close()
