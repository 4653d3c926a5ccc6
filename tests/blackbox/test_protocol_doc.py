"""docs/PROTOCOL.md held to the daemon: what a client written from the document alone meets.
Non-object requests, null members, the id's limit in bytes, the nesting limit, the file
frame limit, error messages free of library flag names, every served op in the op table, and
the document's Python CURVE client run against a real daemon over tcp."""
import json
import os
import re
import subprocess
import tempfile
import unicodedata

import zmq

from harness import BIN, ROOT, Daemon, eq, free_port, remote_api_config, served_ops, write

PROTOCOL = os.path.join(ROOT, "docs", "PROTOCOL.md")
START = "2024-11-10T09:00:00+07:00"
# a flag or constant of a library (JSON_ALLOW_NUL, ZMQ_MAXMSGSIZE, SQLITE_FULL, CURLE_...)
LIBRARY_NAME = re.compile(r"\b(JSON|ZMQ|SQLITE|CURL|CURLE|CURLOPT)_[A-Z0-9_]+\b")


def raw(d, *frames, sock=None):
    """Send frames after the empty delimiter; the reply's JSON frame, parsed."""
    s = sock or zmq.Context.instance().socket(zmq.DEALER)
    if sock is None:
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 20000)
        s.connect(d.endpoint)
    try:
        s.send_multipart([b""] + [f if isinstance(f, bytes) else json.dumps(f).encode() for f in frames])
        reply = json.loads(s.recv_multipart()[-1])
    finally:
        if sock is None:
            s.close()
    if not reply["ok"]:
        msg = reply["error"]["message"]
        assert not LIBRARY_NAME.search(msg), f"a library's name in an error message: {msg!r}"
    return reply


def code(reply):
    return None if reply["ok"] else reply["error"]["code"]


def test_valid_json_that_is_not_an_object_is_bad_request_and_malformed_json_invalid_json():
    with Daemon(start_at=START) as d:
        for text, kind in ((b'"status"', "a string"), (b"42", "a number"), (b"-1.5e3", "a number"),
                           (b"null", "null"), (b"true", "true or false"), (b"false", "true or false"),
                           (b"[]", "an array"), (b'[{"op": "status"}]', "an array")):
            r = raw(d, text)
            eq(code(r), "bad_request", text.decode())
            assert kind in r["error"]["message"] and r["id"] is None, r
        for text in (b"", b" ", b"{", b'{"op": "status"} x', b"'status'", b"nul", b'{"op": "status", }',
                     b'{"op": "status", "op": "status"}'):
            eq(code(raw(d, text)), "invalid_json", text.decode())
        # an object without an op string is still bad_request
        eq(code(raw(d, {"id": "x"})), "bad_request", "no op")


def test_a_member_given_as_null_counts_as_absent_for_every_op():
    with Daemon(start_at=START) as d:
        # the request's own members: id, as
        r = raw(d, {"op": "clock.show", "id": None})
        assert r["ok"] and r["id"] is None, r
        r = raw(d, {"op": "clock.show", "as": None})
        assert r["ok"], r
        # filters: null is no filter, the same answer as leaving the member out
        for op, member in (("units.list", "under"), ("units.list", "level"), ("obligations.list", "under"),
                           ("obligations.list", "state"), ("notifications.list", "limit"),
                           ("audit.list", "limit"), ("proposals.list", "under"), ("titles.list", "under")):
            want = raw(d, {"op": op})
            got = raw(d, {"op": op, member: None})
            assert want["ok"], want
            eq(got, want, f"{op} with {member}: null")
        want = raw(d, {"op": "completeness", "report": "BC-NAM", "period": "2024"})
        eq(raw(d, {"op": "completeness", "report": "BC-NAM", "period": "2024", "under": None}), want,
           "completeness with under: null")
        # a required member given as null is missing, as when it is left out
        for req in ({"op": "units.show", "code": None}, {"op": "report.receipt", "number": None},
                    {"op": "calendar.show", "month": None}, {"op": "schedule", "unit": None}):
            eq(code(raw(d, req)), "missing_field", req["op"])
        # a write: an optional note given as null is no note
        r = raw(d, {"op": "report.submit", "id": "null-note", "unit": "XA-PHUHOADONG", "report": "BC-NAM",
                    "period": "2024", "files": ["bao-cao.pdf"], "note": None, "as": None}, b"%PDF-1.4 bao cao")
        assert r["ok"] and r["receipt"]["note"] is None, r
        row = d.ctl("audit", "list", "--limit", "1")["rows"][0]
        eq((row["op"], row["principal"], "note" in row["detail"]), ("report.submit", "admin", False), "audit row")


