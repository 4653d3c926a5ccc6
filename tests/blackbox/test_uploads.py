"""Files sent ahead in parts (upload.open, upload.append, upload.cancel) and named by the
request that stores them ("uploads" in place of file frames)."""
import hashlib
import json
import os
import tempfile

from harness import CONFIG, Daemon, eq, ok, refusal, write

START = "2024-11-10T09:00:00+07:00"
LAN = {"as": "nguyen.thi.lan"}		# a clerk of XA-ANPHU
NAM = {"as": "huynh.van.nam"}		# a clerk of XA-PHUHOADONG
MiB = 1 << 20


def send(d, data, part=MiB, who=LAN):
    """data as a new upload in parts; its id"""
    up = ok(d.call("upload.open", **who))["upload"]
    for off in range(0, len(data), part):
        r = ok(d.call("upload.append", files=(("part", data[off:off + part]),), upload=up, offset=off, **who))
        eq(r["size"], min(off + part, len(data)), "size after the part")
    return up


def staged(d):
    d.call("status")	# the turn before has ended: its requests' frames are released
    return sorted(os.listdir(os.path.join(d.dir, "uploads")))


def raw(d, op, frames=(), **fields):
    """a request whose "files" member is sent as it is (Daemon.call makes it from its frames)"""
    import zmq
    s = zmq.Context.instance().socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, 20000)
    s.connect(d.endpoint)
    try:
        s.send_multipart([b"", json.dumps(dict(fields, op=op)).encode()] + list(frames))
        return json.loads(s.recv_multipart()[-1])
    finally:
        s.close()


def submit(d, unit, uploads, names, **kw):
    return raw(d, "report.submit", unit=unit, report="BC-NAM", period="2024", uploads=uploads, files=names, **kw)


def test_a_large_file_sent_in_parts_is_stored_as_one_and_reads_back():
    data = os.urandom(3 * MiB + 12345)
    with Daemon(start_at=START) as d:
        up = send(d, data, **{})
        eq(staged(d), [up], "staged under its id")
        r = ok(submit(d, "XA-ANPHU", [up], ["báo cáo năm 2024.pdf"], **LAN))["receipt"]
        digest = hashlib.sha256(data).hexdigest()
        eq(r["files"], [{"name": "báo cáo năm 2024.pdf", "size": len(data), "sha256": digest}], "the receipt's file")
        path = os.path.join(d.dir, "files", digest[:2], digest)
        with open(path, "rb") as fp:
            eq(fp.read() == data, True, "the stored file is the bytes sent")
        eq(staged(d), [], "nothing left staged")
        # used: a second request cannot name it
        refusal(submit(d, "XA-ANPHU", [up], ["again.pdf"], **LAN), "unknown_upload")
        # the same content sent again is stored once
        up2 = send(d, data, part=2 * MiB)
        ok(submit(d, "XA-ANPHU", [up2], ["bản 2.pdf"], **LAN))
        eq(os.listdir(os.path.join(d.dir, "files", digest[:2])), [digest], "one copy")


def test_a_small_upload_and_several_in_one_request():
    a, b = "Báo cáo — bản tóm tắt".encode() * 10, os.urandom(MiB + 1)
    with Daemon(start_at=START) as d:
        ua, ub = send(d, a, **{}), send(d, b, part=300000)
        r = ok(submit(d, "XA-ANPHU", [ua, ub], ["tóm tắt.txt", "phụ lục.bin"], **LAN))["receipt"]
        eq([(f["name"], f["size"], f["sha256"]) for f in r["files"]],
           [("tóm tắt.txt", len(a), hashlib.sha256(a).hexdigest()),
            ("phụ lục.bin", len(b), hashlib.sha256(b).hexdigest())], "both, in order")
        got = d.call("report.receipt", number=r["number"], **LAN)["receipt"]["files"]
        eq([f["sha256"] for f in got], [f["sha256"] for f in r["files"]], "read back")


def test_parts_out_of_order_and_bad_parts_change_nothing():
    with Daemon(start_at=START) as d:
        up = ok(d.call("upload.open", **LAN))["upload"]
        ok(d.call("upload.append", files=(("p", b"x" * 1000),), upload=up, offset=0, **LAN))
        e = refusal(d.call("upload.append", files=(("p", b"y" * 10),), upload=up, offset=0, **LAN), "upload_offset")
        eq(e["size"], 1000, "where the upload stands")
        assert "offset 1000" in e["message"], e
        refusal(d.call("upload.append", files=(("p", b"y"),), upload=up, offset=2000, **LAN), "upload_offset")
        refusal(d.call("upload.append", files=(("p", b""),), upload=up, offset=1000, **LAN), "empty_file")
        refusal(d.call("upload.append", upload=up, offset=1000, **LAN), "invalid_field")
        refusal(d.call("upload.append", files=(("p", b"a"), ("q", b"b")), upload=up, offset=1000, **LAN), "invalid_field")
        refusal(d.call("upload.append", files=(("p", b"a"),), upload=up, offset=-1, **LAN), "invalid_field")
        refusal(d.call("upload.append", files=(("p", b"a"),), upload=up, **LAN), "missing_field")
        refusal(d.call("upload.append", files=(("p", b"a"),), offset=1000, **LAN), "missing_field")
        refusal(d.call("upload.append", files=(("p", b"a"),), upload="0" * 32, offset=0, **LAN), "unknown_upload")
        eq(os.path.getsize(os.path.join(d.dir, "uploads", up)), 1000, "only the part acknowledged")
        r = ok(submit(d, "XA-ANPHU", [up], ["x.txt"], **LAN))["receipt"]
        eq(r["files"][0]["sha256"], hashlib.sha256(b"x" * 1000).hexdigest(), "the content acknowledged")


