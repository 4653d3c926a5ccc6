"""thiduactl's newer read options: units show --codes (units.show codes), obligations
--with-files (obligations.list with_files), and the downloads report file and proposal
file (report.file, proposal.file): the file frame written to a path, never over an
existing file without --force, and checked against the SHA-256 of the reply."""
import hashlib
import json
import os
import subprocess
import tempfile
import threading

import zmq

from harness import BIN, Daemon, eq

START = "2024-11-10T09:00:00+07:00"
DOC = "Báo cáo kết quả năm 2024 của xã An Phú".encode()
ANNEX = b"PK\x03\x04 phu luc" + bytes(range(256)) * 40


def sha(data):
    return hashlib.sha256(data).hexdigest()


def ctl(d, *args):
    """thiduactl ARGS (no --json): exit code, stdout, stderr"""
    p = subprocess.run([os.path.join(BIN, "thiduactl"), "-e", d.endpoint] + list(args), capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def read(path):
    with open(path, "rb") as fp:
        return fp.read()


def test_units_show_codes_answers_several_units_in_one_request():
    with Daemon(start_at=START) as d:
        r = d.ctl("units", "show", "--codes", "XA-ANPHU,XA-PHUHOADONG", "--codes", "CUCHI")
        eq([u["code"] for u in r["units"]], ["XA-ANPHU", "XA-PHUHOADONG", "CUCHI"], "in the order given")
        rc, out, err = ctl(d, "units", "show", "--codes", "XA-ANPHU,CUCHI")
        eq(rc, 0, err)
        blocks = out.split("\n\n")
        eq(len(blocks), 2, out)
        assert blocks[0].startswith("code          XA-ANPHU\nname          Ủy ban nhân dân xã An Phú"), blocks[0]
        assert blocks[1].startswith("code          CUCHI\n"), blocks[1]
        # one unit as before
        rc, one, err = ctl(d, "units", "show", "XA-ANPHU")
        eq((rc, one), (0, blocks[0] + ("" if blocks[0].endswith("\n") else "\n")), "the same block")
        # a code that is not a unit: nothing answered, the closest code named
        rc, out, err = ctl(d, "units", "show", "--codes", "XA-ANPHU,XA-ANPHUU")
        eq(rc, 1, out + err)
        assert "XA-ANPHUU" in err and "XA-ANPHU?" in err, err
        for args in (["units", "show", "--codes", "XA-ANPHU,,CUCHI"], ["units", "show", "--codes", "CUCHI", "XA-ANPHU"],
                     ["units", "show"]):
            rc, out, err = ctl(d, *args)
            eq(rc, 2, f"{args}: {out}{err}")


def test_obligations_with_files_lists_each_receipts_files():
    with Daemon(start_at=START) as d:
        r = d.call("report.submit", files=[("báo cáo.pdf", DOC), ("phụ lục.xlsx", ANNEX)], unit="XA-ANPHU",
                   report="BC-NAM", period="2024")
        assert r["ok"], r
        number = r["receipt"]["number"]
        j = d.ctl("obligations", "list", "--report", "BC-NAM", "--period", "2024", "--unit", "XA-ANPHU", "--with-files")
        eq(j["obligations"][0]["files"], [{"name": "báo cáo.pdf", "size": len(DOC), "sha256": sha(DOC)},
                                          {"name": "phụ lục.xlsx", "size": len(ANNEX), "sha256": sha(ANNEX)}], "files")
        plain = d.ctl("obligations", "--report", "BC-NAM", "--period", "2024", "--unit", "XA-ANPHU")
        assert "files" not in plain["obligations"][0], "only when asked"
        rc, out, err = ctl(d, "obligations", "--report", "BC-NAM", "--period", "2024", "--under", "CUCHI", "--with-files")
        eq(rc, 0, err)
        rows = [line.split() for line in out.splitlines() if line.startswith(number)]
        eq([(x[1], x[-2], x[-1]) for x in rows], [("1", str(len(DOC)), sha(DOC)), ("2", str(len(ANNEX)), sha(ANNEX))],
           out)
        assert "báo cáo.pdf" in out and "phụ lục.xlsx" in out, out
        rc, out, err = ctl(d, "obligations", "--report", "BC-NAM", "--period", "2024", "--unit", "XA-ANPHU",
                           "--with-files", "--csv")
        eq(rc, 0, err)
        assert out.splitlines()[0].endswith(",files"), out
        assert out.splitlines()[1].endswith(",báo cáo.pdf; phụ lục.xlsx"), out


def test_report_file_and_proposal_file_write_the_bytes_checked_against_their_sha256():
    with Daemon(start_at=START) as d, tempfile.TemporaryDirectory() as tmp:
        r = d.call("report.submit", files=[("báo cáo.pdf", DOC), ("phụ lục.xlsx", ANNEX)], unit="XA-ANPHU",
                   report="BC-NAM", period="2024")
        assert r["ok"], r
        number = r["receipt"]["number"]
        # by number, by name, by hash
        a, b, c = (os.path.join(tmp, n) for n in ("a.pdf", "b.xlsx", "c.pdf"))
        rc, out, err = ctl(d, "report", "file", number, "1", "-o", a)
        eq((rc, err), (0, ""), out)
        eq(read(a), DOC, "the first file's bytes")
        eq(out, f"{a}  {len(DOC)} bytes  {sha(DOC)}\n", "what was written")
        eq(ctl(d, "report", "file", number, "phụ lục.xlsx", "--output", b)[0], 0, "by name")
        eq(read(b), ANNEX, "the second, by its name")
        j = d.ctl("report", "file", number, sha(DOC), "-o", c)
        eq((j["receipt"], j["name"], j["sha256"], read(c)), (number, "báo cáo.pdf", sha(DOC), DOC), "by hash, --json")
        # a directory: the file's own name inside it
        sub = os.path.join(tmp, "nhan")
        os.mkdir(sub)
        eq(ctl(d, "report", "file", number, "2", "-o", sub)[0], 0, "into a directory")
        eq(read(os.path.join(sub, "phụ lục.xlsx")), ANNEX, "named as stored")
        # an existing file is kept unless --force
        with open(a, "wb") as fp:
            fp.write(b"mine")
        rc, out, err = ctl(d, "report", "file", number, "2", "-o", a)
        eq(rc, 2, out + err)
        assert f"{a} exists; --force replaces it" in err, err
        eq(read(a), b"mine", "untouched")
        rc, out, err = ctl(d, "report", "file", number, "2", "-o", sub)
        eq(rc, 1, out + err)
        assert "exists; --force replaces it" in err, err
        eq(ctl(d, "report", "file", number, "2", "-o", a, "--force")[0], 0, "--force")
        eq(read(a), ANNEX, "replaced")
        # which file: one that is not there is named with the files there are
        rc, out, err = ctl(d, "report", "file", number, "3", "-o", os.path.join(tmp, "x"))
        eq(rc, 1, out + err)
        assert "has no file '3'" in err and "1  báo cáo.pdf" in err and "2  phụ lục.xlsx" in err, err
        rc, out, err = ctl(d, "report", "file", "BN-2024-999999", "1", "-o", os.path.join(tmp, "x"))
        eq(rc, 1, out + err)
        assert "BN-2024-999999" in err, err
        for args in (["report", "file", number, "1"], ["report", "file", number, "-o", "x"], ["report", "files"],
                     ["proposal", "file", "abc", "1", "-o", "x"]):
            rc, out, err = ctl(d, *args)
            eq(rc, 2, f"{args}: {out}{err}")
        eq(sorted(os.listdir(tmp)), ["a.pdf", "b.xlsx", "c.pdf", "nhan"], "no temporary file left behind")
        # a proposal's dossier: by number as proposals show lists it, by name (the latest version)
        p = d.call("proposal.create", files=[("tờ trình.pdf", DOC)], programme="BK-TT", year=2024,
                   unit="CUCHI-HKH", nominee="CHKH-PHULOI", nominee_name="Chi hội Khuyến học ấp Phú Lợi",
                   **{"as": "ngo.thi.kim"})
        assert p["ok"], p
        pid = str(p["proposal"]["id"])
        t = os.path.join(tmp, "to-trinh.pdf")
        rc, out, err = ctl(d, "--as", "ngo.thi.kim", "proposal", "file", pid, "tờ trình.pdf", "-o", t)
        eq((rc, err), (0, ""), out)
        eq(read(t), DOC, "the dossier's file")
        rc, out, err = ctl(d, "--as", "huynh.van.nam", "proposal", "file", pid, "1", "-o", os.path.join(tmp, "y"))
        eq(rc, 1, out + err)
        assert "huynh.van.nam" in err, "another commune may not read it: " + err
        assert not os.path.exists(os.path.join(tmp, "y"))


class FakeDaemon:
    """an api socket that answers report.receipt as the daemon does and report.file with
    bytes that are not the file its reply names"""

    def __init__(self, path):
        self.endpoint = f"ipc://{path}"
        self.sock = zmq.Context.instance().socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(self.endpoint)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        files = [{"name": "bao-cao.pdf", "size": len(DOC), "sha256": sha(DOC)}]
        for _ in range(2):
            frames = self.sock.recv_multipart()
            req = json.loads(frames[2])
            if req["op"] == "report.receipt":
                reply = {"id": req["id"], "ok": True, "receipt": {"number": req["number"], "files": files}}
                self.sock.send_multipart(frames[:2] + [json.dumps(reply).encode()])
            else:
                reply = dict(files[0], id=req["id"], ok=True, receipt=req["receipt"])
                self.sock.send_multipart(frames[:2] + [json.dumps(reply).encode(), DOC[:-1] + b"X"])

    def close(self):
        self.thread.join(10)
        self.sock.close()


def test_bytes_that_are_not_the_replys_sha256_are_not_kept():
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeDaemon(os.path.join(tmp, "api.sock"))
        out_dir = os.path.join(tmp, "out")
        os.mkdir(out_dir)
        try:
            p = subprocess.run([os.path.join(BIN, "thiduactl"), "-e", fake.endpoint, "report", "file", "BN-2024-000001",
                                "1", "-o", os.path.join(out_dir, "bao-cao.pdf")], capture_output=True, timeout=60)
        finally:
            fake.close()
        err = p.stderr.decode()
        eq(p.returncode, 1, err)
        assert "is not the file the daemon named" in err and sha(DOC) in err, err
        eq(os.listdir(out_dir), [], "nothing kept, no temporary file either")
