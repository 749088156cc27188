"""Benchmark: how fast could a *replay* of an unchanged run be, as a process? (issue 18)

Issue 18 asks an unchanged re-run of pip's sdist to take <= 0.02x its cold run. The re-run
today runs every scanner's cached path (docs/design.md, "What an unchanged re-run still costs
as a process"). The only design left that skips them is a replay: re-check everything the
run depends on, then take the previous scan outcome as it was and only reconcile it with the
store and write the outputs. Before building one, this measures its floor: a process
(_replay_floor_child.py) that does the replay's remaining work with the cheapest possible
decoding and none of the checks a sound replay needs, alternated with the real unchanged
re-run, beside one cold ``--no-cache`` run for the ratio.

Usage: python benchmarks/replay_floor.py [--project pip|django] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import pickle  # noqa: S403 - written and read by this benchmark only, in its own temporary folder
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run import OSV_DATA, PROJECTS, REPO, fetch_tree

CHILD = Path(__file__).with_name("_replay_floor_child.py")


def _timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, from wait4) of one process."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{argv[1]} exited {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def _capture(tree: Path, config: Path, work: Path, out: Path) -> None:
    """The scan outcome an unchanged run would replay (run_scan over the filled cache), pickled."""
    sys.path.insert(0, str(REPO))
    from secscan.app.pipeline import run_scan
    from secscan.config.settings import load_settings
    from secscan.scanners.cache.paths import osv_index_folder

    settings = load_settings(config)
    outcome = run_scan(tree, settings, osv_db=OSV_DATA, cache=work / "cache.db",
                       osv_index=osv_index_folder(settings.cache), outputs=[work / "s.db", work / "s.sarif"])
    with out.open("wb") as handle:
        pickle.dump(outcome.run, handle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", choices=sorted(PROJECTS), default="pip")
    parser.add_argument("--rounds", type=int, default=9)
    options = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tree = work / "tree"
        shutil.copytree(fetch_tree(options.project), tree)
        config = work / "cache.toml"
        config.write_text(f'[cache]\npath = "{work / "cache.db"}"\n')
        common = ["run", ".", "--osv-db", str(OSV_DATA), "--fail-on", "none", "--format", "json",
                  "--config", str(config)]
        cold, cold_cpu = _timed([sys.executable, "-m", "secscan", *common, "--no-cache", "--db",
                                 str(work / "cold.db"), "--sarif", str(work / "cold.sarif")], tree)
        print(f"cold run --no-cache: {cold:.2f} s (CPU {cold_cpu:.2f} s)", flush=True)
        real = [sys.executable, "-m", "secscan", *common, "--db", str(work / "s.db"), "--sarif",
                str(work / "s.sarif")]
        _timed(real, tree)  # fills the result cache and the database
        _capture(tree, config, work, work / "outcome.pickle")
        floor = [sys.executable, str(CHILD), str(work / "outcome.pickle"), str(work / "cache.db"), *common,
                 "--db", str(work / "floor.db"), "--sarif", str(work / "floor.sarif")]
        _timed(floor, tree)  # its database gets the run once, as the real one has it
        samples: dict[str, list[tuple[float, float]]] = {"unchanged re-run": [], "replay floor": []}
        for _ in range(options.rounds):
            samples["unchanged re-run"].append(_timed(real, tree))
            samples["replay floor"].append(_timed(floor, tree))
    print(f"target: <= 0.02x the cold run = {0.02 * cold:.3f} s")
    for name, got in samples.items():
        wall = statistics.median(w for w, _ in got)
        cpu = statistics.median(c for _, c in got)
        print(f"{name}: {wall:.3f} s wall, {cpu:.3f} s CPU (median of {options.rounds}); "
              f"{wall / cold:.4f}x the cold run in wall, {cpu / cold_cpu:.4f}x in CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
