"""Issue 14: a second SIGINT/SIGTERM while the daemon finishes stops it at once. The daemon
waits up to 3 s for its workers to finish their jobs and exit; a worker that does not (here
a program that only sleeps) is stopped at once by a second signal."""
import os
import signal
import tempfile
import time

from harness import CONFIG, Daemon, eq, write


def test_a_second_signal_while_finishing_stops_at_once():
    with tempfile.TemporaryDirectory() as tmp:
        slow = os.path.join(tmp, "slow-worker")
        write(slow, "#!/bin/sh\nexec sleep 60\n")
        os.chmod(slow, 0o755)
        cfg = os.path.join(tmp, "thidua.cfg")
        write(cfg, open(CONFIG, encoding="utf-8").read() + f'\nworkers = ( {{ program = "{slow}"; }} );\n')
        for sig, second in ((signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGTERM),
                            (signal.SIGTERM, signal.SIGINT)):
            with Daemon(config=cfg, start_at="2024-10-31T12:00:00+07:00") as d:
                d.signal(sig)
                d.wait_log("stopping")
                t0 = time.monotonic()
                d.signal(second)
                rc = d.proc.wait(20)
                took = time.monotonic() - t0
                eq(rc, 0, "a clean exit")
                log = d.read_log()
                assert f"a second {second.name} while finishing: stopping at once" in log, log[-2000:]
                assert "stopped cleanly" in log, log[-2000:]
                assert took < 2.0, f"stopped at once, not after the 3 s wait for workers: {took:.2f} s"
