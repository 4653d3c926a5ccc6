"""Issue 18, backups: thiduactl backup takes a consistent archive while clients submit;
thiduad --restore puts it into an empty directory and verifies it (archive sums, SQLite
integrity, the audit chain with its key and anchor, every stored file), refusing a changed
archive or a directory that is not empty; --dir/--keep keeps the newest archives."""
import hashlib
import io
import os
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
import time

from harness import BIN, CONFIG, ROOT, Daemon, eq

START = "2024-11-10T09:00:00+07:00"
BIG = bytes(range(256)) * 6000          # 1.5 MB: kept under files/, not in its row
UNITS = ["XA-ANPHU", "XA-BINHMY", "XA-PHUHOADONG", "XA-TRUNGAN", "XA-THAIMY", "CUCHI-HKH"]


def submit(d, unit, files, rid=None):
    f = {"id": rid} if rid else {}
    return d.call("report.submit", files=files, unit=unit, report="BC-NAM", period="2024", **f)


def restore(archive, target):
    p = subprocess.run([os.path.join(BIN, "thiduad"), "-c", CONFIG, "--restore", archive, "--state-dir", target],
                       capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def backup(d, *args):
    rc, out = d.ctl_raw("backup", *args, timeout=120)
    assert rc == 0, out
    return out


def members(archive):
    with tarfile.open(archive) as t:
        return {m.name: m for m in t.getmembers()}


def test_a_backup_taken_while_clients_submit_restores_every_receipt_acknowledged():
    tmp = tempfile.mkdtemp(prefix="thidua-bk-")
    archive = os.path.join(tmp, "thidua.tar")
    with Daemon(start_at=START) as d:
        first = submit(d, "XA-ANPHU", [("hồ sơ thi đua.pdf", BIG)])
        assert first["ok"], first
        acked, errors = [first["receipt"]["number"]], []
        lock = threading.Lock()

        def writer():
            for i in range(120):
                r = submit(d, UNITS[i % len(UNITS)], [(f"báo cáo {i}.pdf", f"Báo cáo số {i}".encode())], f"bk-{i}")
                with lock:
                    (acked if r["ok"] else errors).append(r["receipt"]["number"] if r["ok"] else r)

        t = threading.Thread(target=writer)
        t.start()
        deadline = time.monotonic() + 30
        while len(acked) < 20 and t.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        with lock:
            before = list(acked)
        out = backup(d, archive)
        t.join(60)
        assert not t.is_alive() and not errors, errors[:3]
        assert "written to " + archive in out, out
        eq(len(acked), 121, "every submission acknowledged")
        live_head = d.call("audit.verify")["rows"]

    # a standard tar reads it; SHA256SUMS holds every other member's hash
    listing = subprocess.run(["tar", "-tf", archive], capture_output=True, text=True, check=True).stdout.split()
    big_name = "files/%s/%s" % (hashlib.sha256(BIG).hexdigest()[:2], hashlib.sha256(BIG).hexdigest())
    for name in ("thidua.db", "audit.key", big_name, "SHA256SUMS"):     # audit.anchor: once one was written
        assert name in listing, (name, listing)
    with tarfile.open(archive) as tf:
        sums = dict(reversed(line.split("  ", 1)) for line in tf.extractfile("SHA256SUMS").read().decode().splitlines())
        eq(set(sums), set(listing) - {"SHA256SUMS"}, "every member summed")
        for name, want in sums.items():
            eq(hashlib.sha256(tf.extractfile(name).read()).hexdigest(), want, name)

    target = os.path.join(tmp, "restored")
    rc, out = restore(archive, target)
    assert rc == 0, out
    assert "verified" in out, out
    with Daemon(state_dir=target, start_at=START) as r:
        for number in before:
            got = r.call("report.receipt", number=number)
            assert got["ok"], (number, got)
        eq(r.call("report.receipt", number=before[0])["receipt"]["files"][0]["sha256"], hashlib.sha256(BIG).hexdigest(),
           "the large file's receipt")
        v = r.call("audit.verify")
        assert v["valid"], v
        assert v["anchor"]["row"] == v["rows"], ("anchored at the restored head", v)
        assert len(before) < v["rows"] <= live_head, (v["rows"], live_head)
        f = r.call("files.verify")
        assert f["valid"] and f["under_files"] == 1, f
        # the restored daemon goes on writing on the restored chain
        after = submit(r, "XA-TRUNGAN", [("bổ sung.pdf", "Bổ sung".encode())], "after-restore")
        assert after["ok"], after
        assert r.call("audit.verify")["valid"]
    subprocess.run(["rm", "-rf", tmp])


def _archive(tmp):
    """A daemon with a receipt whose file is under files/, backed up into tmp."""
    archive = os.path.join(tmp, "b.tar")
    with Daemon(start_at=START) as d:
        r = submit(d, "XA-ANPHU", [("hồ sơ.pdf", BIG)])
        assert r["ok"], r
        assert submit(d, "XA-BINHMY", [("nhỏ.pdf", b"small")])["ok"]
        backup(d, archive)
    return archive, r["receipt"]["number"]


def _changed(archive, member, at, out):
    data = bytearray(open(archive, "rb").read())
    data[members(archive)[member].offset_data + at] ^= 0x20
    open(out, "wb").write(bytes(data))
    return out


def _repacked(archive, out, change):
    """The archive rewritten with change(name, bytes) -> bytes, and SHA256SUMS made to match:
    what only the verification of the restored state can catch."""
    with tarfile.open(archive) as tf:
        content = {m.name: tf.extractfile(m).read() for m in tf.getmembers()}
    for name in list(content):
        if name != "SHA256SUMS":
            content[name] = change(name, content[name])
    content["SHA256SUMS"] = "".join("%s  %s\n" % (hashlib.sha256(v).hexdigest(), k)
                                    for k, v in content.items() if k != "SHA256SUMS").encode()
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as tf:
        for name, v in content.items():
            info = tarfile.TarInfo(name)
            info.size = len(v)
            tf.addfile(info, io.BytesIO(v))
    return out


def test_a_changed_archive_is_refused_naming_what_is_wrong():
    tmp = tempfile.mkdtemp(prefix="thidua-bk-")
    archive, number = _archive(tmp)
    hexname = hashlib.sha256(BIG).hexdigest()
    big_name = "files/%s/%s" % (hexname[:2], hexname)

    # a byte changed in the database, in a stored file
    for member, at in (("thidua.db", 5000), (big_name, 777777)):
        bad = _changed(archive, member, at, os.path.join(tmp, "bad.tar"))
        target = os.path.join(tmp, "r-" + member.replace("/", "_"))
        rc, out = restore(bad, target)
        assert rc == 1, out
        assert "member %s does not match its SHA-256 in SHA256SUMS" % member in out, out
        assert not os.path.exists(target), "the directory the restore made is removed again"

    # cut short
    data = open(archive, "rb").read()
    open(os.path.join(tmp, "short.tar"), "wb").write(data[:len(data) // 2])
    rc, out = restore(os.path.join(tmp, "short.tar"), os.path.join(tmp, "r-short"))
    assert rc == 1 and "truncated" in out, out

    # the audit log edited in the database, and the sums made to match
    def edit_audit(name, v):
        if name != "thidua.db":
            return v
        path = os.path.join(tmp, "edit.db")
        open(path, "wb").write(v)
        con = sqlite3.connect(path)
        con.execute("UPDATE audit SET principal = 'ai-do' WHERE seq = 1")
        con.commit()
        con.close()
        return open(path, "rb").read()
    target = os.path.join(tmp, "r-audit")
    os.mkdir(target)                       # an empty directory that exists stays, empty
    rc, out = restore(_repacked(archive, os.path.join(tmp, "audit.tar"), edit_audit), target)
    assert rc == 1 and "the audit log does not verify at row 1" in out and "altered" in out, out
    eq(os.listdir(target), [], "emptied again")

    # a stored file swapped, and the sums made to match
    swap = lambda name, v: b"x" * len(v) if name == big_name else v
    rc, out = restore(_repacked(archive, os.path.join(tmp, "file.tar"), swap), os.path.join(tmp, "r-file"))
    assert rc == 1 and "stored files do not match" in out and number in out and "hồ sơ.pdf" in out, out

    # a member that is no part of a backup
    rc, out = restore(_repacked(archive, os.path.join(tmp, "ok.tar"), lambda n, v: v), os.path.join(tmp, "r-ok"))
    assert rc == 0, out
    subprocess.run(["rm", "-rf", tmp])


def test_restoring_into_a_directory_that_is_not_empty_is_refused():
    tmp = tempfile.mkdtemp(prefix="thidua-bk-")
    archive, _ = _archive(tmp)
    target = os.path.join(tmp, "live")
    os.mkdir(target)
    open(os.path.join(target, "thidua.db"), "wb").write(b"the running system's database")
    rc, out = restore(archive, target)
    assert rc == 1, out
    assert target in out and "is not empty (it holds thidua.db)" in out, out
    eq(open(os.path.join(target, "thidua.db"), "rb").read(), b"the running system's database", "untouched")
    eq(os.listdir(target), ["thidua.db"], "nothing added")
    # the directory is always named: never the configured state directory by default
    p = subprocess.run([os.path.join(BIN, "thiduad"), "-c", CONFIG, "--restore", archive], capture_output=True, timeout=60)
    assert p.returncode == 2 and b"--restore needs --state-dir DIR" in p.stderr, p
    subprocess.run(["rm", "-rf", tmp])


def test_backup_dir_keeps_the_newest_and_the_timer_runs_it():
    tmp = tempfile.mkdtemp(prefix="thidua-bk-")
    with Daemon(start_at=START) as d:
        made = []
        for day in range(4):
            out = backup(d, "--dir", tmp, "--keep", "2")
            made.append(out.split()[1].rstrip(":"))
            d.ctl("clock", "advance", "1d")
        eq(sorted(made), made, "names sort by time")
        eq(sorted(os.listdir(tmp)), [m + ".tar" for m in made[2:]], "the newest two kept")
        assert "removed %s/%s.tar" % (tmp, made[1]) in out, out
        # the daemon keeps only its latest archive in STATE_DIR/backups
        eq(os.listdir(os.path.join(d.dir, "backups")), [made[-1] + ".tar"], "one archive in the state directory")
        # a usage error and an unknown name change nothing
        rc, out = d.ctl_raw("backup", "--keep", "3", os.path.join(tmp, "x.tar"))
        assert rc == 2 and "--keep needs --dir" in out, out
        r = d.call("backup.read", backup="thidua-19700101T000000Z", offset=0)
        eq(r["error"]["code"], "unknown_backup", r)
        assert made[-1] in r["error"]["message"], r
    unit = open(os.path.join(ROOT, "systemd", "thidua-backup.service")).read()
    timer = open(os.path.join(ROOT, "systemd", "thidua-backup.timer")).read()
    assert "backup --dir /var/backups/thidua --keep 14" in unit, unit
    assert "OnCalendar=" in timer and "Unit=thidua-backup.service" in timer, timer
    subprocess.run(["rm", "-rf", tmp])


def test_a_stored_file_changed_on_disk_fails_the_backup_naming_it():
    tmp = tempfile.mkdtemp(prefix="thidua-bk-")
    hexname = hashlib.sha256(BIG).hexdigest()
    with Daemon(start_at=START) as d:
        assert submit(d, "XA-ANPHU", [("hồ sơ.pdf", BIG)])["ok"]
        stored = os.path.join(d.dir, "files", hexname[:2], hexname)
        data = bytearray(open(stored, "rb").read())
        data[1000] ^= 1
        open(stored, "wb").write(bytes(data))
        rc, out = d.ctl_raw("backup", os.path.join(tmp, "b.tar"))
        assert rc == 1, out
        assert "files/%s/%s no longer matches its SHA-256" % (hexname[:2], hexname) in out, out
        assert "files verify" in out, out
        eq(os.listdir(tmp), [], "no archive copied")
        eq(os.listdir(os.path.join(d.dir, "backups")), [], "no partial archive left in the state directory")
        eq(d.call("backup.status")["backup"]["state"], "failed", "status")
        os.unlink(stored)
        rc, out = d.ctl_raw("backup", os.path.join(tmp, "b.tar"))
        assert rc == 1 and "a stored file is missing" in out, out
    subprocess.run(["rm", "-rf", tmp])
