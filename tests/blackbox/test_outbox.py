"""Issue 13, items 15, 20 and 21: every attempt of a message leaves in working hours, the
fake clock delivers on the way as the real one would, and the operator's commands say what
an operator needs (the last error, the next attempt and the expiry, a slow server)."""
import json
import tempfile

from harness import Daemon, eq, write
from test_channels import FakeWorker, fake_config
from test_delivery import Receiver, Smtp, config_with_channels, notifications, wait_for


def show(d, unit, report="BC-NAM"):
    row = next(n for n in notifications(d, report=report) if n["recipient"] == unit)
    return d.call("notifications.show", notification=row["id"])["notification"]


def via(notification, chan):
    return [x for x in notification["deliveries"] if x["channel"] == chan]


def test_every_attempt_leaves_in_working_hours():
    """A 429 whose Retry-After ends at 16:31, then one asking for an hour more: the third
    attempt is not at 17:31 (after hours) but at the next working morning, 07:30;
    nothing is offered in between. (A worker of the test's own answers: the real one also
    holds its own posts to an endpoint that asked for quiet, in real time.)"""
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = fake_config(tmp, http, smtp, {"XA-TRUNGAN": "flaky"})
            with Daemon(config=cfg, start_at="2024-11-12T07:00:00+07:00") as d:
                hook = FakeWorker(d, "webhook", capacity=4, name="fake-hook")
                d.ctl("clock", "set", "2024-11-12T07:30:00+07:00")   # Tuesday: the 3wd reminders of BC-NAM
                j = hook.job()
                assert j, "the first attempt"
                hook.result(j, "retry", code=429, retry_after=32460, reason="HTTP 429")
                wait_for("retry planned", lambda: via(show(d, "XA-TRUNGAN"), "flaky")[0]["code"] == 429)
                eq(via(show(d, "XA-TRUNGAN"), "flaky")[0]["next_at"], "2024-11-12T16:31:00+07:00", "in hours: as asked")
                d.ctl("clock", "set", "2024-11-12T16:31:00+07:00")
                j = hook.job()
                assert j and j["attempt"] == 2, j
                hook.result(j, "retry", code=429, retry_after=3600, reason="HTTP 429")
                wait_for("second retry planned", lambda: via(show(d, "XA-TRUNGAN"), "flaky")[0]["state"] == "pending")
                eq(via(show(d, "XA-TRUNGAN"), "flaky")[0]["next_at"], "2024-11-13T07:30:00+07:00",
                   "17:31 is after hours: the next working morning")
                d.ctl("clock", "set", "2024-11-13T07:29:00+07:00")
                eq(hook.job(timeout=1), None, "nothing in the evening or at night")
                d.ctl("clock", "set", "2024-11-13T07:30:00+07:00")
                j = hook.job()
                assert j and j["attempt"] == 3, j
                hook.result(j, "sent", code=200, reason="HTTP 200")
                wait_for("sent", lambda: via(show(d, "XA-TRUNGAN"), "flaky")[0]["state"] == "sent")
                eq(via(show(d, "XA-TRUNGAN"), "flaky")[0]["sent_at"], "2024-11-13T07:30:00+07:00", "sent")
                hook.close()
    finally:
        http.close()
        smtp.close()


def test_a_delivery_due_at_night_waits_for_the_morning():
    """Not only retries: a delivery that falls due outside working hours for another reason
    (here an operator's notifications retry at 20:00) is not offered before 07:30 the next
    working day. A test message still leaves at once."""
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = fake_config(tmp, http, smtp, {"XA-TRUNGAN": "flaky"})
            with Daemon(config=cfg, start_at="2024-11-12T07:00:00+07:00") as d:
                hook = FakeWorker(d, "webhook", capacity=4, name="fake-hook")
                d.ctl("clock", "set", "2024-11-12T07:30:00+07:00")   # Tuesday: the 3wd reminders
                j = hook.job()
                assert j, "the first attempt"
                hook.result(j, "failed", code=400, reason="HTTP 400")
                wait_for("failed", lambda: via(show(d, "XA-TRUNGAN"), "flaky")[0]["state"] == "failed")
                d.ctl("clock", "set", "2024-11-12T20:00:00+07:00")
                r = d.call("notifications.retry", id="rt-night", notification=show(d, "XA-TRUNGAN")["id"])
                assert r["ok"], r
                t = d.call("notify.test", id="t-night", channel="json-ok")
                assert t["ok"], t
                j = hook.job()
                assert j and j["payload"]["channel"]["name"] == "json-ok", f"only the test leaves at night: {j}"
                hook.result(j, "sent", code=200, reason="HTTP 200")
                eq(hook.job(timeout=1), None, "the retried reminder waits")
                wait_for("moved to the morning", lambda: via(show(d, "XA-TRUNGAN"), "flaky")[0]["next_at"]
                         == "2024-11-13T07:30:00+07:00")
                d.ctl("clock", "set", "2024-11-13T07:29:00+07:00")
                eq(hook.job(timeout=1), None, "not before 07:30")
                d.ctl("clock", "set", "2024-11-13T07:30:00+07:00")
                j = hook.job()
                assert j and j["payload"]["channel"]["name"] == "flaky", j
                hook.close()
    finally:
        http.close()
        smtp.close()


