"""Issue 13, items 5 to 7: a channel disabled by a 410 comes back (enable, or a new url on
reload), and only a webhook worker's real 410 for the channel's own url disables it; a
result the protocol does not know is the worker's mistake, not the message's; a worker that
goes silent leaves status and its jobs go back to the queue by a timer of their own.

The fake workers here are Python DEALER sockets speaking docs/JOBS.md, so a test decides
exactly what a worker answers (or that it answers nothing)."""
import json
import os
import tempfile
import time

import zmq

from harness import Daemon, eq, write
from test_delivery import Receiver, Smtp, config_with_channels, notifications, wait_for

WORKERS_LINE = 'workers = ( { program = "thidua-mail"; }, { program = "thidua-webhook"; } );'


class FakeWorker:
    """A worker of the jobs protocol driven by the test."""

    def __init__(self, d, kind="webhook", capacity=1, name="fake"):
        self.name = name
        self.s = zmq.Context.instance().socket(zmq.DEALER)
        self.s.setsockopt(zmq.LINGER, 0)
        self.s.connect(f"ipc://{d.dir}/jobs.sock")
        self.send({"type": "ready", "kind": kind, "capacity": capacity, "version": 1, "pid": os.getpid(),
                   "name": name})
        wait_for(f"worker {name} ready", lambda: any(w["name"] == name for w in d.ctl("status")["workers"]))

    def send(self, msg):
        self.s.send(json.dumps(msg).encode())

    def job(self, timeout=10):
        """the next job offered (pings skipped); None when none comes within timeout"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.s.poll(int(max(0.0, deadline - time.monotonic()) * 1000) + 1):
                msg = json.loads(self.s.recv())
                if msg.get("type") == "job":
                    return msg
        return None

    def result(self, job, status, **kw):
        self.send(dict({"type": "result", "job": job["job"], "status": status}, **kw))

    def close(self):
        self.s.close()


def fake_config(tmp, http, smtp, chats, extra=""):
    """the delivery test configuration with no supervised workers (the test's own connect)"""
    path = config_with_channels(tmp, http, smtp, chats, extra)
    text = open(path, encoding="utf-8").read()
    assert WORKERS_LINE in text
    write(path, text.replace(WORKERS_LINE, ""))
    return path


def channel(d, name):
    return next(c for c in d.call("channels.list")["channels"] if c["name"] == name)


def delivery(d, unit, chan):
    row = next(n for n in notifications(d, report="BC-NAM") if n["recipient"] == unit)
    show = d.call("notifications.show", notification=row["id"])["notification"]
    return show, next(x for x in show["deliveries"] if x["channel"] == chan)


def operator_posts(http):
    return [json.loads(b) for p, _, b in http.posts if p == "/ops"]


def test_a_channel_disabled_by_410_comes_back_by_enable_or_a_new_url():
    """A real 410 disables the channel: status and channels list say since when and why, the
    operator channel is told, the message waits. channels enable brings it back (told too);
    a new url in the configuration and config reload brings it back as well."""
    http, smtp = Receiver(), Smtp()
    http.script["/gone"] = [(410, {})]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config_with_channels(tmp, http, smtp, {"XA-ANPHU": "gone"}, extra_channels=f''',
  {{ name = "ops"; kind = "json"; url = "{http.url('/ops')}"; }}''')
            text = open(cfg, encoding="utf-8").read().replace("daemon = {", 'daemon = { operator_channel = "ops";', 1)
            assert 'operator_channel = "ops"' in text
            write(cfg, text)
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                wait_for("workers", lambda: len(d.ctl("status")["workers"]) >= 2)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")   # the 10wd reminders of BC-NAM
                wait_for("disabled", lambda: channel(d, "gone")["state"] == "disabled")
                c = channel(d, "gone")
                eq(c["disabled_at"], "2024-11-01T07:30:00+07:00", "since")
                assert "410" in c["reason"], c
                assert "410" in (c["last_error"] or ""), c
                eq(c["queued"], 1, "the message waits in the channel's queue")
                eq(delivery(d, "XA-ANPHU", "gone")[1]["state"], "pending", "not failed: waiting")
                st = d.ctl("status")
                eq([x["name"] for x in st["disabled_channels"]], ["gone"], "status")
                rc, out = d.ctl_raw("status")
                assert "DISABLED:  gone (slack) disabled since 2024-11-01T07:30:00+07:00" in out, out
                assert "webhook@" in out and "jobs in hand" in out, out
                rc, out = d.ctl_raw("channels", "list")
                eq(rc, 0, out)
                assert any(line.split()[:3] == ["gone", "slack", "disabled"] for line in out.splitlines()), out
                wait_for("operator told", lambda: any("gone" in p["title"] and "tạm ngừng" in p["title"]
                                                      for p in operator_posts(http)))
                # enabled by hand: told, the waiting message is tried again (410 again here)
                rc, out = d.ctl_raw("channels", "enable", "gone")
                eq(rc, 0, out)
                assert "channel gone enabled" in out, out
                wait_for("operator told of the return", lambda: any("hoạt động trở lại" in p["title"]
                                                                    for p in operator_posts(http)))
                wait_for("tried again", lambda: http.count("/gone") == 2)
                wait_for("disabled again", lambda: channel(d, "gone")["state"] == "disabled")
                # a new url and a reload: enabled, and the message goes to the new url
                write(cfg, open(cfg, encoding="utf-8").read().replace(http.url("/gone"), http.url("/moved")))
                d.ctl("config", "reload")
                eq(channel(d, "gone")["state"], "enabled", "a new url enables the channel")
                assert "url or credentials changed" in channel(d, "gone")["reason"], channel(d, "gone")
                wait_for("sent to the new url", lambda: delivery(d, "XA-ANPHU", "gone")[1]["state"] == "sent")
                eq(http.count("/moved"), 1, "one post to the new url")
                eq(http.count("/gone"), 2, "none more to the old one")
                # an unknown name is refused, naming the channels there are
                r = d.call("channels.enable", id="ce-x", channel="nope")
                eq(r["error"]["code"], "unknown_channel", r)
                assert "gone" in r["error"]["message"], r
    finally:
        http.close()
        smtp.close()


def test_only_a_webhook_410_for_the_channels_own_url_disables_it():
    """disable: true counts only from a webhook worker, on a 410, for the url the job was
    sent to: a mail worker's, a webhook worker's on a 500, and a 410 for a url the channel
    no longer has leave the channel enabled (the message fails as any refusal does)."""
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = fake_config(tmp, http, smtp, {"XA-ANPHU": "json-ok", "XA-TRUNGAN": "flaky"})
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                mail = FakeWorker(d, "mail", capacity=64, name="fake-mail")
                hook = FakeWorker(d, "webhook", capacity=8, name="fake-hook")
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")
                j = mail.job()
                assert j, "a mail job"
                mail.result(j, "failed", code=550, reason="550 no such user", disable=True)
                jobs = [hook.job(), hook.job()]
                assert all(jobs), jobs
                by = {x["payload"]["channel"]["name"]: x for x in jobs}
                hook.result(by["flaky"], "failed", code=500, reason="HTTP 500", disable=True)
                # the url of json-ok changes while its job is out; then the old url says 410
                write(cfg, open(cfg, encoding="utf-8").read().replace(http.url("/ok"), http.url("/ok2")))
                d.ctl("config", "reload")
                hook.result(by["json-ok"], "failed", code=410, reason="HTTP 410", disable=True)
                wait_for("refusals logged", lambda: d.read_log().count("asked to disable channel") >= 3)
                log = d.read_log()
                assert "only a webhook worker may disable a channel" in log, log[-3000:]
                assert "only a 410 Gone answer disables a channel" in log, log[-3000:]
                assert "no longer has" in log, log[-3000:]
                for name in ("thu", "flaky", "json-ok"):
                    eq(channel(d, name)["state"], "enabled", name)
                eq(d.ctl("status")["disabled_channels"], [], "nothing disabled")
                # the same 410 for the url the channel has now disables it
                d.call("notifications.retry", id="rt-ok", notification=delivery(d, "XA-ANPHU", "json-ok")[0]["id"])
                j = hook.job()
                assert j, "offered again"
                hook.result(j, "failed", code=410, reason="HTTP 410", disable=True)
                wait_for("disabled", lambda: channel(d, "json-ok")["state"] == "disabled")
                mail.close()
                hook.close()
    finally:
        http.close()
        smtp.close()


def test_an_unknown_result_status_is_a_protocol_error_not_a_failure():
    """"bogus" is the worker's mistake: logged as a protocol error, the job offered again
    (after a pause), the message neither failed nor dead-lettered."""
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = fake_config(tmp, http, smtp, {"XA-ANPHU": "json-ok"})
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                hook = FakeWorker(d, "webhook", capacity=4, name="fake-hook")
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")
                j = hook.job()
                assert j, "a job"
                eq(j["attempt"], 1, "first attempt")
                hook.result(j, "bogus", code=200, reason="?")
                wait_for("protocol error logged", lambda: "protocol error from worker fake-hook" in d.read_log())
                show, dl = delivery(d, "XA-ANPHU", "json-ok")
                eq(dl["state"], "pending", "back in the queue")
                eq(show["state"], "queued", "the message did not fail")
                eq(notifications(d, state="failed"), [], "no dead letter")
                assert "unknown status 'bogus'" in d.read_log(), d.read_log()[-2000:]
                # no status at all is the same mistake
                d.ctl("clock", "advance", "1m")
                j2 = hook.job()
                assert j2 and j2["job"] == j["job"], j2
                eq(j2["attempt"], 1, "the answer outside the protocol was not an attempt")
                hook.send({"type": "result", "job": j2["job"]})
                wait_for("second protocol error", lambda: d.read_log().count("protocol error from worker") == 2)
                d.ctl("clock", "advance", "1m")
                j3 = hook.job()
                assert j3, "offered once more"
                hook.result(j3, "sent", code=200, reason="HTTP 200")
                wait_for("sent", lambda: delivery(d, "XA-ANPHU", "json-ok")[1]["state"] == "sent")
                hook.close()
    finally:
        http.close()
        smtp.close()


def test_a_silent_worker_leaves_status_and_its_job_returns_by_its_own_timer():
    """A worker takes a job and says nothing more. Once the (fake) clock passes the job's
    lease, the daemon notices by itself - no other jobs traffic arrives - : the worker
    leaves status and the job is offered to another worker."""
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = fake_config(tmp, http, smtp, {"XA-ANPHU": "json-ok"})
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                silent = FakeWorker(d, "webhook", capacity=1, name="silent")
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")
                j = silent.job()
                assert j, "the silent worker took the job"
                other = FakeWorker(d, "webhook", capacity=1, name="other")
                w = {x["name"]: x for x in d.ctl("status")["workers"]}
                eq(w["silent"]["inflight"], 1, "in hand")
                d.ctl("clock", "advance", "3m")   # past the lease (120 s); neither worker sends anything
                j2 = other.job(timeout=10)
                assert j2 and j2["job"] == j["job"], f"the job offered again: {j2}"
                names = [x["name"] for x in d.ctl("status")["workers"]]
                eq(names, ["other"], "the silent worker left status")
                assert "said nothing since it took a job whose lease ran out" in d.read_log()
                other.result(j2, "sent", code=200, reason="HTTP 200")
                wait_for("sent", lambda: delivery(d, "XA-ANPHU", "json-ok")[1]["state"] == "sent")
                silent.close()
                other.close()
    finally:
        http.close()
        smtp.close()


def test_the_daemon_pings_an_idle_worker_by_its_own_timer():
    """The heartbeat is the jobs link's own timer too: a worker that sends nothing after
    ready still gets the daemon's ping every 5 s (docs/JOBS.md), with no other traffic to
    wake the daemon. (The heartbeat is real time by design: this waits for two pings.)"""
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = fake_config(tmp, http, smtp, {})
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                w = FakeWorker(d, "webhook", capacity=1, name="quiet")
                pings, deadline = [], time.monotonic() + 15
                while len(pings) < 2 and time.monotonic() < deadline:
                    if w.s.poll(200) and json.loads(w.s.recv()).get("type") == "ping":
                        pings.append(time.monotonic())
                eq(len(pings), 2, "two pings without any traffic from the worker")
                assert 3.5 < pings[1] - pings[0] < 8, f"about 5 s apart: {pings[1] - pings[0]:.1f} s"
                w.close()
    finally:
        http.close()
        smtp.close()
