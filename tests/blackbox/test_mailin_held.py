"""Issue 17, held mail: a reply whose sender is not an address of the unit waits in the
inbox with its files; the receiving office accepts it (it becomes the report.submit it
would have been, with the message's request id) or rejects it (the sender reads why), and
`inbox retry` runs a message again that waited for a reason that may pass."""
import hashlib
import os

from harness import Daemon, eq
from test_deadlines import at, outbox, query, read_eml, text_of
from test_mailin import (PDF, TRUNGAN, mailin, outlook_reply, plain_reply, reply_address, reply_config, scratch,
                         submissions)

STRANGER = "vanthu.trungan@gmail.com"
BIG = bytes(range(256)) * (8 * 1024 + 17)      # over 2 MiB: kept under files/, not in the row


def inbox(d):
    return query(d, "SELECT * FROM inbox ORDER BY id")


def kept_files(d, message):
    return query(d, "SELECT name, size, sha256, data IS NULL AS on_disk FROM inbox_files WHERE inbox = ?1 ORDER BY idx",
                 message)


def answers_to(d, address):
    out = []
    for r in outbox(d, "kind = 'mail_answer' AND recipient = ?1", address):
        m = read_eml(r["path"])
        out.append((str(m["Subject"]), text_of(m)))
    return out


def as_(who, **fields):
    return dict(fields, **{"as": who})


def held_from_stranger(d, msgid, attach_big=False):
    """A reply with the report, sent from an address that is not the unit's: held."""
    from email.message import EmailMessage
    to = reply_address(d)
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = STRANGER, to, "Re: Nhắc hạn", msgid
    m.set_content("Văn thư xã gửi báo cáo từ hộp thư cá nhân.")
    m.add_attachment(PDF, maintype="application", subtype="pdf", filename="Báo cáo năm 2024.pdf")
    if attach_big:
        m.add_attachment(BIG, maintype="application", subtype="octet-stream", filename="Phụ lục ảnh.zip")
    raw = m.as_bytes()
    p = mailin(d, raw, to, "--sender", STRANGER)
    eq(p.returncode, 0, p.stderr.decode())
    row = inbox(d)[-1]
    eq((row["outcome"], row["code"]), ("held", "sender_not_of_unit"), "held for the office")
    return raw, to, row