def test_the_fake_clock_delivers_on_the_way():
    """clock set across three weeks: each reminder and the overdue notice is attempted at its
    own moment, as the real clock would, not made on the way and sent (expired) at the end."""
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config_with_channels(tmp, http, smtp, {"XA-TRUNGAN": "json-ok"})
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                wait_for("workers", lambda: len(d.ctl("status")["workers"]) >= 2)
                d.ctl("clock", "set", "2024-11-19T12:00:00+07:00")
                rows = [n for n in notifications(d, report="BC-NAM") if n["recipient"] == "XA-TRUNGAN"]
                eq(sorted(n["kind"] for n in rows), ["overdue", "reminder", "reminder", "reminder"], "the ladder so far")
                failed = notifications(d, state="failed")
                eq(len(failed), 0, f"nothing dead-lettered (first: {failed[:1]})")
                for n in rows:
                    s = d.call("notifications.show", notification=n["id"])["notification"]
                    eq(s["state"], "sent", f"{n['kind']} of {n['send_after']}")
                    for x in s["deliveries"]:
                        eq(x["sent_at"], n["send_after"], f"{x['channel']}: sent at the moment it was due")
                eq(http.count("/ok"), 4, "four posts")
                days = [json.loads(b)["event"]["units"][0]["days"] for p, _, b in http.posts if p == "/ok"]
                eq(days, [14, 3, 1, 3], "each worded as of its own day (days left, then days late)")
    finally:
        http.close()
        smtp.close()


def test_operator_commands_show_the_error_the_next_attempt_and_keep_expire_hours():
    """notifications list --state failed shows why; notifications show the next attempt and
    the expiry of a delivery still to go; notifications retry gives the delivery its
    channel's expire_hours again, not a fixed 72 hours."""
    http, smtp = Receiver(), Smtp()
    http.script["/bad"] = [(400, {})]
    http.script["/flaky"] = [(500, {})]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config_with_channels(tmp, http, smtp, {"XA-TRUNGAN": "bad", "XA-ANPHU": "flaky"},
                                       extra_channels=f''',
  {{ name = "bad"; kind = "json"; url = "{http.url('/bad')}"; expire_hours = 5; }}''')
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                wait_for("workers", lambda: len(d.ctl("status")["workers"]) >= 2)
                d.ctl("clock", "set", "2024-11-01T07:30:00+07:00")
                wait_for("failed", lambda: show(d, "XA-TRUNGAN")["state"] == "failed")
                eq(via(show(d, "XA-TRUNGAN"), "bad")[0]["expires_at"], "2024-11-01T12:30:00+07:00", "expire_hours = 5")
                rc, out = d.ctl_raw("notifications", "list", "--state", "failed")
                eq(rc, 0, out)
                assert "ERROR" in out and "HTTP 400" in out, out
                wait_for("a retry planned", lambda: via(show(d, "XA-ANPHU"), "flaky")[0]["code"] == 500)
                rc, out = d.ctl_raw("notifications", "show", str(show(d, "XA-ANPHU")["id"]))
                eq(rc, 0, out)
                nxt = via(show(d, "XA-ANPHU"), "flaky")[0]["next_at"]
                assert f"next attempt:  {nxt}" in out, out
                assert "expires:       2024-11-04T07:30:00+07:00" in out, out
                d.ctl("clock", "set", "2024-11-01T09:00:00+07:00")
                rc, out = d.ctl_raw("notifications", "retry", str(show(d, "XA-TRUNGAN")["id"]))
                eq(rc, 0, out)
                eq(via(show(d, "XA-TRUNGAN"), "bad")[0]["expires_at"], "2024-11-01T14:00:00+07:00",
                   "the channel's expire_hours again")
    finally:
        http.close()
        smtp.close()


def test_notify_test_against_a_slow_server_says_the_server_is_slow():
    http, smtp = Receiver(), Smtp()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = config_with_channels(tmp, http, smtp, {})
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                wait_for("workers", lambda: len(d.ctl("status")["workers"]) >= 2)
                rc, out = d.ctl_raw("--timeout", "2", "notify", "test", "--channel", "hold")
                eq(rc, 1, out)
                assert "the server gave no answer within 2 seconds" in out, out
                assert "worker running" not in out, out
                http.release.set()
    finally:
        http.close()
        smtp.close()