def test_an_upload_is_its_principals_alone():
    with Daemon(start_at=START) as d:
        up = send(d, b"of Lan" * 100, **{})
        e = refusal(d.call("upload.append", files=(("p", b"z"),), upload=up, offset=600, **NAM), "unknown_upload")
        assert "huynh.van.nam" in e["message"], e
        refusal(d.call("upload.cancel", upload=up, **NAM), "unknown_upload")
        refusal(submit(d, "XA-PHUHOADONG", [up], ["lấy.txt"], **NAM), "unknown_upload")
        refusal(d.call("upload.append", files=(("p", b"z"),), upload=up, offset=600), "unknown_upload")  # the admin too
        ok(submit(d, "XA-ANPHU", [up], ["của Lan.txt"], **LAN))


def test_bad_uploads_members_are_refused():
    with Daemon(start_at=START) as d:
        up = send(d, b"abc", **{})
        refusal(submit(d, "XA-ANPHU", up, ["a.txt"], **LAN), "invalid_field")
        refusal(submit(d, "XA-ANPHU", [], ["a.txt"], **LAN), "invalid_field")
        refusal(submit(d, "XA-ANPHU", [7], ["a.txt"], **LAN), "invalid_field")
        refusal(submit(d, "XA-ANPHU", [up, up], ["a.txt", "b.txt"], **LAN), "invalid_field")
        e = refusal(raw(d, "report.submit", frames=[b"frame"], unit="XA-ANPHU", report="BC-NAM", period="2024",
                    files=["a.txt"], uploads=[up], **LAN), "invalid_field")
        assert "not both" in e["message"], e
        # refused before it was taken: still open
        r = ok(submit(d, "XA-ANPHU", [up], ["a.txt"], **LAN))
        eq(r["receipt"]["files"][0]["size"], 3, "taken once")


def test_a_refused_request_uses_its_uploads_and_leaves_no_file():
    with Daemon(start_at=START) as d:
        up = send(d, os.urandom(2 * MiB), **{})
        refusal(raw(d, "report.submit", unit="XA-ANPHU", report="BC-KHONG", period="2024", uploads=[up], files=["a.bin"], **LAN),
            "unknown_report")
        eq(staged(d), [], "its staged file removed")
        files = os.path.join(d.dir, "files")
        eq(os.listdir(files) if os.path.isdir(files) else [], [], "nothing stored")
        refusal(submit(d, "XA-ANPHU", [up], ["a.bin"], **LAN), "unknown_upload")
        # an empty upload is an empty file to the op
        empty = ok(d.call("upload.open", **LAN))["upload"]
        refusal(submit(d, "XA-ANPHU", [empty], ["rỗng.pdf"], **LAN), "empty_file")


def config(tmp, lines):
    """the shipped configuration with lines added to its daemon group"""
    path = os.path.join(tmp, "thidua.cfg")
    write(path, open(CONFIG, encoding="utf-8").read().replace("daemon = {", "daemon = {\n" + lines, 1))
    return path


def test_limits_cancel_and_idle_uploads():
    with tempfile.TemporaryDirectory() as tmp, \
            Daemon(config=config(tmp, "  requests_per_second = 0;"), start_at=START) as d:
        ups = [ok(d.call("upload.open", **LAN))["upload"] for _ in range(64)]
        e = refusal(d.call("upload.open", **LAN), "too_many_uploads")
        assert "upload.cancel" in e["message"], e
        ok(d.call("upload.open", **NAM))	# another principal has its own count
        ok(d.call("upload.cancel", upload=ups[0], **LAN))
        refusal(d.call("upload.cancel", upload=ups[0], **LAN), "unknown_upload")
        ok(d.call("upload.append", files=(("p", b"still here"),), upload=ups[1], offset=0, **LAN))
        ok(d.call("upload.open", **LAN))
        eq(len(staged(d)), 65, "64 of Lan's, 1 of Nam's")
        d.ctl("clock", "advance", "14m")
        ok(d.call("upload.append", files=(("p", b"!"),), upload=ups[1], offset=10, **LAN))
        d.ctl("clock", "advance", "2m")
        eq(staged(d), [ups[1]], "the others idle for 15 minutes are gone")
        d.ctl("clock", "advance", "14m")
        refusal(d.call("upload.append", files=(("p", b"?"),), upload=ups[1], offset=11, **LAN), "unknown_upload")
        eq(staged(d), [], "all gone")


