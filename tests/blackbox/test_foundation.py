"""Issue 2: the daemon starts, holds the units, answers thiduactl, reloads, stops."""
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time

from harness import BIN, CONFIG, CONFIG_2025, Daemon, eq, write

COMMUNES_2024 = {
    "XA-ANNHONTAY", "XA-ANPHU", "XA-BINHMY", "XA-HOAPHU", "XA-NHUANDUC", "XA-PHAMVANCOI",
    "XA-PHUHOADONG", "XA-PHUMYHUNG", "XA-PHUOCHIEP", "XA-PHUOCTHANH", "XA-PHUOCVINHAN",
    "XA-TANANHOI", "XA-TANPHUTRUNG", "XA-TANTHANHDONG", "XA-TANTHANHTAY", "XA-TANTHONGHOI",
    "XA-THAIMY", "XA-TRUNGAN", "XA-TRUNGLAPHA", "XA-TRUNGLAPTHUONG", "TT-CUCHI",
}

# the shipped file is one timeline: these tests describe the three levels of 2024
IN_2024 = "2024-11-10T09:00:00+07:00"


def codes(reply):
    return {u["code"] for u in reply["units"]}


def test_status_reports_what_an_operator_needs():
    with Daemon(start_at=IN_2024) as d:
        r = d.ctl("status")
        for key in ("version", "uptime_seconds", "config", "database", "clock", "units"):
            assert key in r, key
        assert r["clock"]["fake"] is True
        eq(r["units"]["active_by_level"], {"city": 2, "district": 16, "commune": 21, "hamlet": 6}, "counts")
        rc, out = d.ctl_raw("status")
        assert rc == 0 and "fake clock" in out and "commune 21" in out, out


def test_shipped_config_has_the_21_communes():
    with Daemon(start_at=IN_2024) as d:
        r = d.ctl("units", "list", "--level", "commune")
        eq(codes(r), COMMUNES_2024, "communes")
        assert all(u["parent"] == "CUCHI" for u in r["units"])
        rc, out = d.ctl_raw("units", "list", "--level", "commune")
        assert "Ủy ban nhân dân xã Phú Hòa Đông" in out and "21 units" in out, out


def test_units_filters_by_subtree_and_kind():
    with Daemon(start_at=IN_2024) as d:
        r = d.ctl("units", "list", "--under", "XA-PHUHOADONG")
        eq(codes(r), {"AP-PHD-PHULOI", "AP-PHD-PHUHIEP", "AP-PHD-PHUTHUAN"}, "hamlets")
        r = d.ctl("units", "list", "--under", "CUCHI", "--kind", "office")
        assert "CUCHI-GDDT" in codes(r) and "XA-ANPHU" not in codes(r)
        r = d.ctl("units", "list", "--under", "NOPE", ok=False)
        eq(r["error"]["code"], "unknown_unit", "error code")
        r = d.ctl("units", "list", "--level", "province", ok=False)
        assert "city, district, commune, hamlet" in r["error"]["message"]


