"""Is ``secscan run``'s SARIF the same across two versions, apart from run ids and times? (issue 15)

Each version (a tree holding its ``secscan`` package: a checkout, or ``git archive <rev> | tar -x
-C DIR``) scans the same copy of the bundled example (``examples/vulnerable-app``, at the same
path for both, with a fresh database and no result cache). The two logs are compared as bytes
after masking what differs by design between any two runs: run ids (``20261207T122124Z-dc11745e``),
UTC timestamps and each scanner's ``duration-s``. The script prints the masked fields' count and
either "identical" or a unified diff, and exits 1 when they differ.

Usage: python benchmarks/sarif_same.py --baseline DIR [--candidate DIR]
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "vulnerable-app"
RUN_ID = re.compile(rb"\b\d{8}T\d{6}Z-[0-9a-f]{8}\b")
TIME = re.compile(rb"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
DURATION = re.compile(rb'"duration-s": ?[0-9.e+-]+')


def masked(data: bytes) -> tuple[bytes, int]:
    data, ids = RUN_ID.subn(b"<run-id>", data)
    data, times = TIME.subn(b"<time>", data)
    data, durations = DURATION.subn(b'"duration-s":"<duration>"', data)
    return data, ids + times + durations


def scan(tree: Path, work: Path) -> bytes:
    """The SARIF log of one ``secscan run`` of the example with the secscan of ``tree``."""
    target = work / "vulnerable-app"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(EXAMPLE, target)
    out = work / "out.sarif"
    out.unlink(missing_ok=True)
    db = work / "state" / "secscan.db"
    shutil.rmtree(db.parent, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(tree), "XDG_CACHE_HOME": str(work / "cache"),
           "XDG_STATE_HOME": str(work / "state-home")}  # fmt: skip
    argv = [sys.executable, "-P", "-m", "secscan", "run", str(target), "--fail-on", "none", "--no-cache",
            "--db", str(db), "--sarif", str(out)]  # fmt: skip
    proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not out.is_file():
        raise SystemExit(f"secscan from {tree} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return out.read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--candidate", type=Path, default=REPO)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sarif-same-") as tmp:
        work = Path(tmp)
        before, n_before = masked(scan(ns.baseline.resolve(), work))
        after, n_after = masked(scan(ns.candidate.resolve(), work))
    print(f"baseline:  {len(before)} bytes after masking {n_before} run ids, times and durations")
    print(f"candidate: {len(after)} bytes after masking {n_after} run ids, times and durations")
    if before == after:
        print("identical")
        return 0
    diff = difflib.unified_diff(before.decode().splitlines(), after.decode().splitlines(), "baseline",
                                "candidate", lineterm="", n=2)  # fmt: skip
    print("\n".join(diff))
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
