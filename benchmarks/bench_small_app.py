"""Benchmark: a small real application, cold and unchanged (issue 18), measured side by side.

Targets (issue 18, "Speed on small repositories"), on a small application's source:

- a cold full run (every built-in scanner that applies, ``--no-cache``, a fresh database) takes
  <= 0.9x bandit + detect-secrets + pip-audit run by hand one after another;
- an unchanged re-run (the result cache primed by the run before it) takes <= 0.5 s.

The application is FlaskBB 2.0.2, a forum written with Flask, unpacked from its sdist
(``pip download --no-binary :all:``, kept in ``.bench/``): 267 files, 125 ``.py``, templates,
translations, static assets, and its two requirement files. pip-audit by hand cannot read an
unpinned line or ``-e .`` with ``--no-deps --disable-pip``, so the benchmark keeps the pinned
lines of each (56 in ``requirements.txt``, 2 in ``requirements-dev.txt``), and both sides audit
exactly those. Both query the shared offline OSV database (the PyPA advisory data set in
../shared/data/osv-pypi): by hand through a pre-started loopback OSV server, as in bench_run.py;
secscan through its own compiled index, which a warm-up run before the rounds compiles once
(what every run after a dataset change finds).

By hand means what a user types:
  bandit -r . -f json -o OUT -q
  detect-secrets scan --all-files            (its default process count)
  pip-audit -r requirements.txt -r requirements-dev.txt --no-deps --disable-pip -s osv --osv-url URL

Each round alternates which side goes first. The unchanged re-run is timed three times per round
(median) after one run that fills the cache. Findings are compared: secscan's bandit and
detect-secrets findings with the tools' own (path, line, rule), pip-audit's (package, advisory)
with pip-audit's by hand, and the warm run's with the cold run's.

With ``--baseline DIR`` (another checkout) the unchanged re-run is also timed from DIR's source in
each round, right after this checkout's, into its own database and cache.

Usage: python benchmarks/bench_small_app.py [--repeat N] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_run import OSV_DATA, REPO, Sample, fetch_sdist, measure

APP = "FlaskBB==2.0.2"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
COLD_TARGET = 0.9
WARM_TARGET_S = 0.5


def fetch_app() -> Path:
    """The application's sdist unpacked once, its requirement files reduced to their pinned lines."""
    tree, unpacked = fetch_sdist(APP)
    if unpacked:
        for req in REQUIREMENTS:
            lines = (tree / req).read_text().splitlines()
            (tree / req).write_text("".join(f"{line}\n" for line in lines if "==" in line))
    return tree


def by_hand(tree: Path, osv_url: str, out: Path) -> dict[str, Sample]:
    py = sys.executable
    reqs = [arg for req in REQUIREMENTS for arg in ("-r", req)]
    return {
        "bandit": measure([py, "-m", "bandit", "-r", ".", "-f", "json", "-o", str(out / "b.json"), "-q"],
                          tree),
        "detect-secrets": measure([py, "-m", "detect_secrets", "scan", "--all-files"], tree, out / "ds.json"),
        "pip-audit": measure([py, "-m", "pip_audit", *reqs, "--no-deps", "--disable-pip", "-s", "osv",
                              "--osv-url", osv_url, "-f", "json", "--progress-spinner", "off",
                              "--cache-dir", str(out / "pa-cache")], tree, out / "pa.json"),
    }


def secscan(
    tree: Path, out: Path, name: str, db: Path, *extra: str, checkout: Path = REPO
) -> tuple[Sample, dict]:
    doc = out / f"{name}.json"
    argv = (f'PYTHONPATH="{checkout}" "{sys.executable}" -m secscan run . --osv-db "{OSV_DATA}" '
            f'--fail-on none --format json '
            f'--db "{db}" --sarif "{out / (name + ".sarif")}" {" ".join(extra)} > "{doc}"')
    sample = measure(["/bin/sh", "-c", argv], tree)
    return sample, json.loads(doc.read_text())