def test_an_upload_op_counts_as_a_64th_of_a_request():
    with tempfile.TemporaryDirectory() as tmp, \
            Daemon(config=config(tmp, "  requests_per_second = 2;"), start_at=START) as d:
        up = ok(d.call("upload.open", **LAN))["upload"]
        for i in range(120):	# 121/64 of a request: within the burst of 2
            ok(d.call("upload.append", files=(("p", b"s"),), upload=up, offset=i, **LAN))
        more = [d.call("upload.append", files=(("p", b"s"),), upload=up, offset=120 + i, **LAN) for i in range(200)]
        assert any(r.get("error", {}).get("code") == "rate_limited" for r in more), more
        for i in range(3):	# whole requests are counted whole
            r = d.call("status", **LAN)
        refusal(r, "rate_limited")


def test_an_upload_over_max_request_bytes_is_refused():
    with tempfile.TemporaryDirectory() as tmp:
        with Daemon(config=config(tmp, "  max_request_bytes = 4096;"), start_at=START) as d:
            up = ok(d.call("upload.open", **LAN))
            eq(up["max_bytes"], 4096, "the bound told")
            up = up["upload"]
            ok(d.call("upload.append", files=(("p", b"a" * 3000),), upload=up, offset=0, **LAN))
            refusal(d.call("upload.append", files=(("p", b"b" * 1200),), upload=up, offset=3000, **LAN), "too_large")
            ok(d.call("upload.append", files=(("p", b"b" * 1000),), upload=up, offset=3000, **LAN))
            # one principal's uploads together: what one request takes
            other = ok(d.call("upload.open", **LAN))["upload"]
            e = refusal(d.call("upload.append", files=(("p", b"c" * 200),), upload=other, offset=0, **LAN), "too_large")
            assert "max_request_bytes" in e["message"] and "upload.cancel" in e["message"], e
            send(d, b"c" * 200, who=NAM)	# another principal's are its own
            ok(submit(d, "XA-ANPHU", [up], ["a.txt"], **LAN))
            ok(d.call("upload.append", files=(("p", b"c" * 200),), upload=other, offset=0, **LAN))


def test_a_restart_drops_what_was_staged():
    with Daemon(start_at=START) as d:
        up = send(d, b"half of a file", **{})
        d.stop()
        d.start()
        eq(staged(d), [], "emptied at start")
        refusal(submit(d, "XA-ANPHU", [up], ["a.txt"], **LAN), "unknown_upload")


def test_a_replayed_submission_does_not_take_its_uploads():
    with Daemon(start_at=START) as d:
        up = send(d, b"first", **{})
        r1 = ok(submit(d, "XA-ANPHU", [up], ["a.txt"], id="nop-1", **LAN))
        up2 = send(d, b"second", **{})
        r2 = ok(submit(d, "XA-ANPHU", [up2], ["a.txt"], id="nop-1", **LAN))
        eq(r2.get("replayed"), True, "replayed")
        eq(r2["receipt"]["number"], r1["receipt"]["number"], "the first receipt")
        eq(staged(d), [up2], "the second upload is still open")
        ok(d.call("upload.cancel", upload=up2, **LAN))


def test_a_full_disk_refuses_a_part_and_the_upload_goes_on_once_there_is_room():
    from test_robustness import _daemon_on_tmpfs
    with _daemon_on_tmpfs(4 * MiB, "test_a_full_disk_refuses_a_part_and_the_upload_goes_on_once_there_is_room") as (d, mnt):
        if not d:
            return
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as fp:
            fp.write(os.urandom(2 * MiB))
        up = ok(d.call("upload.open", **LAN))["upload"]
        data, size, refused = os.urandom(4 * MiB), 0, None
        while size < len(data):
            r = d.call("upload.append", files=(("p", data[size:size + 256 * 1024]),), upload=up, offset=size, **LAN)
            if not r["ok"]:
                refused = r
                break
            size = r["size"]
        assert refused, "the 4 MB disk never filled up"
        e = refusal(refused, "storage_full")
        assert f"still has {size} bytes" in e["message"], e
        eq(os.path.getsize(os.path.join(d.dir, "uploads", up)), size, "cut back to what was acknowledged")
        os.unlink(filler)
        while size < 3 * MiB:
            size = ok(d.call("upload.append", files=(("p", data[size:size + 256 * 1024]),), upload=up, offset=size,
                             **LAN))["size"]
        r = ok(submit(d, "XA-ANPHU", [up], ["báo cáo.pdf"], **LAN))["receipt"]["files"][0]
        eq((r["size"], r["sha256"]), (size, hashlib.sha256(data[:size]).hexdigest()), "the bytes acknowledged, stored")
