"""Benchmark: redaction of many secrets on one line (issue 13, "quadratic redaction").

Target: a 19 KB one-line JSON file holding 300 SHA-1 hex strings (detect-secrets reports each
as a Hex High Entropy String) costs under 0.5 s in "redaction and identity"; main took 51 s.

Each round runs ``secscan run --no-cache -v`` on the file twice, side by side: once with the
baseline code (``--baseline REF``, exported with ``git archive`` and put first on PYTHONPATH)
and once with the working tree. It prints, per size, the "redaction and identity" seconds that
the run logs and the whole process's wall time, and their ratios.

Usage: python benchmarks/bench_redaction.py [--baseline REF] [--sizes 150,300] [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHASE = re.compile(r"redaction and identity (\d+\.\d+) s")


def hashes_file(folder: Path, count: int) -> Path:
    """A one-line JSON file of ``count`` SHA-1 hex strings (300: 19 KB with its keys)."""
    values = [hashlib.sha1(f"value {i}".encode(), usedforsecurity=False).hexdigest() for i in range(count)]
    folder.mkdir(parents=True)
    path = folder / "hashes.json"
    items = [{"id": f"i{i}", "sha1": v} for i, v in enumerate(values)]
    path.write_text(json.dumps({"hashes": items}))
    return path


def run(code: Path, tree: Path, out: Path) -> tuple[float, float, int]:
    """(redaction and identity s, wall s, findings) of one ``secscan run`` with ``code`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(code), "XDG_STATE_HOME": str(out / "state")}
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "secscan", "run", str(tree), "--no-cache", "-v", "--format", "json",
         "--fail-on", "none", "--scanner", "detect-secrets", "--sarif", str(out / "out.sarif")],
        cwd=out, env=env, capture_output=True, text=True, check=False,
    )
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"secscan run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    phase = PHASE.search(proc.stderr)
    if phase is None:
        raise SystemExit("the run did not log its redaction time; is -v honoured?")
    return float(phase.group(1)), wall, len(json.loads(proc.stdout)["findings"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref of the code to compare with")
    parser.add_argument("--sizes", default="150,300", help="numbers of hashes on the line")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-redaction-") as scratch:
        base = Path(scratch, "baseline")
        base.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.baseline, "secscan", "rules"], cwd=REPO, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        print(f"baseline {args.baseline}, candidate: the working tree; {args.repeat} round(s)")
        print(f"{'hashes':>6} {'KB':>5} {'findings':>8} | {'redaction s base':>16} {'cand':>6} {'ratio':>7} |"
              f" {'wall s base':>11} {'cand':>6} {'ratio':>6}")
        for size in (int(s) for s in args.sizes.split(",")):
            tree = Path(scratch, f"tree-{size}")
            kb = hashes_file(tree, size).stat().st_size / 1024
            rows = []
            for index in range(args.repeat):
                outs = [Path(scratch, f"out-{size}-{index}-{side}") for side in ("b", "c")]
                for out in outs:
                    out.mkdir()
                baseline = run(base, tree, outs[0])
                candidate = run(REPO, tree, outs[1])
                if baseline[2] != candidate[2]:
                    raise SystemExit(f"findings differ: {baseline[2]} against {candidate[2]}")
                rows.append((baseline, candidate))
            bp = statistics.median(b[0] for b, _ in rows)
            cp = statistics.median(c[0] for _, c in rows)
            bw = statistics.median(b[1] for b, _ in rows)
            cw = statistics.median(c[1] for _, c in rows)
            ratio = cp / max(bp, 1e-9)
            print(f"{size:>6} {kb:>5.1f} {rows[0][1][2]:>8} | {bp:>16.2f} {cp:>6.2f} {ratio:>7.4f} |"
                  f" {bw:>11.2f} {cw:>6.2f} {cw / bw:>6.3f}")


if __name__ == "__main__":
    main()
