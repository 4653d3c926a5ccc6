"""A private Dovecot on loopback for the tests: IMAP over TLS (a self-signed certificate
made for 127.0.0.1, handed to the client as its CA), one passwd-file user whose maildir is
in a temporary directory. Started and stopped by the test; skips with the reason when it
cannot run (not root, Dovecot or openssl missing)."""
import imaplib
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest

from postfix import free_port, system_user

USER = "tongthu@cuchi.example.org"
PASSWORD = "mat-khau-thu-2024"


def need_dovecot():
    if os.geteuid() != 0:
        return "a private Dovecot needs root (its master binds and drops to the mail user)"
    for tool in ("/usr/sbin/dovecot", "/usr/lib/dovecot/imap", "/usr/bin/openssl"):
        if not os.path.exists(tool):
            return f"{tool} is missing (Debian packages dovecot-imapd, openssl)"
    return None


class Dovecot:
    def __init__(self):
        why = need_dovecot()
        if why:
            raise unittest.SkipTest(why)
        uid, gid = system_user()
        self.dir = tempfile.mkdtemp(prefix="thidua-dovecot-")
        os.chmod(self.dir, 0o755)
        for d in ("run", "state", "home"):
            os.makedirs(os.path.join(self.dir, d))
        os.chown(os.path.join(self.dir, "home"), uid, gid)
        self.port = free_port()
        self.cert = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", key, "-out", self.cert], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        self.password_file = os.path.join(self.dir, "imap-password")
        with open(self.password_file, "w", encoding="utf-8") as fp:
            fp.write(PASSWORD + "\n")
        os.chmod(self.password_file, 0o600)
        with open(os.path.join(self.dir, "passwd"), "w", encoding="utf-8") as fp:
            fp.write(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        self.log = os.path.join(self.dir, "dovecot.log")
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w", encoding="utf-8") as fp:
            fp.write(f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.dir}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
default_login_user = dovenull
default_internal_user = dovecot
""")
        self.conf = conf
        try:
            self.start(conf)
        except BaseException:
            self.close()
            raise
        self.url = f"imaps://127.0.0.1:{self.port}/INBOX"

    def start(self, conf):
        # dovecot goes to the background: its output to a file, not to pipes it would keep open
        with open(os.path.join(self.dir, "start.out"), "w") as out:
            p = subprocess.run(["/usr/sbin/dovecot", "-c", conf], stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "start.out")) as fp:
            started = fp.read()
        assert p.returncode == 0, started + self.read_log()
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def read_log(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as fp:
                return fp.read()
        except OSError:
            return ""

    def client(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        m = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ctx)
        m.login(USER, PASSWORD)
        return m

    def append(self, raw, mailbox="INBOX"):
        m = self.client()
        try:
            typ, data = m.append(mailbox, None, None, raw)
            assert typ == "OK", data
        finally:
            m.logout()

    def messages(self, mailbox="INBOX"):
        """(uid, flags) of every message of the mailbox."""
        m = self.client()
        try:
            m.select(mailbox, readonly=True)
            typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
            out = []
            for item in data:
                if not item:
                    continue
                text = item.decode() if isinstance(item, bytes) else item[0].decode()
                import re
                got = re.search(r"UID (\d+) FLAGS \(([^)]*)\)", text) or re.search(r"FLAGS \(([^)]*)\) UID (\d+)", text)
                if got and got.re.pattern.startswith("UID"):
                    out.append((int(got.group(1)), got.group(2).split()))
                elif got:
                    out.append((int(got.group(2)), got.group(1).split()))
            return sorted(out)
        finally:
            m.logout()

    def create(self, mailbox):
        m = self.client()
        try:
            typ, data = m.create(mailbox)
            assert typ == "OK", data
        finally:
            m.logout()

    def close(self):
        pid_file = os.path.join(self.dir, "run", "master.pid")
        try:
            pid = int(open(pid_file).read().strip())
            os.kill(pid, 15)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
