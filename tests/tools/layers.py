#!/usr/bin/env python3
"""layers.py - the daemon's structure, checked: no circles between its modules, no folder
calling a folder above it, no source over 800 lines (docs/ARCHITECTURE.md).

A module is a header daemon/FOLDER/NAME.h and the sources that implement it (NAME.c, or a
source without a header of its own whose exported names that header declares the most of);
a source no header declares is a module of its own. Its arrows are
  - include arrows: #include "X.h" of a daemon header in the module's .c or .h;
  - call arrows, from the object files (nm): a symbol undefined in A.o and defined in B.o
    is a call (or a use) of B by A.

  layers.py [--build DIR] [--graph]     (DIR: where the objects are, build/normal)

Prints "PASS check" or "FAIL check: why" lines, as the unit tests do (tests/run.py counts
them), and exits 1 when a check fails. --graph prints every arrow first.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAEMON = os.path.join(ROOT, "daemon")
MAX_LINES = 800

# Which folder may use which (besides itself), the same table as docs/ARCHITECTURE.md. From
# the bottom up: core is the base (requests, configuration, units, store, clock, events,
# audit, authorization); org (calendar, ladder, reorganisations, unit import) uses core;
# outbox delivers what workflows queue and knows none of them (they register renderers);
# the workflows (intake, deadlines, approvals, inbox) use those below them and, where
# written here, intake; server (main, api and its op table, reload) wires everything.
ALLOWED = {
    "core":      set(),
    "org":       {"core"},
    "outbox":    {"core", "org"},
    "intake":    {"core", "org", "outbox"},
    "deadlines": {"core", "org", "outbox", "intake"},
    "inbox":     {"core", "org", "outbox", "intake"},
    "approvals": {"core", "org", "outbox"},
    "accounts":  {"core", "org", "outbox"},
    "backup":    {"core", "org"},
    "server":    {"core", "org", "outbox", "intake", "deadlines", "inbox", "approvals", "accounts",
                  "backup"},
}
# thiduad.h (struct daemon) sits in daemon/ itself: anyone may include it.
TOP = ""

# The sources still over MAX_LINES, each to be split along its seams (issue 14). The check
# fails for one over the bound that is not listed, and for one listed that no longer is, so
# this list only shrinks.
KNOWN_BIG = {
}


def nm(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCGSV":
            defined.add(parts[2])
    return defined, undefined


def object_of(build, src):
    obj = os.path.join(ROOT, build, os.path.relpath(src, ROOT))[:-2] + ".o"
    if not os.path.exists(obj):
        raise SystemExit(f"layers.py: {obj} is missing: build first (make all)")
    return obj


def modules(build):
    """{module: (folder, [files])}. A module is a header and the sources that implement
    it: NAME.c with NAME.h beside it, or a source without a header of its own, with the
    header that declares most of its exported names (config_span.c implements config.h,
    config_programmes.c config_load.h)."""
    headers, sources = {}, []
    for dirpath, _, files in os.walk(DAEMON):
        rel = os.path.relpath(dirpath, DAEMON)
        folder = "" if rel == "." else rel.split(os.sep)[0]
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            key = f"{folder}/{f[:-2]}" if folder else f[:-2]
            if f.endswith(".h"):
                with open(path, encoding="utf-8") as fh:
                    headers[key] = (folder, path, fh.read())
            elif f.endswith(".c"):
                sources.append((key, folder, path))
    mods = {key: (folder, [path]) for key, (folder, path, _) in headers.items()}
    for key, folder, path in sources:
        if key not in headers:
            defined, _ = nm(object_of(build, path))
            count = {}
            for h, (_, _, text) in headers.items():
                n = sum(1 for sym in defined if re.search(r"\b" + re.escape(sym) + r"\b", text))
                if n:
                    count[h] = n
            best = sorted(count.items(), key=lambda kv: -kv[1])
            if best and (len(best) == 1 or best[0][1] > best[1][1]):
                key = best[0][0]
        mods.setdefault(key, (folder, []))[1].append(path)
    return mods


def include_arrows(mods):
    by_header = {}
    for key, (_, files) in mods.items():
        for f in files:
            if f.endswith(".h"):
                by_header[os.path.basename(f)] = key
    arrows = {}
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    for key, (_, files) in mods.items():
        for f in files:
            with open(f, encoding="utf-8") as fh:
                for h in inc.findall(fh.read()):
                    to = by_header.get(os.path.basename(h))
                    if to and to != key:
                        arrows.setdefault((key, to), set()).add(f"#include \"{h}\"")
    return arrows


def call_arrows(mods, build):
    definer, wants = {}, {}
    for key, (_, files) in mods.items():
        for f in files:
            if not f.endswith(".c"):
                continue
            d, u = nm(object_of(build, f))
            for s in d:
                definer[s] = key
            wants.setdefault(key, set()).update(u)
    arrows = {}
    for key, syms in wants.items():
        for s in syms:
            to = definer.get(s)
            if to and to != key:
                arrows.setdefault((key, to), set()).add(s)
    return arrows


def cycles(nodes, arrows):
    """The strongly connected components of more than one module (Tarjan), each with one
    circle through it written out."""
    succ = {n: sorted({b for (a, b) in arrows if a == n}) for n in nodes}
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for n in sorted(nodes):
        if n not in index:
            visit(n)
    out = []
    for comp in comps:
        inside = set(comp)
        # a shortest circle from the first module back to itself, inside the component
        start = comp[0]
        prev, frontier, found = {start: None}, [start], None
        while frontier and not found:
            nxt = []
            for v in frontier:
                for w in succ[v]:
                    if w not in inside:
                        continue
                    if w == start:
                        found = v
                        break
                    if w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if found:
                    break
            frontier = nxt
        path = [start]
        v = found
        while v is not None and v != start:
            path.append(v)
            v = prev[v]
        path.append(start)
        path = [path[0]] + list(reversed(path[1:-1])) + [start]
        out.append((comp, path))
    return out


def why(arrow, inc, calls):
    bits = sorted(calls.get(arrow, ()))[:4] + sorted(inc.get(arrow, ()))[:1]
    return ", ".join(bits)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/normal")
    ap.add_argument("--graph", action="store_true")
    a = ap.parse_args()

    mods = modules(a.build)
    inc = include_arrows(mods)
    calls = call_arrows(mods, a.build)
    arrows = set(inc) | set(calls)
    if a.graph:
        for (x, y) in sorted(arrows):
            print(f"{x} -> {y}: {why((x, y), inc, calls)}")
    failed = 0

    def check(name, problems):
        nonlocal failed
        if problems:
            failed += 1
            print(f"FAIL {name}: {len(problems)} problem(s)")
            for p in problems:
                print(f"    {p}")
        else:
            print(f"PASS {name}")

    folders = {f for (f, _) in mods.values()}
    check("every daemon folder is in the table of layers",
          [f"daemon/{f}/ is not in ALLOWED (tests/tools/layers.py, docs/ARCHITECTURE.md)"
           for f in sorted(folders) if f != TOP and f not in ALLOWED])

    circ = cycles(set(mods), arrows)
    print(f"note: {len(mods)} modules, {len(arrows)} arrows between them")
    check("no include or call circle between the daemon's modules",
          [f"circle of {len(comp)} ({' '.join(comp)}): " + " -> ".join(path) + "; first arrow: "
           + why((path[0], path[1]), inc, calls) for comp, path in circ])

    up = []
    for (x, y) in sorted(arrows):
        fx, fy = mods[x][0], mods[y][0]
        if fx == fy or fy == TOP or fx == TOP:
            continue
        if fy not in ALLOWED.get(fx, set()):
            up.append(f"{x} -> {y} ({fx}/ may not use {fy}/): {why((x, y), inc, calls)}")
    check("no folder uses a folder it may not (the table of layers)", up)

    big, known = [], set()
    for key, (_, files) in sorted(mods.items()):
        for f in files:
            rel = os.path.relpath(f, ROOT)
            with open(f, encoding="utf-8") as fh:
                n = sum(1 for _ in fh)
            if n > MAX_LINES and rel in KNOWN_BIG:
                known.add(rel)
                print(f"note: {rel}: {n} lines, still to split ({KNOWN_BIG[rel]})")
            elif n > MAX_LINES:
                big.append(f"{rel}: {n} lines (at most {MAX_LINES})")
    big += [f"{rel} is within {MAX_LINES} lines now: take it off KNOWN_BIG (tests/tools/layers.py)"
            for rel in sorted(set(KNOWN_BIG) - known)]
    check(f"no daemon source over {MAX_LINES} lines but those listed to split", big)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
