"""Benchmark: incremental scans with the result cache (issue 7), measured side by side.

Targets (issue "incremental scans"), on a large real tree (pip's or django's sdist, as in
bench_run.py, with its pinned requirements file and the shared offline OSV database):

- an unchanged re-run takes <= 0.02x the cold secscan run;
- a re-run with one changed file takes <= 0.1x the cold run;
- the cold run with the cache enabled costs <= 1.05x the cold run with --no-cache;
- an unchanged re-run of the bundled example takes <= 0.5 s;
- the cache's size on disk per 1,000 files scanned is reported.

Each round runs, one after the other on a fresh copy of the tree: a cold run with --no-cache
(its own database), a cold run with an empty cache (its own database and cache), an unchanged
re-run, and a re-run after one edited file, the last two into the same database and cache as a
nightly job would. Every run is a full ``secscan run`` process; the example's re-run is also
timed in-process (``app.run``), which leaves out the interpreter's start and imports. The
re-runs are timed three times each (median), and the processes may write bytecode, as an
installed secscan has it (``pip install`` compiles; this machine's shell sets
PYTHONDONTWRITEBYTECODE, which would make every run compile secscan's modules again).

Usage: python benchmarks/bench_cache.py [--project pip|django] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_run import OSV_DATA, PROJECTS, REPO, Sample, fetch_tree, measure

EXAMPLE = REPO / "examples" / "vulnerable-app"
EDITED = {"pip": "src/pip/_internal/cli/main.py", "django": "django/core/management/base.py"}


def _config(path: Path, cache: Path) -> Path:
    path.write_text(f'[cache]\npath = "{cache}"\n')
    return path


def secscan(tree: Path, out: Path, name: str, db: Path, config: Path | None, *extra: str) -> tuple[Sample, dict]:
    doc = out / f"{name}.json"
    argv = f'"{sys.executable}" -m secscan run . --osv-db "{OSV_DATA}" --fail-on none --format json '
    argv += f'--db "{db}" --sarif "{out / (name + ".sarif")}" '
    if config is not None:
        argv += f'--config "{config}" '
    argv += " ".join(extra)
    sample = measure(["/bin/sh", "-c", f'{argv} > "{doc}"'], tree)
    return sample, json.loads(doc.read_text())


def in_process_rerun(tree: Path, config: Path, db: Path, out: Path) -> float:
    """An unchanged re-run timed inside this process: without the interpreter's start and imports."""
    sys.path.insert(0, str(REPO))
    from secscan.app import run as app
    from secscan.config.settings import load_settings

    request = app.RunRequest(target=tree, settings=load_settings(config), sarif_path=out / "in-process.sarif",
                             db=str(db), osv_db=OSV_DATA)
    app.run(request)  # imports and first-use costs out of the way
    began = time.perf_counter()
    result = app.run(request)
    elapsed = time.perf_counter() - began
    assert result.document["cache"]["misses"] == 0
    return elapsed


def one_round(source: Path, project: str, work: Path, index: int) -> dict[str, float]:
    tree = work / "tree"
    shutil.copytree(source, tree)
    cache = work / "cache.db"
    config = _config(work / "cache.toml", cache)
    figures: dict[str, float] = {}
    # the two cold runs alternate their order from round to round: the host drifts
    if index % 2:
        cold, cold_doc = secscan(tree, work, "cold", work / "b.db", config)
    figures["no_cache"] = secscan(tree, work, "no-cache", work / "a.db", None, "--no-cache")[0].wall_s
    if not index % 2:
        cold, cold_doc = secscan(tree, work, "cold", work / "b.db", config)
    figures["cold"] = cold.wall_s
    figures["cold_cpu"] = cold.cpu_s
    warms = [secscan(tree, work, "warm", work / "b.db", config) for _ in range(3)]
    figures["warm"] = statistics.median(w.wall_s for w, _ in warms)
    figures["warm_cpu"] = statistics.median(w.cpu_s for w, _ in warms)
    warm_doc = warms[-1][1]
    assert all(d["cache"]["misses"] == 0 for _, d in warms), warm_doc["cache"]
    figures["warm_in_process"] = in_process_rerun(tree, config, work / "b.db", work)
    edited = tree / EDITED[project]
    edited.write_text(edited.read_text() + "\n# edited for the benchmark\n")
    changed, changed_doc = secscan(tree, work, "changed", work / "b.db", config)
    figures["one_changed"] = changed.wall_s
    figures["changed_misses"] = changed_doc["cache"]["misses"]
    figures["entries"] = cold_doc["cache"]["misses"]
    figures["cache_bytes"] = sum(p.stat().st_size for p in work.glob("cache.db*"))
    sys.path.insert(0, str(REPO))
    from secscan.config.settings import DEFAULT_EXCLUDES
    from secscan.fs.inventory import build_inventory

    figures["files"] = len(build_inventory(tree.resolve(), DEFAULT_EXCLUDES, 5_000_000).files)
    for s in warm_doc["scanners"]:
        print(f"  warm {s['name']}: {s['status']}, {s['duration_s']} s, {s['findings']} findings")
    return figures


