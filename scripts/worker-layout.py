#!/usr/bin/env python3
"""Writes endpoint-sdk/layout/worker.ld from callgrind profiles of a worker (see
scripts/worker-layout.sh, which makes them).

    worker-layout.py OUT DEST

OUT holds the profiled binary's symbol table (`nm`), its link's map (`map`, lld's `-Map`) and its
profiles (`cg-idle`, `cg-idle-bare`, `cg-c1`, `cg-c16`, `cg-c16-bare`, in that order). Every function a profile ran becomes a pattern in which what changes
from build to build is a wildcard: crate disambiguators and back-references of v0 names, the
instance hash of legacy names, `.llvm.` suffixes.

A legacy name without its hash names every instance of a generic function (`<&T as
Debug>::fmt` has hundreds). The kernel maps code in 64 KB windows around each page touched, so
what counts is that the functions run sit together, not how large the section is. Such a pattern
is therefore written three times: among the functions run, restricted to the file the profiled
instance came from (its crate's rlib and codegen unit, or the application's own objects: another
application builds the same dependencies and instantiates the same functions in them); after all
of them, restricted to the crate (another build may split it into other units); then
unrestricted, where the instances never run fill pages never touched.
"""

import bisect
import os
import re
import subprocess
import sys
from collections import defaultdict

PHASES = ("idle", "idle-bare", "c1", "c16", "c16-bare")


def functions(nm_path):
    """Name -> addresses of the functions of an `nm --defined-only` listing (a local function
    has a copy in each codegen unit that uses it, all under one name)."""
    found = defaultdict(list)
    for line in open(nm_path):
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            found[p[2]].append(int(p[0], 16))
    return found


APP = "application"
"""The owner of the application's own objects (not a member of an rlib)."""


def sections(map_path):
    """The code sections of the link, from lld's map, by address: (address, size, name, owner),
    the owner `(crate, "-cgu.N.rcgu.o")` for a member of an rlib, APP for the application's own
    objects, None otherwise; and the application crate's name."""
    line_re = re.compile(
        r"^\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+(\S.*):\((\.text\.\S+)\)$"
    )
    rlib_re = re.compile(r"/lib([A-Za-z0-9_]+)-[0-9a-f]+\.rlib\(.*(-cgu\.\d+\.rcgu\.o)\)$")
    found, app = [], None
    for line in open(map_path, errors="replace"):
        m = line_re.match(line)
        if not m:
            continue
        file = m.group(3)
        rlib = rlib_re.search(file)
        if rlib:
            owner = (rlib.group(1), rlib.group(2))
        elif file.endswith(".rcgu.o"):
            owner = APP
            app = os.path.basename(file).split("-")[0]
        else:
            owner = None
        found.append((int(m.group(1), 16), int(m.group(2), 16), m.group(4), owner))
    found.sort()
    return found, app


def function_name(section):
    """`.text.unlikely._ZN...E` -> `_ZN...E` (`.text.main` -> `main`, `.text.startup`, the
    constructors, -> `startup`)."""
    m = re.match(r"^\.text\.(?:unlikely\.|hot\.)?([A-Za-z_]\S*)$", section)
    return m.group(1) if m else None


def pattern(name, app):
    """The function's name with what changes from build to build as `*`: crate disambiguators
    and back-references of v0 names, the instance hash of legacy names, the `.llvm.` suffix
    (added back by `section_names`), the application crate's name."""
    p = re.sub(r"\.llvm\.\d+$", "", name)
    if p.startswith("_R"):
        if app:
            p = p.replace(f"{len(app)}{app}", "*")
        p = re.sub(r"Cs[0-9A-Za-z]+_", "Cs*_", p)
        p = re.sub(r"B[0-9A-Za-z]*_", "*", p)
    elif p.startswith("_ZN"):
        p = legacy_pattern(p, app)
    return re.sub(r"\*+", "*", p)


