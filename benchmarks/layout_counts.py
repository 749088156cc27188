"""The layout in numbers (issue 15): what one ``secscan run`` enters, and how often it climbs a layer.

For a secscan tree (a checkout, or ``git archive <rev> | tar -x -C DIR``) it builds the import
graph with grimp (lazy, function-level imports included) and prints:

* the modules ``app.run`` enters: the entry module (``secscan.app.run``, or ``secscan.app`` before
  the layout) and every secscan module it imports, directly or not;
* the upward imports among them, and in the whole package: an import from a lower layer into a
  higher one (layers: cli > daemon > app > adapters > config > fs > core; the adapters are
  delivery, report, scanners and store), plus imports between two different adapters;
* the import cycles (strongly connected components of more than one module).

A tree from before the layout is judged by where the mechanical move (stage A) put each of its
modules (``benchmarks/layout-map.json``: old module -> new module, without the moves of stage B,
which cut the knots: :data:`KNOT_MOVES`), so both sides use the same layers and the old knots
count as what they were (``store/interface.py`` an adapter's module, ``daemon.cancel`` the daemon's).

Usage: python benchmarks/layout_counts.py [--tree DIR] [--tree DIR2 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RANK = {"cli": 6, "__main__": 6, "daemon": 5, "app": 4, "delivery": 3, "report": 3, "scanners": 3, "store": 3,
        "config": 2, "fs": 1, "core": 0}  # fmt: skip
ADAPTERS = {"delivery", "report", "scanners", "store"}
KNOT_MOVES = frozenset({
    "secscan.daemon.cancel", "secscan.store.interface", "secscan.store.outbox", "secscan.store.sessions",
    "secscan.store.ledger", "secscan.store.uploads", "secscan.store.alerts", "secscan.store.coverage",
    "secscan.store.report_model", "secscan.store.paths", "secscan.report.owners", "secscan.osv.purl",
    "secscan.daemon.schedule", "secscan.github.sync", "secscan.scanners._posture_rules",
    "secscan.store.records",
})  # fmt: skip


def _new_name(module: str, mapping: dict[str, str]) -> str:
    for old in sorted(mapping, key=len, reverse=True):
        if module == old or module.startswith(old + "."):
            return mapping[old] + module[len(old) :]
    return module


def _layer(module: str, mapping: dict[str, str], moved: bool) -> str | None:
    name = _new_name(module, mapping) if moved else module
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def _cycles(graph: Any) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(20_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
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

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return out


def measure() -> dict[str, Any]:
    import grimp

    import secscan

    root = Path(secscan.__file__).parent
    moved = not (root / "core").is_dir()
    everything: dict[str, str] = json.loads((HERE / "layout-map.json").read_text())
    mapping = {k: v for k, v in everything.items() if k not in KNOT_MOVES}
    graph = grimp.build_graph("secscan")
    entry = "secscan.app" if moved else "secscan.app.run"
    entered = {entry, *graph.find_upstream_modules(entry)}

    def upward(modules: set[str]) -> tuple[int, int, list[str]]:
        up = across = 0
        examples: list[str] = []
        for a in sorted(modules):
            for b in sorted(graph.find_modules_directly_imported_by(a)):
                la, lb = _layer(a, mapping, moved), _layer(b, mapping, moved)
                if b not in modules or la is None or lb is None or la == lb:
                    continue
                if RANK[lb] > RANK[la]:
                    up += 1
                    examples.append(f"{a} -> {b}")
                elif la in ADAPTERS and lb in ADAPTERS:
                    across += 1
                    examples.append(f"{a} -> {b} (across)")
        return up, across, examples

    run_up, run_across, run_examples = upward(entered)
    all_up, all_across, _ = upward(set(graph.modules))
    cycles = _cycles(graph)
    return {
        "tree": str(root.parent),
        "entry": entry,
        "modules": len(graph.modules),
        "entered_by_run": len(entered),
        "upward_in_run": run_up,
        "across_adapters_in_run": run_across,
        "upward_in_package": all_up,
        "across_adapters_in_package": all_across,
        "cycles": [len(c) for c in cycles],
        "examples": run_examples[:12],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, action="append", help="a secscan tree (default: this checkout)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child:
        print(json.dumps(measure()))
        return 0
    for tree in ns.tree or [HERE.parent]:
        env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
        argv = [sys.executable, "-P", __file__, "--child"]
        out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
        result = json.loads(out)
        print(f"\n{result['tree']}  (entry {result['entry']}, {result['modules']} modules)")
        for key in ("entered_by_run", "upward_in_run", "across_adapters_in_run", "upward_in_package",
                    "across_adapters_in_package", "cycles"):  # fmt: skip
            print(f"  {key:28} {result[key]}")
        for line in result["examples"]:
            print(f"    {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
