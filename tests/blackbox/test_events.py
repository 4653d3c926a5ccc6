"""The events socket (docs/PROTOCOL.md, "Events"): each committed change is published as
[topic][json] after its turn's commit; a failed request publishes nothing; a subscriber
that leaves and one that comes later are both counted (the socket is an XPUB, and with no
subscriber at all the daemon writes no event)."""
import json
import os

from harness import Daemon, eq

DOC = "Báo cáo năm 2024".encode()


def subscriber(d, topic=b""):
    """a SUB socket on the daemon's events endpoint that has seen an event: ZeroMQ
    connects in the background, so config.reload is sent until config.reloaded arrives
    (the socket subscribes to it too; next_event passes over it)"""
    import zmq
    s = zmq.Context.instance().socket(zmq.SUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SUBSCRIBE, topic)
    s.setsockopt(zmq.SUBSCRIBE, b"config.reloaded")
    s.connect(f"ipc://{os.path.join(d.dir, 'events.sock')}")
    for _ in range(100):
        d.ctl("config", "reload")
        if s.poll(100):
            while s.poll(0):
                s.recv_multipart()
            return s
    raise AssertionError("no config.reloaded event within 10 s of subscribing")


def next_event(s, timeout_ms=5000):
    """the next event but config.reloaded"""
    while True:
        assert s.poll(timeout_ms), "no event"
        topic, body = s.recv_multipart()
        ev = json.loads(body)
        eq(ev["type"], topic.decode(), "the topic is the type")
        if ev["type"] != "config.reloaded":
            return ev


def submit(d, unit):
    return d.call("report.submit", files=(("bao-cao.pdf", DOC),), unit=unit, report="BC-NAM", period="2024")


def test_committed_changes_are_published_and_a_failed_request_is_not():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        s = subscriber(d)
        try:
            bad = submit(d, "XA-KHONGCO")
            assert not bad["ok"], bad
            r = submit(d, "XA-ANPHU")
            assert r["ok"], r
            ev = next_event(s)		# the failed submission published nothing before it
            eq(ev, {"unit": "XA-ANPHU", "report": "BC-NAM", "period": "2024", "receipt": r["receipt"]["number"],
                    "on_time": True, "type": "report.submitted", "at": "2024-11-10T09:00:00+07:00"}, "report.submitted")
            r = d.call("report.return", unit="XA-ANPHU", report="BC-NAM", period="2024",
                       reason="Thiếu chữ ký của \"Chủ tịch\" xã")
            assert r["ok"], r
            ev = next_event(s)
            eq(ev["type"], "report.returned", "type")
            eq(ev["reason"], "Thiếu chữ ký của \"Chủ tịch\" xã", "Vietnamese reason, exactly")
        finally:
            s.close()


def test_subscribers_that_leave_and_come_are_counted():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        a = subscriber(d)
        b = subscriber(d, b"report.")
        a.close()			# the daemon hears of it and still has b
        r = submit(d, "XA-ANPHU")
        eq(next_event(b)["receipt"], r["receipt"]["number"], "b still gets events")
        b.close()
        # nobody now: events are dropped unwritten until someone subscribes again
        assert submit(d, "XA-BINHMY")["ok"]
        c = subscriber(d, b"report.")
        try:
            r = submit(d, "XA-PHUHOADONG")
            eq(next_event(c)["receipt"], r["receipt"]["number"], "a new subscriber gets the next event")
        finally:
            c.close()