def findings(doc: dict) -> dict[str, set[tuple[str, ...]]]:
    found: dict[str, set[tuple[str, ...]]] = {}
    for f in doc["findings"]:
        found.setdefault(f["tool"], set()).add((f["path"], str(f["line"]), f["rule"]))
    return found


def same_as_by_hand(out: Path, doc: dict) -> dict[str, tuple[bool, int]]:
    ours = findings(doc)
    bandit = json.loads((out / "b.json").read_text())["results"]
    secrets = json.loads((out / "ds.json").read_text())["results"]
    theirs = {
        "bandit": {(r["filename"].removeprefix("./"), str(r["line_number"]), r["test_id"]) for r in bandit},
        "detect-secrets": {(p, str(s["line_number"]), s["type"])
                           for p, items in secrets.items() for s in items},
    }
    result = {tool: (ours.get(tool, set()) == theirs[tool], len(theirs[tool])) for tool in theirs}
    audit = json.loads((out / "pa.json").read_text())
    by_hand_vulns = {(d["name"].lower(), d["version"], v["id"]) for d in audit["dependencies"]
                     for v in d.get("vulns", [])}
    our_vulns = {(f["package"]["name"].lower(), f["package"]["version"], f["rule"]) for f in doc["findings"]
                 if f["tool"] == "pip-audit"}
    result["pip-audit"] = (our_vulns == by_hand_vulns, len(by_hand_vulns))
    return result


def unchanged(tree: Path, work: Path, checkout: Path, side: str) -> tuple[list[Sample], dict]:
    """Three unchanged re-runs after one that fills the cache, into their own database and cache."""
    config = work / f"cache-{side}.toml"
    config.write_text(f'[cache]\npath = "{work / f"cache-{side}.db"}"\n')
    db = work / f"warm-{side}.db"
    secscan(tree, work, f"prime-{side}", db, "--config", str(config), checkout=checkout)
    warms = [secscan(tree, work, f"warm-{side}", db, "--config", str(config), checkout=checkout)
             for _ in range(3)]
    if any(d["cache"]["misses"] for _, d in warms):
        raise SystemExit(f"the unchanged re-run missed the cache: {warms[-1][1]['cache']}")
    return [w for w, _ in warms], warms[-1][1]