def test_units_show_answers_a_list_of_codes_in_one_call():
    with Daemon(start_at=IN_2024) as d:
        one = d.call("units.show", code="XA-ANPHU")
        r = d.call("units.show", codes=["XA-PHUHOADONG", "XA-ANPHU", "XA-PHUHOADONG"])
        assert r["ok"], r
        eq([u["code"] for u in r["units"]], ["XA-PHUHOADONG", "XA-ANPHU", "XA-PHUHOADONG"], "in order, as asked")
        eq(r["units"][1], one["unit"], "the full form, contacts included")
        eq(r["at"], one["at"], "the same day")
        every = [u["code"] for u in d.call("units.list", all=True)["units"]]
        many = (every * (1000 // len(every) + 1))[:1000]
        eq(len(d.call("units.show", codes=many)["units"]), 1000, "1000 at once")
        for bad, code, says in ((many + ["XA-ANPHU"], "invalid_field", "1 to 1000"),
                                ([], "invalid_field", "1 to 1000"), ("XA-ANPHU", "invalid_field", "list"),
                                (["XA-ANPHU", 7], "invalid_field", "codes[1]"),
                                (["XA-ANPHU", "XA-ANPHUU"], "unknown_unit", "XA-ANPHUU")):
            r = d.call("units.show", codes=bad)
            eq((r["ok"], r["error"]["code"]), (False, code), str(bad)[:80])
            assert says in r["error"]["message"], r["error"]["message"]
        r = d.call("units.show", code="XA-ANPHU", codes=["XA-ANPHU"])
        eq(r["error"]["code"], "invalid_field", "code and codes together")
        assert "not both" in r["error"]["message"]
        eq(d.call("units.show", codes=None)["error"]["code"], "missing_field", "codes null is absent: code is needed")


def test_reorganisation_2025_by_date():
    with Daemon(config=CONFIG_2025) as d:
        before = d.ctl("units", "list", "--level", "commune", "--at", "2025-06-30")
        after = d.ctl("units", "list", "--level", "commune", "--at", "2025-07-01")
        eq(codes(before), COMMUNES_2024, "2025-06-30")
        eq(len(after["units"]), 7, "communes on 2025-07-01")
        assert all(c.endswith("-2025") for c in codes(after))
        # the hamlets of the closed commune roll up to its successor
        r = d.ctl("units", "list", "--under", "XA-PHUHOADONG-2025", "--at", "2025-07-01")
        assert {"AP-PHD-PHULOI", "AP-PHD-PHUHIEP", "AP-PHD-PHUTHUAN"} <= codes(r), codes(r)
        show = d.ctl("units", "show", "XA-ANPHU", "--at", "2025-07-01")["unit"]
        eq(show["active"], False, "closed")
        eq(show["successors"], ["XA-ANNHONTAY-2025"], "successor")
        pred = d.ctl("units", "show", "XA-ANNHONTAY-2025")["unit"]["predecessors"]
        eq(set(pred), {"XA-PHUMYHUNG", "XA-ANPHU", "XA-ANNHONTAY"}, "predecessors")


def test_config_check_mode():
    p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", CONFIG], capture_output=True, text=True)
    eq(p.returncode, 0, "exit")
    assert "configuration OK" in p.stdout
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad.cfg")
        text = open(CONFIG, encoding="utf-8").read()
        text = text.replace('code = "XA-ANPHU";', 'code = "XA-ANPHU"; colour = "red";', 1)
        text = text.replace('parent = "CUCHI";', 'parent = "CUCHY";', 1)
        write(bad, text)
        p = subprocess.run([os.path.join(BIN, "thiduad"), "-n", "-c", bad], capture_output=True, text=True)
        eq(p.returncode, 1, "exit")
        assert "unknown key 'colour'" in p.stderr, p.stderr
        assert "parent 'CUCHY' does not exist (did you mean CUCHI?)" in p.stderr, p.stderr
        assert all(line.startswith(bad + ":") for line in p.stderr.splitlines()[:-1]), p.stderr


def test_reload_bad_file_keeps_old_config_and_good_file_takes_effect():
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "thidua.cfg")
        good = open(CONFIG, encoding="utf-8").read()
        write(cfg, good)
        with Daemon(config=cfg, start_at=IN_2024) as d:
            write(cfg, good.replace("levels = (", "levles = (", 1))
            mark = len(d.read_log())
            d.signal(signal.SIGHUP)
            d.wait_log("the running configuration stays", after=mark)
            eq(d.ctl("status")["units"]["total"], 52, "units after bad reload")
            added = good.replace("units = (", 'units = (\n  { code = "XA-MOI"; name = "Ủy ban nhân dân xã Mới";'
                                 ' level = "commune"; parent = "CUCHI"; kind = "commune"; },', 1)
            write(cfg, added)
            mark = len(d.read_log())
            d.signal(signal.SIGHUP)
            d.wait_log("configuration reloaded", after=mark)
            eq(d.ctl("units", "show", "XA-MOI")["unit"]["name"], "Ủy ban nhân dân xã Mới", "new unit")
            # the same through the api
            write(cfg, good)
            eq(d.ctl("config", "reload")["units"], 52, "units after api reload")
            write(cfg, good.replace('utc_offset = "+07:00"', 'utc_offset = "+07:10"'))
            r = d.ctl("config", "reload", ok=False)
            assert "utc_offset" in r["error"]["message"], r


def test_sigterm_exits_zero_and_database_is_intact():
    with Daemon() as d:
        d.ctl("units", "list")
        eq(d.stop(signal.SIGTERM), 0, "exit status")
        con = sqlite3.connect(os.path.join(d.dir, "thidua.db"))
        eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity")
        eq(con.execute("PRAGMA user_version").fetchone()[0] >= 1, True, "schema version")
        assert not os.path.exists(os.path.join(d.dir, "api.sock"))


def test_thiduactl_exits_3_quickly_without_daemon():
    with tempfile.TemporaryDirectory() as tmp:
        for endpoint in (f"ipc://{tmp}/api.sock", "tcp://127.0.0.1:9"):
            t0 = time.monotonic()
            p = subprocess.run([os.path.join(BIN, "thiduactl"), "-e", endpoint, "--timeout", "1", "status"],
                               capture_output=True, text=True)
            eq(p.returncode, 3, f"exit for {endpoint}")
            assert time.monotonic() - t0 < 3, "too slow"
            assert "thiduad" in p.stderr or "answer" in p.stderr, p.stderr
    p = subprocess.run([os.path.join(BIN, "thiduactl"), "frobnicate"], capture_output=True, text=True)
    eq(p.returncode, 2, "usage exit")


def test_garbage_frames_get_error_replies():
    import zmq
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "small.cfg")
        write(cfg, open(CONFIG, encoding="utf-8").read().replace(
            "daemon = {", "daemon = {\n  max_request_bytes = 4096;", 1))
        with Daemon(config=cfg) as d:
            ctx = zmq.Context()
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RCVTIMEO, 5000)
            s.connect(d.endpoint)
            cases = [
                ([b"", b"{not json"], "invalid_json"),
                ([b"", b"\xff\xfe{}"], "invalid_utf8"),
                ([b"", b"[1,2]"], "bad_request"),
                ([b"", b'{"id":"x"}'], "bad_request"),
                ([b"", b'{"op":"no.such.op","id":"y"}'], "unknown_op"),
                ([b"", b'{"op":"status","id":7}'], "invalid_field"),
                ([b"", b'{"op":"status"}', b"x" * 5000], "too_large"),
                ([b'{"op":"units.show"}'], "missing_field"),
                ([b"", b'{"op":"status","op":"status"}'], "invalid_json"),
            ]
            for frames, code in cases:
                s.send_multipart(frames)
                reply = s.recv_multipart()
                body = json.loads(reply[-1])
                eq(body["ok"], False, f"{frames[:2]}")
                eq(body["error"]["code"], code, f"{frames[:2]}")
                assert body["error"]["message"], body
            s.send_multipart([b"", b'{"op":"status","id":"after"}'])
            body = json.loads(s.recv_multipart()[-1])
            eq((body["ok"], body["id"]), (True, "after"), "still serving")
            s.close()
            ctx.term()