def test_the_request_id_limit_is_128_bytes_not_characters():
    with Daemon(start_at=START) as d:
        for rid, ok in (("a" * 128, True), ("a" * 129, False), ("é" * 64, True), ("é" * 65, False),
                        ("Đ" * 63 + "xy", True), ("Đ" * 63 + "xyz", False), ("", False)):
            r = raw(d, {"op": "clock.show", "id": rid})
            eq(r["ok"], ok, f"id of {len(rid.encode())} bytes")
            if not ok:
                eq(code(r), "invalid_field", rid)
                assert "128 bytes" in r["error"]["message"], r
            else:
                eq(r["id"], rid, "echoed exactly")


def nested(depth):
    """A request whose extra member nests arrays so that the whole is depth levels deep."""
    inner = depth - 1          # the request object is the first level
    return b'{"op": "clock.show", "x": ' + b"[" * inner + b"]" * inner + b"}"


def test_nesting_is_limited_to_2048_levels_and_the_message_says_so():
    with Daemon(start_at=START) as d:
        assert raw(d, nested(2048))["ok"], "2048 levels, the request object included, are taken"
        r = raw(d, nested(2049))
        eq(code(r), "invalid_json", "2049 levels")
        assert "more than 2048 deep" in r["error"]["message"], r
        # the fast parser's own depth (64) is not a limit a client sees
        assert raw(d, nested(65))["ok"]


def test_error_messages_name_no_library_flag():
    with Daemon(start_at=START) as d:
        # jansson says "\\u0000 is not allowed without JSON_ALLOW_NUL"
        for text in (b'{"op": "status", "note": "a\\u0000b"}', b'{"op": "status", "a\\u0000b": 1}',
                     b'{"op": "report.submit", "unit": "XA-PHUHOADONG\\u0000"}'):
            r = raw(d, text)
            eq(code(r), "invalid_json", text.decode())
            assert "NUL" in r["error"]["message"] and "line 1 column" in r["error"]["message"], r
        # other malformed input: raw() refuses any library name in every message
        for text in (b'{"op": 1e999999}', b'{"op": 123456789012345678901234567890}', b'{"op": "\\ud800"}',
                     b'{"op": "\\x"}', b'{"op": "a\nb"}', nested(3000)):
            eq(code(raw(d, text)), "invalid_json", text[:40].decode())


def test_64_file_frames_are_taken_and_a_65th_refuses_the_request_whole():
    def submit(n, unit, sock):
        req = {"op": "report.submit", "unit": unit, "report": "BC-NAM", "period": "2024",
               "files": [f"phu-luc-{i:02d}.txt" for i in range(n)]}
        return raw(d, req, *[f"phụ lục {i}".encode() for i in range(n)], sock=sock)

    with Daemon(start_at=START) as d:
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 20000)
        s.connect(d.endpoint)
        try:
            r = submit(65, "XA-ANPHU", s)
            eq(code(r), "too_many_frames", "65 file frames")
            assert "64 files" in r["error"]["message"], r
            r = submit(66, "XA-ANPHU", s)
            eq(code(r), "too_many_frames", "66 file frames")
            eq(d.call("obligations.list", unit="XA-ANPHU", report="BC-NAM")["obligations"][0]["version"], 0,
               "nothing of a refused request is stored")
            r = submit(64, "XA-ANPHU", s)           # the same connection goes on being answered
            assert r["ok"], r
            eq(len(r["receipt"]["files"]), 64, "64 files stored")
        finally:
            s.close()


def slug(heading):
    """The anchor GitHub gives a heading: lower case, only letters, marks, digits, '_',
    '-' and spaces kept, spaces to '-'."""
    kept = "".join(c for c in heading.lower()
                   if c in "-_ " or unicodedata.category(c)[0] in "LM" or unicodedata.category(c) == "Nd")
    return kept.replace(" ", "-")


def doc_op_table():
    """(op, anchor) of every row of section 4's op table, and the anchors of the document."""
    text = open(PROTOCOL, encoding="utf-8").read()
    sec = text[text.index("\n## 4. Ops\n"):]
    sec = sec[:sec.index("\n### ")]
    rows = re.findall(r"^\| \[`([^`]+)`\]\(#([^)]+)\) \|", sec, re.M)
    anchors = {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}
    return rows, anchors


def test_every_op_the_daemon_serves_is_in_the_op_table_with_a_link_to_its_section():
    ops = served_ops()
    rows, anchors = doc_op_table()
    listed = [op for op, _ in rows]
    missing = [op for op in ops if op not in listed]
    assert not missing, f"ops the daemon serves that PROTOCOL.md's op table does not list: {missing}"
    stale = [op for op in listed if op not in ops]
    assert not stale, f"ops in PROTOCOL.md's op table that the daemon does not serve: {stale}"
    eq(len(listed), len(set(listed)), "each op listed once")
    broken = [(op, a) for op, a in rows if a not in anchors]
    assert not broken, f"op table links to no section: {broken}"
    # the names read from the source are the ones the running daemon knows
    with Daemon(start_at=START) as d:
        for op in ops:
            r = raw(d, {"op": op, "id": "optable-" + op})
            assert code(r) != "unknown_op", r
        eq(code(raw(d, {"op": "no.such.op"})), "unknown_op", "an op not in the table")