def one_round(source: Path, work: Path, osv_url: str, index: int) -> tuple[dict[str, Sample], Sample,
                                                                          list[Sample], dict, dict]:
    tree = work / "tree"
    shutil.copytree(source, tree)
    if index % 2:
        cold, cold_doc = secscan(tree, work, "cold", work / "cold.db", "--no-cache")
    hand = by_hand(tree, osv_url, work)
    if not index % 2:
        cold, cold_doc = secscan(tree, work, "cold", work / "cold.db", "--no-cache")
    warms, warm_doc = unchanged(tree, work, REPO, "this")
    return hand, cold, warms, cold_doc, warm_doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout whose unchanged re-run is timed too")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    sys.path.insert(0, str(REPO))
    from secscan.scanners.osv.database import OsvDatabase
    from secscan.scanners.osv.server import OsvServer

    tree = fetch_app()
    files = [p for p in tree.rglob("*") if p.is_file()]
    print(f"tree: {tree.name} ({len(files)} files, {sum(1 for p in files if p.suffix == '.py')} .py, "
          f"{sum(p.stat().st_size for p in files) / 1e6:.1f} MB), {os.cpu_count()} CPUs, "
          f"{args.repeat} rounds, "
          f"load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    hands: list[dict[str, Sample]] = []
    colds: list[Sample] = []
    warms: list[float] = []
    warm_cpu: list[float] = []
    base_warms: list[float] = []
    base_cpu: list[float] = []
    with OsvServer(OsvDatabase.load(OSV_DATA)) as server, tempfile.TemporaryDirectory() as tmp:
        with tempfile.TemporaryDirectory() as warmup:  # compiles the OSV index once, as any earlier run
            secscan(tree, Path(warmup), "warmup", Path(warmup) / "db", "--no-cache")
        for i in range(args.repeat):
            work = Path(tmp) / f"round{i}"
            work.mkdir()
            hand, cold, warm, cold_doc, warm_doc = one_round(tree, work, server.query_url, i)
            hands.append(hand)
            colds.append(cold)
            warms.append(statistics.median(w.wall_s for w in warm))
            warm_cpu.append(statistics.median(w.cpu_s for w in warm))
            if args.baseline:
                base, _ = unchanged(work / "tree", work, args.baseline.resolve(), "base")
                base_warms.append(statistics.median(w.wall_s for w in base))
                base_cpu.append(statistics.median(w.cpu_s for w in base))
            total = sum(s.wall_s for s in hand.values())
            print(f"round {i + 1}: by hand {total:.2f} s, secscan cold {cold.wall_s:.2f} s "
                  f"({cold.wall_s / total:.3f}x), unchanged {warms[-1]:.3f} s", flush=True)
            equal = same_as_by_hand(work, cold_doc)
            same_warm = findings(cold_doc) == findings(warm_doc)
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(f"{'command':<32}{'wall s (median)':>16}{'CPU s (median)':>16}{'peak RSS MB':>14}"
          f"{'tree RSS MB':>14}")
    for tool in ("bandit", "detect-secrets", "pip-audit"):
        samples = [h[tool] for h in hands]
        print(f"{'by hand: ' + tool:<32}{statistics.median(s.wall_s for s in samples):>16.2f}"
              f"{statistics.median(s.cpu_s for s in samples):>16.2f}"
              f"{max(s.peak_rss_mb for s in samples):>14.0f}{max(s.tree_rss_mb for s in samples):>14.0f}")
    sums = [sum(s.wall_s for s in h.values()) for h in hands]
    print(f"{'by hand: sequential sum':<32}{statistics.median(sums):>16.2f}"
          f"{statistics.median(sum(s.cpu_s for s in h.values()) for h in hands):>16.2f}")
    print(f"{'secscan run, cold':<32}{statistics.median(c.wall_s for c in colds):>16.2f}"
          f"{statistics.median(c.cpu_s for c in colds):>16.2f}"
          f"{max(c.peak_rss_mb for c in colds):>14.0f}{max(c.tree_rss_mb for c in colds):>14.0f}")
    print(f"{'secscan run, unchanged':<32}{statistics.median(warms):>16.3f}"
          f"{statistics.median(warm_cpu):>16.3f}")
    if args.baseline:
        print(f"{'baseline run, unchanged':<32}{statistics.median(base_warms):>16.3f}"
              f"{statistics.median(base_cpu):>16.3f}   (this / baseline: wall "
              f"{statistics.median(warms) / statistics.median(base_warms):.2f}x, CPU "
              f"{statistics.median(warm_cpu) / statistics.median(base_cpu):.2f}x)")
    ratios = [c.wall_s / s for c, s in zip(colds, sums, strict=True)]
    cpu_ratios = [c.cpu_s / sum(s.cpu_s for s in h.values()) for c, h in zip(colds, hands, strict=True)]
    print(f"\ncold / by hand, median of per-round ratios: {statistics.median(ratios):.2f}x wall "
          f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}), {statistics.median(cpu_ratios):.2f}x CPU; "
          f"target <= {COLD_TARGET}x: {'met' if statistics.median(ratios) <= COLD_TARGET else 'NOT met'}")
    print(f"unchanged re-run: {statistics.median(warms):.3f} s; target <= {WARM_TARGET_S} s: "
          f"{'met' if statistics.median(warms) <= WARM_TARGET_S else 'NOT met'}")
    for s in cold_doc["scanners"]:
        print(f"  cold {s['name']}: {s['status']}, {s['duration_s']} s, {s['findings']} findings")
    for tool, (same, count) in equal.items():
        print(f"  {tool}: secscan's findings {'equal' if same else 'DIFFER FROM'} the {count} found by hand")
    print(f"  unchanged re-run's findings {'equal' if same_warm else 'DIFFER FROM'} the cold run's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