def example_rerun(work: Path) -> tuple[float, float]:
    """The bundled example: an unchanged re-run as a process, and ``app.run`` in-process."""
    tree = work / "example"
    shutil.copytree(EXAMPLE, tree)
    config = _config(work / "example.toml", work / "example-cache.db")
    (tree / "secscan.toml").rename(work / "example-scanners.toml")
    config.write_text(config.read_text() + (work / "example-scanners.toml").read_text()
                      .replace('osv_db = "osv"', f'osv_db = "{tree / "osv"}"'))
    db = work / "example.db"
    argv = [sys.executable, "-m", "secscan", "run", ".", "--config", str(config), "--db", str(db),
            "--fail-on", "none", "--sarif", str(work / "example.sarif")]
    measure(argv, tree)  # fills the cache
    process = statistics.median(measure(argv, tree).wall_s for _ in range(3))
    sys.path.insert(0, str(REPO))
    from secscan.app import run as app
    from secscan.config.settings import load_settings

    request = app.RunRequest(target=tree, settings=load_settings(config), sarif_path=work / "e.sarif",
                             db=str(db))
    app.run(request)  # imports and first-use costs out of the way
    began = time.perf_counter()
    result = app.run(request)
    in_process = time.perf_counter() - began
    assert result.document["cache"]["misses"] == 0
    return process, in_process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", choices=sorted(PROJECTS), default="pip")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    source = fetch_tree(args.project)
    rounds: list[dict[str, float]] = []
    examples: list[tuple[float, float]] = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            rounds.append(one_round(source, args.project, Path(tmp), i))
            examples.append(example_rerun(Path(tmp)))
        r = rounds[-1]
        print(f"round {i + 1}: no-cache {r['no_cache']:.2f} s, cold {r['cold']:.2f} s, "
              f"unchanged {r['warm']:.2f} s, one changed {r['one_changed']:.2f} s, "
              f"example re-run {examples[-1][0]:.2f} s ({examples[-1][1]:.3f} s in-process)", flush=True)

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def ratio(a: str, b: str) -> float:
        return statistics.median(r[a] / r[b] for r in rounds)

    last = rounds[-1]
    print()
    print(f"tree: {source.name}, {int(last['files'])} files, {int(last['entries'])} cache entries "
          f"(scanner x file), {args.repeat} round(s)")
    print(f"{'run':<36}{'wall s (median)':>16}")
    for key, label in (("no_cache", "cold, --no-cache"), ("cold", "cold, empty cache"),
                       ("warm", "unchanged re-run"), ("warm_in_process", "unchanged re-run (app.run in-process)"),
                       ("one_changed", "one file changed")):
        print(f"{label:<38}{med(key):>14.2f}")
    print(f"{'example re-run (process)':<36}{statistics.median(e[0] for e in examples):>16.2f}")
    print(f"{'example re-run (app.run in-process)':<36}{statistics.median(e[1] for e in examples):>16.3f}")
    print()
    print(f"unchanged / cold:          {ratio('warm', 'cold'):.3f}x  (target <= 0.02x)")
    print(f"  in CPU seconds:          {ratio('warm_cpu', 'cold_cpu'):.3f}x  (unchanged {med('warm_cpu'):.2f} s, "
          f"cold {med('cold_cpu'):.2f} s; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    print(f"unchanged / cold no-cache: {ratio('warm', 'no_cache'):.3f}x")
    print(f"  in-process / cold:       {ratio('warm_in_process', 'cold'):.3f}x  (interpreter start and imports left out)")
    print(f"one changed / cold:        {ratio('one_changed', 'cold'):.3f}x  (target <= 0.1x; "
          f"{int(last['changed_misses'])} misses)")
    print(f"cold with cache / no-cache: {ratio('cold', 'no_cache'):.3f}x  (target <= 1.05x)")
    per_1000 = last["cache_bytes"] / last["files"] * 1000
    print(f"cache on disk: {last['cache_bytes'] / 1e6:.2f} MB, {per_1000 / 1e3:.0f} KB per 1,000 files scanned")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