def doc_error_codes():
    """The codes of section 7's error table, in order."""
    text = open(PROTOCOL, encoding="utf-8").read()
    sec = text[text.index("\n## 7. Error codes\n"):]
    sec = sec[:sec.index("\n## 8. ")]
    return re.findall(r"^\| `([a-z0-9_]+)` \|", sec, re.M)


def proto_error_codes():
    """name -> code of every ERR_... constant of common/proto.h."""
    with open(os.path.join(ROOT, "common", "proto.h"), encoding="utf-8") as fp:
        return dict(re.findall(r'^#define (ERR_[A-Z0-9_]+)\s+"([^"]*)"', fp.read(), re.M))


def test_every_error_code_constant_is_in_the_error_table_and_every_row_is_a_constant():
    documented = doc_error_codes()
    consts = proto_error_codes()
    assert len(documented) > 50 and len(consts) > 50, (len(documented), len(consts))
    eq(len(documented), len(set(documented)), "each code documented once")
    eq(len(consts), len(set(consts.values())), "each code defined once")
    for name, value in consts.items():
        eq(name, "ERR_" + value.upper(), "a constant named after its code")
    missing = sorted(set(consts.values()) - set(documented))
    assert not missing, f"error codes of common/proto.h that PROTOCOL.md section 7 does not list: {missing}"
    stale = sorted(set(documented) - set(consts.values()))
    assert not stale, f"error codes in PROTOCOL.md section 7 with no ERR_ constant in common/proto.h: {stale}"
    # and the daemon sends each of them somewhere
    source = ""
    for top, _, names in os.walk(os.path.join(ROOT, "daemon")):
        for n in names:
            if n.endswith((".c", ".h")):
                with open(os.path.join(top, n), encoding="utf-8") as fp:
                    source += fp.read()
    unused = sorted(name for name in consts if not re.search(r"\b" + name + r"\b", source))
    assert not unused, f"error codes the daemon never uses: {unused}"


def doc_python_client():
    text = open(PROTOCOL, encoding="utf-8").read()
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.M | re.S)
    eq(len(blocks), 1, "one Python client in PROTOCOL.md")
    return blocks[0]


def test_the_documented_python_curve_client_talks_to_a_daemon_over_tcp():
    with tempfile.TemporaryDirectory() as tmp:
        # keys as the document says to make them, with the real thiduactl
        for name in ("thiduad", "lan"):
            p = subprocess.run([os.path.join(BIN, "thiduactl"), "keys", "generate", name, "--dir", tmp],
                               capture_output=True, text=True, timeout=30)
            eq(p.returncode, 0, p.stderr)
        lan_pub = open(os.path.join(tmp, "lan.pub")).read().strip()
        port = free_port()
        cfg, principal = remote_api_config(tmp, port, os.path.join(tmp, "thiduad.key"), lan_pub)
        client = os.path.join(tmp, "thidua_call.py")
        write(client, doc_python_client())

        def call(*request):
            p = subprocess.run(["/usr/bin/python3", client, f"tcp://127.0.0.1:{port}",
                                os.path.join(tmp, "thiduad.pub"), os.path.join(tmp, "lan.key")]
                               + [json.dumps(r, ensure_ascii=False) for r in request],
                               capture_output=True, text=True, timeout=60)
            assert p.stdout.strip(), f"no reply printed (rc {p.returncode}): {p.stderr}"
            return p.returncode, json.loads(p.stdout)

        with Daemon(config=cfg, start_at="2025-02-10T09:00:00+07:00") as d:
            rc, r = call()
            eq((rc, r["ok"], r["protocol"]), (0, True, 1), "status over tcp")
            assert r["id"].startswith("py-"), r
            # a write: acted as the key's principal, with Vietnamese intact
            rc, r = call({"op": "report.waive", "unit": "XA-ANPHU", "report": "KH-NAM", "period": "2025",
                          "reason": "Đơn vị đã sáp nhập"})
            eq((rc, r["ok"]), (0, True), r)
            eq(r["obligation"]["reason"], "Đơn vị đã sáp nhập", "reason round-trips")
            row = d.ctl("audit", "list", "--limit", "1")["rows"][0]
            eq((row["op"], row["principal"]), ("report.waive", principal), "the key decided who acted")
            # an error reply: exit 1 and the error object
            rc, r = call({"op": "units.show", "code": "XA-KHONGCO"})
            eq((rc, r["error"]["code"]), (1, "unknown_unit"), r)