def test_mailin_held_message_accepted_by_the_office_becomes_the_submission():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        raw, to, row = held_from_stranger(d, "<held-1@mail.gmail.com>", attach_big=True)
        assert row["request"].startswith("mail-") and len(row["request"]) == 45, row["request"]
        files = kept_files(d, row["id"])
        eq([(f["name"], f["size"], f["on_disk"]) for f in files],
           [("Báo cáo năm 2024.pdf", len(PDF), 0), ("Phụ lục ảnh.zip", len(BIG), 1)],
           "the files wait with the message: the small one in its row, the large one under files/")
        eq(submissions(d), [], "nothing submitted yet")
        v = d.call("files.verify")
        eq((v["valid"], v["files"]), (True, 2), "files.verify covers a held message's files")
        # who reads it: the receiving office (and the units above it), not the unit nor another office
        eq([m["id"] for m in d.call("inbox.list", **as_("le.thi.hoa", outcome="held"))["messages"]], [row["id"]],
           "the office lists what waits for it")
        eq(d.call("inbox.show", **as_("doan.van.hung", message=row["id"]))["message"]["files"],
           ["Báo cáo năm 2024.pdf", "Phụ lục ảnh.zip"], "a unit above the office reads it")
        for who in ("nguyen.thi.lan", "hoang.thi.mai"):
            eq(d.call("inbox.list", **as_(who))["messages"], [], f"{who} lists nothing")
            r = d.call("inbox.show", **as_(who, message=row["id"]))
            eq(r.get("error", {}).get("code"), "forbidden", f"{who}: {r}")
        # who may decide: the receiving office (CUCHI-GDDT for BC-NAM), not the unit nor another office
        for who, code in (("ngo.thi.kim", "forbidden"), ("nguyen.thi.lan", "forbidden"), ("hoang.thi.mai", "forbidden")):
            r = d.call("inbox.accept", **as_(who, message=row["id"]))
            eq((r["ok"], r.get("error", {}).get("code")), (False, code), f"{who}: {r}")
        r = d.call("inbox.accept", message=row["id"] + 100)
        eq(r["error"]["code"], "not_found", r)
        r = d.call("inbox.accept", id="accept-1", **as_("tran.van.binh", message=row["id"]))
        assert r["ok"], r
        eq(r["outcome"], "submitted", r)
        number = r["receipt"]["number"]
        eq([(f["name"], f["sha256"]) for f in r["receipt"]["files"]],
           [("Báo cáo năm 2024.pdf", hashlib.sha256(PDF).hexdigest()), ("Phụ lục ảnh.zip", hashlib.sha256(BIG).hexdigest())],
           "the receipt names the files the message brought")
        (s,) = query(d, "SELECT s.receipt, s.request_id, s.note, s.principal FROM submissions s WHERE s.receipt = ?1", number)
        eq(s["request_id"], row["request"], "the submission keeps the message's request id")
        eq(s["note"].strip(), "Văn thư xã gửi báo cáo từ hộp thư cá nhân.", "the text part is the note")
        eq(s["principal"], "tran.van.binh", "accepted by")
        (after,) = inbox(d)
        eq((after["outcome"], after["receipt"], after["decided_by"]), ("submitted", number, "tran.van.binh"), "the row")
        eq(kept_files(d, row["id"]), [], "the files moved to the submission")
        eq(query(d, "SELECT state, receipt FROM obligations WHERE unit = 'XA-TRUNGAN' AND report = 'BC-NAM'"
                    " AND period = '2024'"), [{"state": "submitted", "receipt": number}], "the obligation is met")
        # a replay of the request answers the same; a second decision is refused
        r2 = d.call("inbox.accept", id="accept-1", **as_("tran.van.binh", message=row["id"]))
        eq(r2.get("receipt", {}).get("number"), number, "replayed")
        r = d.call("inbox.accept", **as_("le.thi.hoa", message=row["id"]))
        eq(r["error"]["code"], "not_held", r)
        # the sender: first told it waits, then the receipt
        at(d, "2024-11-01T12:05")
        subjects = sorted(a[0].split("]")[0] + "]" for a in answers_to(d, STRANGER))
        eq(subjects, ["[Biên nhận]", "[Chờ xem xét]"], "two answers")
        (receipt_answer,) = [a for a in answers_to(d, STRANGER) if a[0].startswith("[Biên nhận]")]
        assert number in receipt_answer[1] and hashlib.sha256(BIG).hexdigest() in receipt_answer[1], receipt_answer
        # Postfix delivering the same mail again changes nothing
        p = mailin(d, raw, to, "--sender", STRANGER)
        eq(p.returncode, 0, p.stderr.decode())
        eq(len(inbox(d)), 1, "the replay records nothing new")
        eq(len(query(d, "SELECT * FROM submissions")), 1, "one submission")
        # the audit log names who decided
        got = query(d, "SELECT principal, op FROM audit WHERE op = 'inbox.accept'")
        eq(got, [{"principal": "tran.van.binh", "op": "inbox.accept"}], "audited")
        rc, out = d.ctl_raw("inbox", "show", str(row["id"]))
        assert rc == 0 and "tran.van.binh" in out and number in out, out


def test_mailin_held_message_rejected_with_the_office_s_reason():
    tmp = scratch()
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        _, _, row = held_from_stranger(d, "<held-2@mail.gmail.com>")
        r = d.call("inbox.reject", **as_("le.thi.hoa", message=row["id"]))
        eq(r["error"]["code"], "reason_required", r)
        reason = "Thư không gửi từ địa chỉ của UBND xã; đề nghị văn thư gửi lại từ hộp thư công vụ."
        rc, out = d.ctl_raw("--as", "le.thi.hoa", "inbox", "reject", str(row["id"]), "--reason", reason)
        assert rc == 0 and "rejected" in out, out
        (after,) = inbox(d)
        eq((after["outcome"], after["reason"], after["decided_by"]), ("rejected", reason, "le.thi.hoa"), "the row")
        eq(kept_files(d, row["id"]), [], "its files are dropped")
        eq(submissions(d), [], "nothing submitted")
        for op in ("inbox.accept", "inbox.retry"):
            r = d.call(op, message=row["id"])
            eq(r["error"]["code"], "not_held" if op == "inbox.accept" else "not_retryable", r)
        at(d, "2024-11-01T12:05")
        (rej,) = [a for a in answers_to(d, STRANGER) if a[0].startswith("[Không tiếp nhận]")]
        assert reason in rej[1] and "Phòng Giáo dục" in rej[1], rej
        (m,) = d.ctl("inbox", "list", "--outcome", "rejected")["messages"]
        eq((m["reason"], m["decided_by"]), (reason, "le.thi.hoa"), "inbox list shows the decision")


