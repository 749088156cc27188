"""Benchmark: peak memory of ``secscan ingest`` on a SARIF log far over the per-run result cap.

Issue 13 ("untrusted input stays bounded"): a 158 MB log of 1M results took 3.0 GB to ingest,
because the whole log was decoded at once. The log is now streamed and only the first 100k
results of a run are kept (the run is then ``incomplete`` and closes nothing). Target: peak RSS
under 1 GB.

The script writes a one-run log of ``--results`` results (default 1,000,000, about 158 MB: one
rule per result out of 50, 5,000 files, a start line), then runs
``python -m secscan ingest LOG --target bench --db DB --format json`` under ``/usr/bin/time -v``
and prints the wall time, the peak RSS (``Maximum resident set size``), the exit code (3: the
tool is incomplete) and the tool's status. ``--code DIR`` runs another checkout's ``secscan``
package (e.g. ``git archive <rev> | tar -x -C DIR``) the same way, for a before/after figure.

Usage: python benchmarks/bench_ingest_memory.py [--results 1000000] [--code DIR] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write_log(path: Path, results: int) -> int:
    """A one-run SARIF log with ``results`` results, written as a stream; returns its size."""
    rules = [{"id": f"rule-{r:02d}", "shortDescription": {"text": f"Rule {r}"}} for r in range(50)]
    head = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "bench", "rules": rules}}}]}
    opening = json.dumps(head, separators=(",", ":"))[: -len("}]}")] + ',"results":['
    with path.open("w", encoding="utf-8") as fh:
        fh.write(opening)
        for i in range(results):
            line = 1 + i % 400
            result = (
                f'{{"ruleId":"rule-{i % 50:02d}","message":{{"text":"Finding {i}"}},"locations":[{{'
                f'"physicalLocation":{{"artifactLocation":{{"uri":"src/m{i % 5000:04d}.py"}},'
                f'"region":{{"startLine":{line}}}}}}}]}}'
            )
            fh.write(result if i == 0 else "," + result)
        fh.write("]}]}\n")
    return path.stat().st_size


def measure(code: Path, log: Path, db: Path) -> dict[str, object]:
    """Run one ingest under /usr/bin/time -v; its wall time, peak RSS, exit code and statuses."""
    env = dict(os.environ, PYTHONPATH=str(code))
    argv = ["/usr/bin/time", "-v", sys.executable, "-m", "secscan", "ingest", str(log),
            "--target", "bench", "--db", str(db), "--format", "json"]  # fmt: skip
    # cwd: ``python -m`` puts it first on sys.path, so it decides which secscan is imported
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=code, check=False)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr)
    try:
        statuses = [s["status"] for s in json.loads(done.stdout)["scanners"]]
    except (ValueError, KeyError, TypeError):
        statuses = [done.stderr.strip().splitlines()[0] if done.stderr.strip() else "?"]
    return {
        "peak_rss_mb": int(rss[1]) / 1024 if rss else None,
        "wall": wall[1] if wall else None,
        "exit_code": done.returncode,
        "statuses": statuses,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=1_000_000)
    parser.add_argument("--code", type=Path, help="another checkout's tree to measure too")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    ns = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        print("needs /usr/bin/time (GNU time: apt-get install time)")
        return 2
    work = ns.workdir or Path(tempfile.mkdtemp(prefix="secscan-bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        log = work / "big.sarif"
        size = write_log(log, ns.results)
        print(f"log: {ns.results} results in one run, {size / 1e6:.0f} MB")
        sides = [("this checkout", REPO)] + ([("--code", ns.code.resolve())] if ns.code else [])
        for index, (label, code) in enumerate(sides):
            got = measure(code, log, work / f"ingest-{index}.db")
            print(f"{label:14} peak RSS {got['peak_rss_mb']:.0f} MB, wall {got['wall']}, "
                  f"exit {got['exit_code']}, status {', '.join(map(str, got['statuses']))}")  # fmt: skip
    finally:
        if not ns.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
