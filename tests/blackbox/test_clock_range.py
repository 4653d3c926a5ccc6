"""The fake clock stays within 1970 to the end of 9999: a move out of that range is refused
with a clear message and the clock stays where it was."""
import os
import subprocess
import tempfile

from harness import BIN, CONFIG, Daemon, eq


def test_the_fake_clock_cannot_pass_the_year_9999():
    with Daemon(start_at="9999-12-20T09:00:00+07:00") as d:
        for op, fields, key in (("clock.advance", {"by": "20d"}, "by"),
                                ("clock.set", {"to": "9999-12-31T23:59:59+07:00"}, None),
                                ("clock.advance", {"by": "1s"}, "by")):
            r = d.call(op, id=f"{op}-{fields}", **fields)
            if key is None:     # the last second of 9999, local time, is the edge: allowed
                assert r["ok"], r
                eq(r["now"], "9999-12-31T23:59:59+07:00", "edge")
                continue
            assert not r["ok"], r
            eq(r["error"]["code"], "clock_out_of_range", op)
            msg = r["error"]["message"]
            assert f"'{key}'" in msg and "9999" in msg and "stays at" in msg, msg
        now = d.call("clock.show")["now"]
        eq(now, "9999-12-31T23:59:59+07:00", "the clock did not move")
        # the daemon still answers, and after a restart too (the clock came back)
        d.stop()
        d.start()
        eq(d.call("clock.show")["now"], now, "after restart")


def test_a_huge_advance_is_refused_and_the_clock_is_unchanged():
    with Daemon(start_at="9900-01-01T09:00:00+07:00") as d:
        before = d.call("clock.show")["now"]
        for op, fields, code in (("clock.advance", {"by": "10000w"}, "clock_out_of_range"),
                                 ("clock.advance", {"by": "99999999w"}, "invalid_field"),
                                 ("clock.set", {"to": "9999-12-31T23:59:59Z"}, "clock_out_of_range"),
                                 ("clock.set", {"to": "10000-01-01"}, "invalid_field")):
            r = d.call(op, **fields)
            assert not r["ok"], (fields, r)
            eq(r["error"]["code"], code, str(fields))
            eq(d.call("clock.show")["now"], before, f"unchanged after {fields}")


def test_a_fake_clock_before_1970_is_refused_at_start():
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-c", CONFIG, "--state-dir", tmp,
                            "--fake-clock=1969-12-31T23:00:00Z"], capture_output=True, text=True, timeout=20)
        eq(p.returncode, 1, p.stderr)
        assert "before 1970" in p.stderr, p.stderr