def doc_message_kinds():
    """The kinds named in the first column of the message object's table of kinds."""
    text = open(PROTOCOL, encoding="utf-8").read()
    sec = text[text.index("\n### The message object\n"):]
    sec = sec[:sec.index("\n### ", 1)]
    table = sec[sec.index("| kind | made by |"):]
    table = table[:table.index("\n\n")]
    kinds = set()
    for line in table.splitlines()[2:]:
        kinds.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return kinds


def test_every_message_kind_the_daemon_makes_is_documented():
    documented = doc_message_kinds()
    with Daemon(start_at="2024-11-01T09:00:00+07:00") as d:
        for unit, review in (("XA-ANPHU", {"op": "report.accept"}),
                             ("XA-BINHMY", {"op": "report.return", "reason": "Thiếu bảng tổng hợp"})):
            assert raw(d, {"op": "report.submit", "unit": unit, "report": "BC-NAM", "period": "2024",
                           "files": ["bao-cao.pdf"]}, b"%PDF-1.4")["ok"]
            assert raw(d, dict(review, unit=unit, report="BC-NAM", period="2024"))["ok"]
        # past the due date: reminders, then the late units and those above them
        assert raw(d, {"op": "clock.set", "to": "2025-01-06T09:00:00+07:00"})["ok"]
        r = raw(d, {"op": "proposal.create", "as": "nguyen.thi.lan", "programme": "CDHT-XA", "year": 2025,
                    "unit": "XA-ANPHU", "scores": {f"TC{i}": True for i in range(1, 6)}, "submit": True,
                    "files": ["to-trinh.pdf"]}, "Tờ trình đề nghị công nhận".encode())
        assert r["ok"], r
        con = d.db()
        seen = {k for (k,) in con.execute("SELECT DISTINCT kind FROM outbox")}
        con.close()
    assert {"reminder", "overdue", "escalation", "accepted", "returned", "proposal"} <= seen, seen
    undocumented = seen - documented
    assert not undocumented, f"message kinds the daemon made that PROTOCOL.md does not name: {undocumented}"


def doc_members(section, header):
    """The member names in the first column of the table headed by header in section."""
    text = open(PROTOCOL, encoding="utf-8").read()
    sec = text[text.index(f"\n### {section}\n"):]
    sec = sec[:sec.index("\n### ", 1)]
    table = sec[sec.index(f"| {header} |"):]
    table = table[:table.index("\n\n")]
    names = set()
    for line in table.splitlines()[2:]:
        names.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return names


def test_audit_list_and_verify_reply_as_documented():
    with Daemon(start_at=START) as d:
        assert raw(d, {"op": "report.submit", "id": "a1", "unit": "XA-ANPHU", "report": "BC-NAM", "period": "2024",
                       "files": ["bao-cao.pdf"]}, b"%PDF-1.4")["ok"]
        assert raw(d, {"op": "clock.advance", "by": "1h"})["ok"]
        r = raw(d, {"op": "audit.list"})
        eq(set(r) - {"id", "ok"}, doc_members("audit.list (read)", "reply member"), "audit.list reply members")
        eq(r["count"], 2, "a row per write")
        want = doc_members("audit.list (read)", "row member")
        for row in r["rows"]:
            eq(set(row), want, "audit row members")
        eq([row["seq"] for row in r["rows"]], [2, 1], "newest first")
        eq((r["rows"][0]["op"], r["rows"][0]["object"], r["rows"][0]["unit"]), ("clock.advance", None, None), "no object")
        eq((r["rows"][1]["object"], r["rows"][1]["detail"]["receipt"]), ("BC-NAM/2024", "BN-2024-000001"), "detail")
        eq(raw(d, {"op": "audit.list", "object": "BC-NAM"})["count"], 1, "object prefix")
        eq(code(raw(d, {"op": "audit.list", "limit": 0})), "invalid_field", "limit 0")
        eq(code(raw(d, {"op": "audit.list", "until": "hôm qua"})), "invalid_field", "until not a time")
        documented = doc_members("audit.verify (read)", "reply member")
        r = raw(d, {"op": "audit.verify"})
        eq((r["valid"], r["rows"]), (True, 2), "intact")
        assert {"valid", "rows"} <= set(r) - {"id", "ok"} <= documented - {"first_bad", "reason"}, (r, documented)
        con = d.db()
        con.execute("UPDATE audit SET principal = 'someone' WHERE seq = 1")
        con.commit()
        con.close()
        r = raw(d, {"op": "audit.verify"})
        eq((r["ok"], r["valid"], r["rows"], r["first_bad"]), (True, False, 0, 1), "altered row: none whole before it")
        assert set(r) - {"id", "ok"} <= documented, (r, documented)
        assert {"first_bad", "reason"} <= documented, documented
