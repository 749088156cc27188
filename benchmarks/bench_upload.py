"""Benchmark: GitHub upload preparation (issue 5). Target: split, gzip and base64-encode a
100k-result SARIF log in <= 5 s.

The log is secscan's own (``secscan.report.sarif.build_sarif``, not timed) for one scan with 100k
findings, realistic messages, rules and regions, in two shapes:

* ``4 tools x 25k``: four tool runs of 25,000 results each (every file at GitHub's per-run limit,
  nothing dropped): the split, the per-result copy with the secscan id, gzip and base64;
* ``1 tool x 100k``: one tool with 100k results: the same, plus truncation by severity to 25,000.

Timed: ``secscan.delivery.github.prepare.prepare`` (the whole preparation the uploader does before
queueing). Reported: wall time (best and median of ``--repeat``), gzipped bytes, results kept.

Usage: python benchmarks/bench_upload.py [--results 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from secscan.config.policy import load_policy  # noqa: E402
from secscan.core.model import (  # noqa: E402
    Finding,
    Location,
    Rule,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.delivery.github.prepare import prepare  # noqa: E402
from secscan.report.sarif import build_sarif  # noqa: E402

T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
TARGET_S = 5.0
SEVERITIES = list(Severity)
WORDS = ("possible", "injection", "hardcoded", "password", "subprocess", "shell", "insecure", "weak", "call")


def _findings(tool: str, count: int, rng: random.Random) -> list[Finding]:
    out = []
    for i in range(count):
        fp = hashlib.sha256(f"{tool}|{i}".encode()).hexdigest()
        words = " ".join(rng.choice(WORDS) for _ in range(8))
        line = rng.randint(1, 800)
        finding = Finding(
            tool=ToolName(tool), rule_id=f"{tool[:2].upper()}{rng.randint(100, 399)}",
            message=f"{words.capitalize()} in call at line {line}.",
            location=Location(f"src/pkg{i % 97}/module_{i % 2011}.py", line, 5, line, 40),
            severity=rng.choice(SEVERITIES), fingerprint=fp, line_hash=f"{fp[:16]}:1",
        )  # fmt: skip
        out.append(finding)
    return out


def _scanner(tool: str, findings: list[Finding]) -> ScannerResult:
    rules = tuple(
        Rule(r, r, f"{r} short", f"{r} full description of the rule", f"{r} help text")
        for r in sorted({f.rule_id for f in findings})
    )
    return ScannerResult(ToolName(tool), "1.0", ScannerStatus.OK, 1.0, 0, tuple(findings), rules)


def _log(tools: int, per_tool: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    names = [f"tool{i}" for i in range(tools)]
    scanners = tuple(_scanner(n, _findings(n, per_tool, rng)) for n in names)
    end = T0 + timedelta(minutes=3)
    run = ScanRun(RunId("20260105T020000Z-0000beef"), "/srv/demo", "demo", T0, end, scanners)
    return build_sarif(run, load_policy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the truncation warning of the 1-tool shape, once per repeat
    print(f"| shape | results | files | kept | dropped | gzip MB | best s | median s | ≤ {TARGET_S:g} s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for tools in (4, 1):
        sarif = _log(tools, args.results // tools, seed=tools)
        names = {str(r["tool"]["driver"]["name"]) for r in sarif["runs"]}  # type: ignore[index,union-attr]
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            uploads = prepare(sarif, names)
            times.append(time.perf_counter() - began)
        kept = sum(u.results for u in uploads)
        dropped = sum(u.dropped_results for u in uploads)
        size = sum(u.gzip_bytes for u in uploads) / 1e6
        best, median = min(times), statistics.median(times)
        verdict = "met" if median <= TARGET_S else "**missed**"
        shape = f"{tools} tool{'s' if tools > 1 else ''} x {args.results // tools // 1000}k"
        print(f"| {shape} | {args.results} | {len(uploads)} | {kept} | {dropped} | {size:.1f} | "
              f"{best:.2f} | {median:.2f} | {verdict} |")  # fmt: skip


if __name__ == "__main__":
    main()
