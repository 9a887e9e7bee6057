#!/usr/bin/env python3
"""Finds import cycles among a crate's modules in the graph cargo-modules draws.

Reads the DOT output of

    cargo modules dependencies --lib -p endpoint-sdk \
        --no-fns --no-traits --no-types --no-externs --no-sysroot --no-owns

(one node per module, one "uses" edge per import, pointed at the module that
defines the imported item) and checks each module's children against each
other: an import from `a::x::y` of an item defined in `a::z` is an edge
`x -> z` among the children of `a`. Imports between a module and its own
ancestors are ownership, not cycles. Prints every cycle and exits 1 if any.

cargo-modules' own `--acyclic` works on items, where every type and the
methods that return it form a cycle (`SessionOptions` <-> its `default`), so
it cannot answer this question for modules; this script asks it of the same
graph at module level.
"""

import re
import sys
from collections import defaultdict

EDGE = re.compile(r'^\s*"([^"]+)"\s*->\s*"([^"]+)"\s*\[label="uses"')


def sibling_edge(src, dst):
    """The (parent, from_child, to_child) this import adds, or None."""
    a, b = src.split("::"), dst.split("::")
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if i == len(a) or i == len(b):
        return None  # one is the other's ancestor
    return "::".join(a[:i]), a[i], b[i]


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    by_parent = defaultdict(lambda: defaultdict(set))
    witness = {}
    edges = 0
    for line in sys.stdin:
        m = EDGE.match(line)
        if not m:
            continue
        edges += 1
        e = sibling_edge(m.group(1), m.group(2))
        if e is None:
            continue
        parent, x, y = e
        by_parent[parent][x].add(y)
        by_parent[parent].setdefault(y, set())
        witness.setdefault((parent, x, y), (m.group(1), m.group(2)))
    if edges == 0:
        sys.exit("no `uses` edges read: pipe in cargo-modules' DOT output")
    found = 0
    for parent, graph in sorted(by_parent.items()):
        for comp in cycles(graph):
            found += 1
            print(f"cycle among the children of {parent}: {' <-> '.join(comp)}")
            for x in comp:
                for y in sorted(graph[x]):
                    if y in comp:
                        s, d = witness[(parent, x, y)]
                        print(f"    {s} uses {d}")
    modules = len(by_parent)
    if found:
        sys.exit(1)
    print(f"no import cycle: {edges} imports among the children of {modules} modules")


if __name__ == "__main__":
    main()
