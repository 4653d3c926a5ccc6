"""A private Postfix on loopback for the tests: its own config, queue and data directories
in a temporary directory, smtpd on a free port of 127.0.0.1, and the pipe transport of
config/examples/postfix-master.cf (the shipped lines, paths replaced) running
thidua-mailin as a dedicated system user (pipe(8) refuses root). Mail to any other
destination (the answers Postfix itself writes: bounces) goes to a capture transport
that keeps each message as a file. Started and stopped by the test; skips with the
reason when it cannot run (not root, no Postfix)."""
import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BIN, ROOT

USER = "thidua-test"
EXAMPLES = os.path.join(ROOT, "config", "examples")

CAPTURE = r'''import os, sys, time
data = sys.stdin.buffer.read()
d = sys.argv[1]
name = "%d-%d.eml" % (time.time_ns(), os.getpid())
with open(os.path.join(d, "." + name), "wb") as fp:
    fp.write(data)
os.rename(os.path.join(d, "." + name), os.path.join(d, name))
'''


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need_postfix():
    """The reason this machine cannot run a private Postfix, or None."""
    if os.geteuid() != 0:
        return "a private Postfix needs root (postfix start, and a system user for the pipe transport)"
    for tool in ("/usr/sbin/postfix", "/usr/sbin/postconf", "/usr/lib/postfix/sbin/master"):
        if not os.path.exists(tool):
            return f"Postfix is not installed ({tool} missing; Debian package postfix)"
    try:
        pwd.getpwnam("postfix")
        grp.getgrnam("postdrop")
    except KeyError:
        return "the postfix user or the postdrop group is missing (Debian package postfix)"
    return None


def system_user():
    """The uid and gid of USER, created (a system user, no login) when missing."""
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        p = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            "--home-dir", "/nonexistent", USER], capture_output=True, text=True)
        if p.returncode not in (0, 9):      # 9: it exists (another test made it meanwhile)
            raise unittest.SkipTest(f"cannot create the system user {USER} for the pipe transport: {p.stderr.strip()}")
        pw = pwd.getpwnam(USER)
    return pw.pw_uid, pw.pw_gid


def open_state_dir(state_dir, uid, gid):
    """Let USER do what thidua-mailin does as the daemon's user: write STATE_DIR/inbox and
    talk to STATE_DIR/api.sock (group USER, the socket's 0660)."""
    path = state_dir
    while path not in ("/", ""):
        st = os.stat(path)
        os.chmod(path, st.st_mode | 0o001)      # search only, for the path to the state directory
        path = os.path.dirname(path)
    inbox = os.path.join(state_dir, "inbox")
    os.makedirs(inbox, exist_ok=True)
    os.chown(inbox, uid, gid)
    os.chmod(inbox, 0o750)
    sock = os.path.join(state_dir, "api.sock")
    os.chown(sock, -1, gid)
    os.chmod(sock, 0o660)


class Postfix:
    def __init__(self, state_dir, relay_domain="cuchi.example.org", message_size_limit=None):
        why = need_postfix()
        if why:
            raise unittest.SkipTest(why)
        self.uid, self.gid = system_user()
        self.state_dir = state_dir
        self.dir = tempfile.mkdtemp(prefix="thidua-postfix-")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.captured = os.path.join(self.dir, "captured")
        for d in (self.conf, self.queue, self.data, self.captured):
            os.makedirs(d)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        os.chown(self.captured, self.uid, self.gid)
        with open(os.path.join(self.dir, "capture.py"), "w") as fp:
            fp.write(CAPTURE)
        self.port = free_port()
        self.log = os.path.join(self.dir, "maillog")
        transport = self.example_transport()
        limit = message_size_limit or self.example_size_limit()
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mx.cuchi.example.org",
            "mydomain": "cuchi.example.org",
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "relay_domains": relay_domain,
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "transport_maps": "inline:{ " + transport + " }",
            "recipient_delimiter": "+",
            "thidua_destination_recipient_limit": "1",
            "message_size_limit": str(limit),
            "mailbox_size_limit": "0",
            "default_transport": "capture",
            "relay_transport": "capture",
            "local_transport": "capture",
            "maillog_file": self.log,
            "maillog_file_prefixes": self.dir,
            "smtputf8_enable": "no",
            "biff": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "smtpd_banner": "$myhostname ESMTP",
        }
        with open(os.path.join(self.conf, "main.cf"), "w") as fp:
            for k, v in main.items():
                fp.write(f"{k} = {v}\n")
        with open(os.path.join(self.conf, "master.cf"), "w") as fp:
            fp.write(self.master_cf())
        try:
            self.run("start")
        except BaseException:
            self.close()
            raise

    def example_transport(self):
        """The shipped transport line: 'nopbaocao@cuchi.example.org thidua:'."""
        with open(os.path.join(EXAMPLES, "postfix-transport"), encoding="utf-8") as fp:
            lines = [line.split() for line in fp if line.strip() and not line.startswith("#")]
        ((addr, tr),) = lines
        return f"{addr}={tr}"

    def example_size_limit(self):
        with open(os.path.join(EXAMPLES, "postfix-transport"), encoding="utf-8") as fp:
            return int(re.search(r"message_size_limit = (\d+)", fp.read()).group(1))

    def master_cf(self):
        with open(os.path.join(EXAMPLES, "postfix-master.cf"), encoding="utf-8") as fp:
            example = "".join(line for line in fp if not line.startswith("#"))
        example = (example.replace("user=thidua ", f"user={USER} ")
                   .replace("/usr/bin/thidua-mailin", os.path.join(BIN, "thidua-mailin"))
                   .replace("/var/lib/thidua", self.state_dir))
        assert f"user={USER}" in example and self.state_dir in example, example
        services = [
            (f"127.0.0.1:{self.port}", "inet", "n", "-", "n", "-", "-", "smtpd"),
            ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
            ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
            ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
            ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
            ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
            ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
            ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
            ("error", "unix", "-", "-", "n", "-", "-", "error"),
            ("retry", "unix", "-", "-", "n", "-", "-", "error"),
            ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
            ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
            ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
            ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
        ]
        text = "".join("  ".join(s) + "\n" for s in services)
        text += ("capture unix - n n - - pipe\n"
                 f"  flags=R user={USER} argv=/usr/bin/python3 {self.dir}/capture.py {self.captured}\n")
        return text + example

    def run(self, *args):
        p = subprocess.run(["/usr/sbin/postfix", "-c", self.conf, *args], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError(f"postfix {' '.join(args)}: {p.stdout}{p.stderr}\n{self.maillog()}")
        return p

    def maillog(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as fp:
                return fp.read()
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=60):
        """A line of the mail log matching pattern (a delivery's outcome), bounded."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            got = [line for line in self.maillog().splitlines() if rx.search(line)]
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError(f"no mail log line matching {pattern!r} within {timeout}s:\n{self.maillog()[-4000:]}")

    def captured_messages(self):
        return sorted(f for f in os.listdir(self.captured) if not f.startswith("."))

    def close(self):
        subprocess.run(["/usr/sbin/postfix", "-c", self.conf, "stop"], capture_output=True, timeout=60)
        # master waits for its children; the pid file goes when it is gone
        pid_file = os.path.join(self.queue, "pid", "master.pid")
        deadline = time.monotonic() + 30
        while os.path.exists(pid_file) and time.monotonic() < deadline:
            try:
                pid = int(open(pid_file).read().strip() or 0)
                os.kill(pid, 0)
            except (OSError, ValueError):
                break
            time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
