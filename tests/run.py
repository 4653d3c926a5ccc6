#!/usr/bin/env python3
"""Run every test of thidua and count them.

Unit tests are C programs (build/.../tests/test_*) that print one line per check:
"PASS name" or "FAIL name: why". Black-box tests are tests/blackbox/test_*.py modules whose
test_* functions start the real daemon (harness.py); one that raises unittest.SkipTest (a tool
or a facility of the machine is missing) prints "skip" and its reason and counts neither way.
The final line is "N passed, N failed".

  run.py --bin DIR --build DIR --results FILE [--label L] [-k PATTERN]
  run.py --summary FILE...        add up result files and print the closing line
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def run_unit(build, label, results):
    tdir = os.path.join(build, "tests")
    if not os.path.isdir(tdir):
        return
    for name in sorted(os.listdir(tdir)):
        path = os.path.join(tdir, name)
        if not name.startswith("test_") or not os.access(path, os.X_OK):
            continue
        try:
            p = subprocess.run([path], cwd=os.path.dirname(HERE), capture_output=True,
                               text=True, timeout=300)
            out, code = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            out, code = "", -1
        seen = 0
        for line in out.splitlines():
            if line.startswith("PASS "):
                results.append((True, f"{label}{name}: {line[5:]}", ""))
                seen += 1
            elif line.startswith("FAIL "):
                results.append((False, f"{label}{name}: {line[5:]}", ""))
                print(f"FAIL {label}{name}: {line[5:]}", flush=True)
                seen += 1
        if code != 0 or seen == 0:
            results.append((False, f"{label}{name}: exit status {code}", out[-3000:]))
            print(f"FAIL {label}{name}: exit status {code}\n{out[-3000:]}", flush=True)
        else:
            print(f"ok   {label}{name} ({seen} checks)", flush=True)


def run_blackbox(bindir, label, pattern, results):
    sys.path.insert(0, os.path.join(HERE, "blackbox"))
    os.environ["THIDUA_BIN"] = os.path.abspath(bindir)
    bdir = os.path.join(HERE, "blackbox")
    for fname in sorted(os.listdir(bdir)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(bdir, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            full = f"{label}{fname[:-3]}.{name}"
            if pattern and pattern not in full:
                continue
            t0 = time.monotonic()
            try:
                getattr(mod, name)()
                results.append((True, full, ""))
                print(f"ok   {full} ({time.monotonic() - t0:.2f}s)", flush=True)
            except unittest.SkipTest as e:
                print(f"skip {full}: {e}", flush=True)
            except Exception:
                tb = traceback.format_exc()
                results.append((False, full, tb))
                print(f"FAIL {full}\n{tb}", flush=True)


def summary(files):
    passed = failed = 0
    for f in files:
        try:
            with open(f) as fp:
                p, fl = fp.read().split()
                passed += int(p)
                failed += int(fl)
        except (OSError, ValueError):
            print(f"missing results: {f} (that pass did not run to the end)")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin")
    ap.add_argument("--build")
    ap.add_argument("--results")
    ap.add_argument("--label", default="")
    ap.add_argument("-k", dest="pattern")
    ap.add_argument("--summary", nargs="+")
    a = ap.parse_args()
    if a.summary:
        sys.exit(summary(a.summary))
    label = f"[{a.label}] " if a.label else ""
    if a.build:
        os.environ["THIDUA_BUILD"] = os.path.abspath(a.build)   # tests/tools/ programs are there
    results = []
    if a.results and os.path.exists(a.results):
        os.unlink(a.results)
    if not a.pattern:
        run_unit(a.build, label, results)
    run_blackbox(a.bin, label, a.pattern, results)
    passed = sum(1 for r in results if r[0])
    failed = len(results) - passed
    if a.results:
        os.makedirs(os.path.dirname(a.results), exist_ok=True)
        with open(a.results, "w") as fp:
            fp.write(f"{passed} {failed}\n")
    print(f"{label}{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
