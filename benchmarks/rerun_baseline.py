"""An unchanged re-run of a tree as a process, this checkout against a baseline checkout, alternating.

Each side fills its own result cache and database with one run, then the two sides' unchanged
re-runs alternate ``N`` times; the script prints each side's median wall and CPU seconds (user +
system from wait4) and the CPU ratio, which the machine's load moves much less than wall time.
Used for pip's sdist in issue 18 (``.bench/pip-24.2`` as bench_run.py unpacks it).

Usage: python benchmarks/rerun_baseline.py TREE BASELINE_CHECKOUT [N]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run import OSV_DATA, REPO


def run(work: Path, tree: Path, side: str, checkout: Path) -> tuple[float, float]:
    config = work / f"{side}.toml"
    if not config.exists():
        config.write_text(f'[cache]\npath = "{work / (side + "-cache.db")}"\n')
    argv = [sys.executable, "-m", "secscan", "run", ".", "--osv-db", str(OSV_DATA), "--fail-on", "none",
            "--format", "json", "--db", str(work / f"{side}.db"), "--sarif", str(work / f"{side}.sarif"),
            "--config", str(config)]
    began = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=tree, env={**os.environ, "PYTHONPATH": str(checkout)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{side}: secscan run exited {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def main() -> int:
    source, baseline = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    sides = {"this": REPO, "base": baseline}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tree = work / "tree"
        shutil.copytree(source, tree)
        for side, checkout in sides.items():
            wall, cpu = run(work, tree, side, checkout)
            print(f"{side}: the run that fills the cache {wall:.2f} s (CPU {cpu:.2f} s)", flush=True)
        samples: dict[str, list[tuple[float, float]]] = {side: [] for side in sides}
        for _ in range(rounds):
            for side, checkout in sides.items():
                samples[side].append(run(work, tree, side, checkout))
    for side, got in samples.items():
        print(f"{side}: unchanged re-run wall {statistics.median(w for w, _ in got):.3f} s, "
              f"CPU {statistics.median(c for _, c in got):.3f} s (median of {rounds})")
    cpu = {side: statistics.median(c for _, c in got) for side, got in samples.items()}
    print(f"CPU this / base: {cpu['this'] / cpu['base']:.2f}x; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