def test_units_import_all_or_nothing_with_every_bad_line():
    with Daemon(start_at=IN_2024) as d, tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad.csv")
        write(bad, "code,name,level,parent,kind,emails\n"
                   "AP-ANPHU-1,Ấp An Hòa,hamlet,XA-ANPHU,hamlet,ap1@cuchi.example.org\n"
                   "AP-ANPHU-2,Ấp Xóm Mới,hamlet,XA-ANPHUU,hamlet,\n"
                   "AP-ANPHU-3,Ấp Bàu Chứa,village,XA-ANPHU,hamlet,\n"
                   "AP-ANPHU-1,Ấp trùng,hamlet,XA-ANPHU,hamlet,\n"
                   "AP-ANPHU-4,Ấp Bốn,hamlet,XA-ANPHU,hamlet,not-an-address\n")
        r = d.ctl("units", "import", bad, ok=False)
        eq(r["error"]["code"], "invalid_csv", "code")
        errs = "\n".join(r["error"]["errors"])
        for line, what in ((3, "XA-ANPHUU"), (4, "village"), (5, "used twice"), (6, "not-an-address")):
            assert f"bad.csv:{line}:" in errs and what in errs, errs
        eq(d.ctl("units", "list", "--level", "hamlet")["count"], 6, "nothing imported")
        rc, out = d.ctl_raw("units", "import", bad)
        eq(rc, 1, "exit code")
        assert "bad.csv:3:" in out and "nothing was imported" in out, out

        good = os.path.join(tmp, "good.csv")
        write(good, 'code,name,level,parent,kind,emails,active_from\n'
                    'AP-ANPHU-1,"Ấp An Hòa, xã An Phú",hamlet,XA-ANPHU,hamlet,ap1@cuchi.example.org;b@cuchi.example.org,2024-01-01\n'
                    'AP-ANPHU-2,Ấp Xóm Mới,hamlet,XA-ANPHU,hamlet,,\n')
        r = d.ctl("--", "units", "import", good) if False else d.ctl("units", "import", good)
        eq(r["imported"], 2, "imported")
        u = d.ctl("units", "show", "AP-ANPHU-1")["unit"]
        eq(u["name"], "Ấp An Hòa, xã An Phú", "name round trip")
        eq(u["emails"], ["ap1@cuchi.example.org", "b@cuchi.example.org"], "emails")
        # importing again is refused: the codes exist now
        r = d.ctl("units", "import", good, ok=False)
        assert "used twice" in r["error"]["message"], r
        # imported units survive a restart
        eq(d.stop(), 0, "stop")
        d.start()
        eq(d.ctl("units", "list", "--under", "XA-ANPHU")["count"], 2, "after restart")