def legacy_pattern(name, app):
    """A legacy name (`_ZN` then length-prefixed segments, then `E`) with its hash segment as
    `h*` and, in a segment naming the application's crate, the crate and the segment's length
    as `*` (another application's crate has another name)."""
    i, out = 3, ["_ZN"]
    while i < len(name) and name[i].isdigit():
        j = i
        while name[j].isdigit():
            j += 1
        n = int(name[i:j])
        seg = name[j:j + n]
        i = j + n
        if re.fullmatch(r"h[0-9a-f]{16}", seg):
            out.append("17h*")
        elif app and (seg == app or f"{app}.." in seg):
            out.append("*" + ("" if seg == app else seg.replace(f"{app}..", "*..")))
        else:
            out.append(f"{n}{seg}")
    return "".join(out) + name[i:]


def section_names(p):
    """The sections a function of pattern `p` may be in: cold or not, with the suffix ThinLTO
    gives a function it makes local, or without."""
    return [f".text.{p}", f".text.{p}.llvm.*", f".text.unlikely.{p}", f".text.unlikely.{p}.llvm.*"]


def run_sections(out, secs):
    """The code sections the profiles ran, in phase order, each once. A profile names a
    function by one of its symbols; LLVM merges identical functions into one body under several
    names, so the section is found by address."""
    addr = functions(os.path.join(out, "nm"))
    starts = [s[0] for s in secs]
    seen, order = set(), []
    for phase in PHASES:
        for line in open(os.path.join(out, f"cg-{phase}"), errors="replace"):
            m = re.match(r"^c?fn=\(\d+\) (\S+)$", line.rstrip("\n"))
            if not m:
                continue
            # A profile names the copies of a local function alike: all of them.
            for a in addr.get(m.group(1), ()):
                i = bisect.bisect_right(starts, a) - 1
                if i < 0 or a >= secs[i][0] + secs[i][1] or i in seen:
                    continue
                seen.add(i)
                order.append(secs[i])
    return order


def entries(secs, run, app):
    """The linker script's input section descriptions: the sections run, then the other
    instances of their functions (in their crates, then anywhere)."""
    count = defaultdict(int)
    for s in secs:
        name = function_name(s[2])
        if name:
            count[pattern(name, app)] += 1

    def described(p, files="*"):
        return f"{files}({' '.join(section_names(p))})"

    # The C start-up code first (`_start`, `frame_dummy`): its sections have no names of their own.
    front, between, tail = ["*crt1.o(.text)", "*crtbegin*.o(.text)"], [], []
    for s in run:
        name = function_name(s[2])
        if not name:
            continue
        p = pattern(name, app)
        if count[p] == 1:
            front.append(described(p))
            continue
        owner = s[3]
        if owner == APP:
            # Not a member of an archive: the application's own objects.
            names = " ".join(f"EXCLUDE_FILE(*.rlib:*) {n}" for n in section_names(p))
            front.append(f"*({names})")
        elif owner:
            crate, unit = owner
            front.append(described(p, f"*/lib{crate}-*.rlib:*{unit}"))
            # The crate's other units, should another build split it otherwise.
            between.append(described(p, f"*/lib{crate}-*.rlib:*"))
        tail.append(described(p))
    # Each description once, where it first comes.
    front = dict.fromkeys(front)
    later = [e for e in dict.fromkeys(between + tail) if e not in front]
    return list(front) + later, len(front)


def main():
    out, dest = sys.argv[1], sys.argv[2]
    for name in ["map", "nm"] + [f"cg-{phase}" for phase in PHASES]:
        path = os.path.join(out, name)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            sys.exit(f"no {path}: run scripts/worker-layout.sh without --again to profile the worker")
    secs, app = sections(os.path.join(out, "map"))
    run = run_sections(out, secs)
    ordered, nfront = entries(secs, run, app)
    with open(dest, "w") as f:
        f.write("/* Generated by scripts/worker-layout.sh: the functions a production worker runs, */\n")
        f.write("/* the idle worker's first, placed together before the rest of the code; then the */\n")
        f.write("/* other instances of the generic ones among them, which their names do not tell apart. */\n")
        f.write("SECTIONS\n{\n  .text.worker :\n  {\n")
        for e in ordered:
            f.write(f"    {e}\n")
        f.write("  }\n}\nINSERT BEFORE .text;\n")
    print(f"{len(run)} functions run: {nfront} patterns, then {len(ordered) - nfront} -> {dest}")


if __name__ == "__main__":
    main()
