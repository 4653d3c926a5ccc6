"""Writes tests/fuzz/corpus/mailin: the replies of tests/blackbox/mail_clients.py as real
mail programs write them (Outlook, Gmail, Thunderbird, iPhone Mail, a forward, a reply
with no file, an auto-reply, a bounce), each as Postfix's pipe gives it (LF line ends) and
as IMAP gives it (CRLF). Run from the top of the tree: python3 tests/fuzz/mailin_corpus.py"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "blackbox"))
import mail_clients  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "corpus", "mailin")
TO = "nopbaocao+abcdefghijklmnopqrst@cuchi.example.org"

os.makedirs(OUT, exist_ok=True)
for kind, make in sorted(mail_clients.CLIENTS.items()):
    raw, _, _ = make(TO, f"<{kind}-corpus@client.example>")
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with open(os.path.join(OUT, f"{kind}-crlf.eml"), "wb") as fp:
        fp.write(raw)
    with open(os.path.join(OUT, f"{kind}-lf.eml"), "wb") as fp:
        fp.write(raw.replace(b"\r\n", b"\n"))