def test_write_replay_returns_first_answer():
    import zmq
    with Daemon(start_at=IN_2024) as d, tempfile.TemporaryDirectory() as tmp:
        ctx = zmq.Context()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 5000)
        s.connect(d.endpoint)
        req = json.dumps({"op": "units.import", "id": "imp-1", "filename": "a.csv"}).encode()
        csv = "code,name,level,parent,kind\nAP-X,Ấp X,hamlet,XA-ANPHU,hamlet\n".encode()
        s.send_multipart([b"", req, csv])
        first = json.loads(s.recv_multipart()[-1])
        eq(first["ok"], True, "first")
        s.send_multipart([b"", req, csv])
        second = json.loads(s.recv_multipart()[-1])
        eq(second.get("replayed"), True, "replayed")
        eq(second["units"], first["units"], "same answer")
        s.send_multipart([b"", json.dumps({"op": "clock.set", "id": "imp-1", "to": "2030-01-01"}).encode()])
        third = json.loads(s.recv_multipart()[-1])
        eq(third["error"]["code"], "id_reused", "id reuse for another op")
        s.close()
        ctx.term()
        eq(d.ctl("units", "list", "--under", "XA-ANPHU")["count"], 1, "stored once")


def test_fake_clock_moves_only_through_the_api():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        eq(d.ctl("clock", "show")["now"], "2024-11-10T09:00:00+07:00", "set")
        eq(d.ctl("clock", "advance", "3d")["now"], "2024-11-13T09:00:00+07:00", "advance")
        eq(d.ctl("clock", "advance", "90m")["now"], "2024-11-13T10:30:00+07:00", "advance 90m")
        r = d.ctl("clock", "set", "2024-01-01", ok=False)
        eq(r["error"]["code"], "clock_backwards", "backwards")
        r = d.ctl("clock", "advance", "3 days", ok=False)
        assert "90m" in r["error"]["message"]
        eq(d.stop(), 0, "stop")
        d.start()
        eq(d.ctl("clock", "show")["now"], "2024-11-13T10:30:00+07:00", "kept across restart")
    with Daemon(fake_clock=False) as d:
        r = d.ctl("clock", "advance", "1d", ok=False)
        eq(r["error"]["code"], "not_fake_clock", "real clock")
