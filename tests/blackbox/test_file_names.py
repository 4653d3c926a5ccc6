"""File names of report submissions and proposal dossiers: names that hide what they are
(bidirectional controls, zero-width characters), break a line (C0 and C1 controls, line
and paragraph separators), are only spaces, or repeat within one submission are refused,
each error naming the field and the file, and nothing is stored."""
import os

from harness import Daemon, eq

DOC = "Báo cáo kết quả năm 2024".encode()

BAD = [
    ("a\u0085b.pdf", "control", "<U+0085>"),
    ("bao\u0007cao.pdf", "control", "<U+0007>"),
    ("bao\u009bcao.pdf", "control", "<U+009B>"),
    ("bao\u2028cao.pdf", "line or paragraph separator", "<U+2028>"),
    ("bao\u2029cao.pdf", "line or paragraph separator", "<U+2029>"),
    ("\u202egpj.exe", "bidirectional", "<U+202E>gpj.exe"),
    ("\u202abao.pdf", "bidirectional", "<U+202A>"),
    ("\u2066bao\u2069.pdf", "bidirectional", "<U+2066>"),
    ("bao\u200e.pdf", "bidirectional", "<U+200E>"),
    ("bao\u200f.pdf", "bidirectional", "<U+200F>"),
    ("bao\u061c.pdf", "bidirectional", "<U+061C>"),
    ("bao\u200b.pdf", "zero-width", "<U+200B>"),
    ("bao\u200d.pdf", "zero-width", "<U+200D>"),
    ("bao\u2060.pdf", "zero-width", "<U+2060>"),
    ("\ufeffbao.pdf", "zero-width", "<U+FEFF>"),
    ("   ", "only spaces", None),
    ("\u00a0\u3000 ", "only spaces", None),
]


def check(reply, fragment, shown, item=2):
    assert not reply["ok"], reply
    eq(reply["error"]["code"], "invalid_file_name", reply["error"]["message"])
    msg = reply["error"]["message"]
    assert "'files' item %d" % item in msg and fragment in msg, msg
    if shown:
        assert shown in msg, msg
    # what a reader sees is what was sent: no raw control or override in the message
    assert not any(c in msg for c in "\u202e\u2028\u0085\u200b\ufeff"), msg


def test_report_submissions_refuse_deceptive_names_and_duplicates():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        for name, fragment, shown in BAD:
            r = d.call("report.submit", files=[("bao-cao.pdf", DOC), (name, DOC)], unit="XA-ANPHU",
                       report="BC-NAM", period="2024", **{"as": "nguyen.thi.lan"})
            check(r, fragment, shown)
        r = d.call("report.submit", files=[("Báo cáo.pdf", DOC), ("phụ lục.xlsx", DOC), ("Báo cáo.pdf", DOC + b"2")],
                   unit="XA-ANPHU", report="BC-NAM", period="2024")
        assert not r["ok"], r
        eq(r["error"]["code"], "invalid_file_name", "duplicate")
        assert "items 1 and 3" in r["error"]["message"] and "Báo cáo.pdf" in r["error"]["message"], r
        eq(d.db().execute("SELECT count(*) FROM submissions").fetchone()[0], 0, "nothing stored")
        eq(os.path.exists(os.path.join(d.dir, "files")), False, "no file written")
        # Vietnamese names with inner spaces, and a name that is not a string
        r = d.call("report.submit", files=[("bao.pdf", DOC), (5, DOC)], unit="XA-ANPHU", report="BC-NAM", period="2024")
        eq(r["error"]["code"], "invalid_field", r)
        assert "'files' item 2" in r["error"]["message"], r
        r = d.call("report.submit", files=[("Báo cáo năm 2024 – xã An Phú.pdf", DOC), ("Phụ lục  1.xlsx", DOC)],
                   unit="XA-ANPHU", report="BC-NAM", period="2024")
        assert r["ok"], r
        eq([f["name"] for f in r["receipt"]["files"]], ["Báo cáo năm 2024 – xã An Phú.pdf", "Phụ lục  1.xlsx"], "kept")


def test_proposal_dossiers_refuse_the_same_names():
    with Daemon(start_at="2024-11-10T09:00:00+07:00") as d:
        base = dict(programme="BK-TT", year=2024, unit="CUCHI-HKH", nominee="CHKH-PHULOI",
                    nominee_name="Chi hội Khuyến học ấp Phú Lợi", **{"as": "ngo.thi.kim"})
        for name, fragment, shown in BAD:
            r = d.call("proposal.create", files=[("to-trinh.pdf", DOC), (name, DOC)], **base)
            check(r, fragment, shown)
        r = d.call("proposal.create", files=[("to-trinh.pdf", DOC), ("to-trinh.pdf", DOC)], **base)
        eq(r["error"]["code"], "invalid_file_name", r)
        assert "items 1 and 2" in r["error"]["message"], r
        eq(d.db().execute("SELECT count(*) FROM proposals").fetchone()[0], 0, "nothing stored")
        r = d.call("proposal.create", files=[("tờ trình.pdf", DOC), ("báo cáo thành tích.pdf", DOC)], **base)
        assert r["ok"], r
        pid = r["proposal"]["id"]
        # a resubmission's files are checked the same way
        r = d.call("proposal.submit", proposal=pid, files=[("x\u202e.pdf", DOC)], **{"as": "ngo.thi.kim"})
        eq(r["error"]["code"], "invalid_file_name", r)
        assert "'files' item 1" in r["error"]["message"], r


def test_the_name_of_an_imported_csv_file_is_refused_the_same_way():
    csv = ("code,name,hamlet,TC1,TC2,TC3,TC4\n"
           "HGD-00001,Hộ ông Nguyễn Văn Một,AP-PHD-PHULOI,28,27,18,15\n").encode()
    with Daemon(start_at="2025-01-06T09:00:00+07:00") as d:
        r = d.call("proposals.import", files=[("x.csv", csv)], programme="GDHT", year=2025, unit="XA-PHUHOADONG",
                   filename="\u202evsc.exe")
        eq(r["error"]["code"], "invalid_file_name", r)
        assert "'filename'" in r["error"]["message"] and "<U+202E>vsc.exe" in r["error"]["message"], r
        r = d.call("units.import", files=[("u.csv", b"code,name,level,kind\n")], filename="u\u2028.csv")
        eq(r["error"]["code"], "invalid_file_name", r)
        assert "'filename'" in r["error"]["message"], r
        eq(d.call("proposals.list")["count"], 0, "nothing imported")
