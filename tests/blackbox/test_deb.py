"""The Debian package (make deb): its contents, lintian, an install into a scratch root and
its purge, the unit's systemd-analyze security score, and the service started by systemd
where systemd runs as PID 1.

Building the package takes a while: the .deb of build/deb is built once (make deb) and
reused while it is newer than every file of the tree, so the ASan pass and a rerun use the
same one. Each test skips, saying why, where the tools or the machine cannot do its part."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import ROOT, eq

DEBDIR = os.path.join(ROOT, "build", "deb")
SKIP_DIRS = {".git", "build", "bin", "var", "__pycache__"}
_built = {}


def version():
    with open(os.path.join(ROOT, "debian", "changelog"), encoding="utf-8") as fp:
        m = re.match(r"thidua \(([^)]+)\)", fp.readline())
    assert m, "debian/changelog: the first line must be 'thidua (VERSION) ...'"
    return m.group(1)


def newest_source():
    newest = 0.0
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for f in files:
            if not f.endswith(".pyc"):
                newest = max(newest, os.lstat(os.path.join(top, f)).st_mtime)
    return newest


def deb():
    """the path of thidua_VERSION_ARCH.deb, built by make deb unless a fresh one is there"""
    if "deb" in _built:
        return _built["deb"]
    missing = [t for t in ("dpkg-buildpackage", "dh", "lintian") if not shutil.which(t)]
    if missing:
        raise unittest.SkipTest(f"{', '.join(missing)} not installed (make deb installs debhelper, "
                                "dpkg-dev and lintian as root, or prints the apt-get line)")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    path = os.path.join(DEBDIR, f"thidua_{version()}_{arch}.deb")
    if not (os.path.exists(path) and os.path.getmtime(path) > newest_source()):
        p = subprocess.run(["make", "--no-print-directory", "deb"], cwd=ROOT, capture_output=True,
                           text=True, timeout=1800)
        assert p.returncode == 0, f"make deb failed ({p.returncode}):\n{(p.stdout + p.stderr)[-4000:]}"
        assert os.path.exists(path), f"make deb did not build {path}:\n{p.stdout[-2000:]}"
    _built["deb"] = path
    return path


def run(*cmd, ok=True, env=None, timeout=300):
    p = subprocess.run(list(cmd), capture_output=True, text=True, env=env, timeout=timeout)
    if ok:
        assert p.returncode == 0, f"{' '.join(cmd)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def contents(path):
    """{path: (mode string, owner/group)} from dpkg-deb -c"""
    out = {}
    for line in run("dpkg-deb", "-c", path).stdout.splitlines():
        f = line.split(None, 5)
        name = f[5].split(" -> ")[0]
        out[name.lstrip(".").rstrip("/") or "/"] = (f[0], f[1])
    return out


def units():
    return sorted(f for f in os.listdir(os.path.join(ROOT, "systemd"))
                  if f.rsplit(".", 1)[-1] in ("service", "timer", "socket", "path", "target"))


def wanted_by(unit):
    """the targets of the [Install] section of systemd/UNIT ([] without one)"""
    text = open(os.path.join(ROOT, "systemd", unit), encoding="utf-8").read()
    m = re.search(r"(?ms)^\[Install\]$(.*?)(?=^\[|\Z)", text)
    if not m:
        return []
    return [t for line in re.findall(r"(?m)^WantedBy=(.*)$", m.group(1)) for t in line.split()]


def programs():
    ws = sorted(w for w in os.listdir(os.path.join(ROOT, "workers"))
                if any(f.endswith(".c") for f in os.listdir(os.path.join(ROOT, "workers", w))))
    return ["/usr/sbin/thiduad", "/usr/bin/thiduactl"] + [f"/usr/sbin/thidua-{w}" for w in ws]


def test_deb_build_depends():
    """every library the Makefile builds against (its -dev packages) is a build dependency"""
    make = open(os.path.join(ROOT, "Makefile"), encoding="utf-8").read()
    m = re.search(r"(?m)^DEBIAN_PACKAGES :?= ((?:.*\\\n)*.*)$", make)
    assert m, "no DEBIAN_PACKAGES in the Makefile"
    dev = {p for p in m.group(1).replace("\\\n", " ").split() if p.endswith("-dev") and p != "libc6-dev"}
    control = open(os.path.join(ROOT, "debian", "control"), encoding="utf-8").read()
    bd = re.search(r"(?ms)^Build-Depends:(.*?)^\S", control).group(1)
    names = {re.split(r"[\s(\[<]", alt.strip())[0] for dep in bd.split(",") for alt in dep.split("|") if alt.strip()}
    assert dev and dev <= names, f"debian/control Build-Depends lacks {sorted(dev - names)}"


def test_deb_contents():
    path = deb()
    files = contents(path)
    for p in programs():
        assert p in files, f"{p} is not in the package"
        assert files[p][0] == "-rwxr-xr-x", f"{p}: mode {files[p][0]}"
    for u in units():
        assert f"/lib/systemd/system/{u}" in files, f"unit {u} of systemd/ is not in the package"
    for p in ("/usr/lib/sysusers.d/thidua.conf", "/usr/lib/tmpfiles.d/thidua.conf",
              "/usr/share/man/man1/thiduactl.1.gz", "/usr/share/man/man8/thiduad.8.gz",
              "/usr/share/doc/thidua/copyright", "/usr/share/doc/thidua/README.md.gz"):
        assert p in files, f"{p} is not in the package"
    for page in os.listdir(os.path.join(ROOT, "docs")):
        if re.fullmatch(r".+\.[18]", page):
            want = f"/usr/share/man/man{page[-1]}/{page}.gz"
            assert want in files, f"manual page {page} is not in the package"
    for p in programs():
        name = os.path.basename(p)
        assert any(re.fullmatch(rf"/usr/share/man/man[18]/{re.escape(name)}\.[18]\.gz", f) for f in files), \
            f"{name} has no manual page"
    for ex in os.listdir(os.path.join(ROOT, "config", "examples")):
        assert f"/usr/share/doc/thidua/examples/{ex}" in files, f"example {ex} is not in the package"
    # the configuration may hold passwords: never readable by others
    eq(files.get("/etc/thidua/thidua.cfg"), ("-rw-r-----", "root/root"), "the configuration's mode")

    info = run("dpkg-deb", "-I", path).stdout
    eq(re.search(r"^ Version: (\S+)$", info, re.M).group(1), version(), "Version")
    depends = re.search(r"^ Depends: (.*)$", info, re.M).group(1)
    for lib in ("libzmq5", "libsqlite3-0", "libconfig9", "libjansson4", "libcurl4", "systemd"):
        assert lib in depends, f"Depends lacks {lib}: {depends}"
    # the configuration and the summary's template, which an office may edit: kept on upgrade
    want = ["/etc/thidua/thidua.cfg"] + sorted(
        "/etc/thidua/templates/" + os.path.relpath(os.path.join(top, f), os.path.join(ROOT, "config", "templates"))
        for top, _, files in os.walk(os.path.join(ROOT, "config", "templates")) for f in files)
    eq(sorted(run("dpkg-deb", "-I", path, "conffiles").stdout.split()), sorted(want), "conffiles")
    postinst = run("dpkg-deb", "-I", path, "postinst").stdout
    for want in ("systemd-sysusers", "systemd-tmpfiles", "deb-systemd-helper enable 'thiduad.service'",
                 "_dh_action=restart"):
        assert want in postinst, f"postinst lacks {want!r}:\n{postinst}"
    # units with an [Install] section are enabled, started and restarted on upgrade; one
    # without (a service a timer starts) is neither
    starts = re.search(r"deb-systemd-invoke \$_dh_action (.*) >", postinst).group(1)
    for u in units():
        if wanted_by(u):
            assert f"deb-systemd-helper enable '{u}'" in postinst, f"{u} is not enabled:\n{postinst}"
            assert f"'{u}'" in starts, f"{u} is not started: {starts}"
        else:
            assert f"'{u}'" not in postinst, f"{u} has no [Install] section but the postinst starts it"
    # the user exists before tmpfiles.d gives it the state directory
    assert postinst.index("systemd-sysusers") < postinst.index("systemd-tmpfiles"), postinst

    with tempfile.TemporaryDirectory(prefix="thidua-deb-x-") as x:
        run("dpkg-deb", "-x", path, x)
        unit = open(os.path.join(x, "lib/systemd/system/thiduad.service"), encoding="utf-8").read()
        assert "ExecStart=/usr/sbin/thiduad -c /etc/thidua/thidua.cfg " in unit, unit
        for u in units():
            text = open(os.path.join(x, "lib/systemd/system", u), encoding="utf-8").read()
            left = re.findall(r"@[A-Z]+@", re.sub(r"(?m)^#.*$", "", text))
            assert not left, f"{u}: placeholders left: {left}"
        # the version has one source: debian/changelog
        eq(run(os.path.join(x, "usr/sbin/thiduad"), "-V").stdout.strip(), f"thiduad {version()}", "thiduad -V")


def test_deb_lintian():
    p = run("lintian", "--fail-on", "error", deb(), ok=False)
    errors = [line for line in p.stdout.splitlines() if line.startswith("E:")]
    assert p.returncode == 0 and not errors, f"lintian (exit {p.returncode}):\n{p.stdout}\n{p.stderr}"


def test_deb_security_score():
    if not shutil.which("systemd-analyze"):
        raise unittest.SkipTest("systemd-analyze is not installed")
    with tempfile.TemporaryDirectory(prefix="thidua-deb-x-") as x:
        run("dpkg-deb", "-x", deb(), x)
        p = run("systemd-analyze", "security", "--offline=true", "--no-pager",
                os.path.join(x, "lib/systemd/system/thiduad.service"), ok=False)
    if "--offline" in p.stderr and p.returncode != 0:
        raise unittest.SkipTest(f"systemd-analyze security --offline is not supported here: {p.stderr.strip()}")
    m = re.search(r"Overall exposure level for thiduad\.service: ([0-9.]+)", p.stdout)
    assert m, f"no exposure level:\n{p.stdout[-2000:]}\n{p.stderr}"
    assert float(m.group(1)) <= 2.0, f"exposure {m.group(1)} (README says 1.2)"


def dpkg_root(root, *args):
    env = dict(os.environ, DPKG_ROOT=root)
    return run("dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends", *args, env=env)


def passwd(root, name, db="passwd"):
    with open(os.path.join(root, "etc", db), encoding="utf-8") as fp:
        for line in fp:
            f = line.rstrip("\n").split(":")
            if f[0] == name:
                return f
    return None


def start_installed(root, state):
    """the installed thiduad on its configuration, answering the installed thiduactl"""
    d = subprocess.Popen([os.path.join(root, "usr/sbin/thiduad"), "-c",
                          os.path.join(root, "etc/thidua/thidua.cfg"), "--state-dir", state,
                          "--fake-clock"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert d.poll() is None, f"thiduad exited {d.returncode}: {d.stderr.read().decode()}"
            if os.path.exists(os.path.join(state, "api.sock")):
                p = run(os.path.join(root, "usr/bin/thiduactl"), "-e", f"ipc://{state}/api.sock",
                        "--timeout", "2", "status", ok=False)
                if p.returncode == 0:
                    return p.stdout
            assert time.monotonic() < deadline, "the installed thiduad did not answer within 30 s"
            time.sleep(0.05)
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=30)


def test_deb_scratch_root():
    """dpkg --root with the maintainer scripts run outside a chroot (DPKG_ROOT): the user,
    the state directory, the enabled unit, the conffile kept across an upgrade, the purge"""
    path = deb()
    if os.geteuid() != 0:
        raise unittest.SkipTest("installing into a scratch root gives files to the thidua user: needs root")
    for tool in ("systemd-sysusers", "systemd-tmpfiles", "deb-systemd-helper"):
        if not shutil.which(tool):
            raise unittest.SkipTest(f"{tool} is not installed")
    root = tempfile.mkdtemp(prefix="thidua-deb-root-")
    try:
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc", "var/log"):
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()

        dpkg_root(root, "-i", path)
        user, group = passwd(root, "thidua"), passwd(root, "thidua", "group")
        assert user and group, "systemd-sysusers did not create the thidua user and group"
        uid, gid = int(user[2]), int(group[2])
        eq(user[5], "/var/lib/thidua", "the thidua user's home")
        assert user[6].endswith("nologin"), f"the thidua user has a shell: {user[6]}"
        st = os.stat(os.path.join(root, "var/lib/thidua"))
        eq((st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)), (uid, gid, "0o750"), "/var/lib/thidua")
        cfg = os.path.join(root, "etc/thidua/thidua.cfg")
        st = os.stat(cfg)
        eq((st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)), (0, gid, "0o640"),
           "the configuration: root's, readable by the thidua group")
        links = [f"/etc/systemd/system/{t}.wants/{u}" for u in units() for t in wanted_by(u)]
        assert "/etc/systemd/system/multi-user.target.wants/thiduad.service" in links, links
        for link in links:
            eq(os.readlink(root + link), f"/lib/systemd/system/{os.path.basename(link)}", link)
        status = run("dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f", "${Status} ${Version}",
                     "thidua").stdout
        eq(status, f"install ok installed {version()}", "dpkg status")

        # the installed programs work together on the installed configuration
        state = tempfile.mkdtemp(prefix="thidua-deb-state-")
        try:
            out = start_installed(root, state)
            assert f"thiduad {version()}" in out, out
        finally:
            shutil.rmtree(state, ignore_errors=True)

        # an upgrade (the same version again) keeps the administrator's edits of the conffile
        with open(cfg, "a", encoding="utf-8") as fp:
            fp.write("# sửa tại chỗ: Phòng Nội vụ\n")
        dpkg_root(root, "-i", path)
        assert open(cfg, encoding="utf-8").read().endswith("# sửa tại chỗ: Phòng Nội vụ\n"), \
            "the upgrade overwrote the edited configuration"

        dpkg_root(root, "--purge", "thidua")
        for p in programs() + links + ["/etc/thidua/thidua.cfg"] + [f"/lib/systemd/system/{u}" for u in units()]:
            assert not os.path.lexists(root + p), f"{p} is left after the purge"
        # the database and the files are the movement's records: a purge leaves them
        assert os.path.isdir(os.path.join(root, "var/lib/thidua")), "the purge removed /var/lib/thidua"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_deb_service_under_systemd():
    """on a machine where systemd runs: install, the service is active and answers, purge"""
    path = deb()
    if not os.path.isdir("/run/systemd/system"):
        raise unittest.SkipTest("systemd is not running as PID 1 here (no /run/systemd/system)")
    if os.geteuid() != 0:
        raise unittest.SkipTest("installing the package on this machine needs root")
    if run("dpkg-query", "-W", "-f", "${Status}", "thidua", ok=False).stdout.startswith("install"):
        raise unittest.SkipTest("thidua is installed on this machine already; the test leaves it alone")
    if os.path.exists("/var/lib/thidua"):
        raise unittest.SkipTest("/var/lib/thidua exists on this machine; the test leaves it alone")
    had_user = run("getent", "passwd", "thidua", ok=False).returncode == 0
    try:
        run("dpkg", "-i", path, timeout=600)
        eq(run("systemctl", "is-enabled", "thiduad.service", ok=False).stdout.strip(), "enabled", "is-enabled")
        eq(run("systemctl", "is-active", "thiduad.service", ok=False).stdout.strip(), "active", "is-active")
        p = run("/usr/bin/thiduactl", "-e", "ipc:///var/lib/thidua/api.sock", "--timeout", "10", "status")
        assert f"thiduad {version()}" in p.stdout, p.stdout
        pid = run("systemctl", "show", "-p", "MainPID", "--value", "thiduad.service").stdout.strip()
        # an upgrade restarts the service
        run("dpkg", "-i", path, timeout=600)
        pid2 = run("systemctl", "show", "-p", "MainPID", "--value", "thiduad.service").stdout.strip()
        assert pid2 not in ("0", pid), f"the upgrade did not restart thiduad (MainPID {pid} -> {pid2})"
        p = run("systemd-analyze", "security", "--no-pager", "thiduad.service", ok=False)
        m = re.search(r"Overall exposure level for thiduad\.service: ([0-9.]+)", p.stdout)
        assert m and float(m.group(1)) <= 2.0, f"systemd-analyze security:\n{p.stdout[-1500:]}"
    finally:
        run("dpkg", "--purge", "thidua", ok=False, timeout=600)
        shutil.rmtree("/var/lib/thidua", ignore_errors=True)
        if not had_user:
            run("userdel", "thidua", ok=False)
            run("groupdel", "thidua", ok=False)
    eq(run("systemctl", "is-active", "thiduad.service", ok=False).stdout.strip(), "inactive", "after the purge")