def test_mailin_retry_after_the_office_adds_the_address_or_returns_the_report():
    tmp = scratch()
    cfg = reply_config(tmp)
    with Daemon(config=cfg, start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        _, to, held = held_from_stranger(d, "<held-3@mail.gmail.com>")
        # run again as things are: still held, nothing new told to the sender
        r = d.call("inbox.retry", **as_("tran.van.binh", message=held["id"]))
        eq((r["outcome"], r["error"]["code"]), ("held", "sender_not_of_unit"), r)
        eq(len(kept_files(d, held["id"])), 1, "still waiting with its file")
        # the office adds the address to the unit, reloads, runs it again: the unit's own now
        with open(cfg, encoding="utf-8") as fp:
            text = fp.read()
        with open(cfg, "w", encoding="utf-8") as fp:
            fp.write(text.replace(f'emails = [ "{TRUNGAN}" ];', f'emails = [ "{TRUNGAN}", "{STRANGER}" ];', 1))
        assert d.call("config.reload")["ok"]
        rc, out = d.ctl_raw("inbox", "retry", str(held["id"]))
        assert rc == 0 and "submitted" in out and "receipt BN-2024-" in out, out
        (s,) = submissions(d)
        (row,) = inbox(d)
        eq((row["outcome"], row["receipt"], row["retries"]), ("submitted", s["receipt"], 2), "submitted on the retry")
        eq(query(d, "SELECT request_id FROM submissions")[0]["request_id"], held["request"], "the message's request id")
        eq(kept_files(d, held["id"]), [], "files moved to the submission")
        r = d.call("inbox.retry", message=held["id"])
        eq(r["error"]["code"], "not_retryable", r)
        assert "taken already" in r["error"]["message"], r

        # already accepted: refused, waits; the office returns the report; the retry takes it
        assert d.call("report.accept", unit="XA-TRUNGAN", report="BC-NAM", period="2024")["ok"]
        raw, _ = outlook_reply(to, "<after-accept@outlook.com>")
        p = mailin(d, raw, to, "--sender", TRUNGAN)
        eq(p.returncode, 0, p.stderr.decode())
        late = inbox(d)[-1]
        eq((late["outcome"], late["code"]), ("refused", "already_accepted"), "refused for now")
        eq(len(kept_files(d, late["id"])), 1, "a refusal that may pass keeps the file")
        r = d.call("inbox.retry", **as_("le.thi.hoa", message=late["id"]))
        eq((r["outcome"], r["error"]["code"]), ("refused", "already_accepted"), r)
        r = d.call("inbox.retry", **as_("huynh.van.nam", message=late["id"]))
        eq(r["error"]["code"], "forbidden", "another office's reviewer")
        assert d.call("report.return", unit="XA-TRUNGAN", report="BC-NAM", period="2024", reason="Bổ sung")["ok"]
        r = d.call("inbox.retry", **as_("le.thi.hoa", message=late["id"]))
        eq(r["outcome"], "submitted", r)
        eq(len(submissions(d)), 2, "the second version")
        eq(inbox(d)[-1]["receipt"], r["receipt"]["number"], "the row names it")

        # a refusal that cannot pass is not run again
        p = mailin(d, plain_reply(to, "<no-file@x>"), to)
        eq(p.returncode, 0, p.stderr.decode())
        nofile = inbox(d)[-1]
        eq((nofile["outcome"], nofile["code"]), ("refused", "no_file"), "refused")
        eq(kept_files(d, nofile["id"]), [], "nothing kept")
        r = d.call("inbox.retry", message=nofile["id"])
        eq(r["error"]["code"], "not_retryable", r)
        at(d, "2024-11-01T12:10")
        subjects = sorted(a[0].split("]")[0] + "]" for a in answers_to(d, TRUNGAN))
        eq(subjects.count("[Biên nhận]"), 1, "the retry's receipt answered once to the unit")
        eq(sorted(a[0].split("]")[0] + "]" for a in answers_to(d, STRANGER)), ["[Biên nhận]", "[Chờ xem xét]"],
           "the stranger: held, then the receipt of the retry")


def test_mailin_held_mail_survives_a_backup_and_restore():
    from test_backup import backup, restore
    tmp = scratch()
    archive = os.path.join(tmp, "b.tar")
    with Daemon(config=reply_config(tmp), start_at="2024-10-25T12:00:00+07:00") as d:
        at(d, "2024-11-01T12:00")
        _, _, row = held_from_stranger(d, "<held-backup@x>", attach_big=True)
        backup(d, archive)
    target = os.path.join(tmp, "restored")
    rc, out = restore(archive, target)
    assert rc == 0, out
    with Daemon(config=reply_config(tmp), state_dir=target) as r:
        got = r.call("inbox.accept", message=row["id"])
        assert got["ok"], got
        eq(got["receipt"]["files"][1]["sha256"], hashlib.sha256(BIG).hexdigest(), "the large file came through")
