"""Benchmark: routing and queueing the alerts of 100k findings (issue 6 target: <= 2 s).

A run of one target with N open findings (default 100k over 500 rules, all critical) has been
recorded; the timed part is ``secscan.delivery.notify.events.on_run``: building the events, routing them,
looking up incident state, queueing the outbox items and saving the incidents. Two policies:

  * ``paged``: a routing policy that pages every finding with storm grouping out of the way
    (threshold above N): N incidents and N outbox items, the worst case;
  * ``storm``: the default policy (storm threshold 10): one grouped incident per rule.

Then the same run again (nothing new to page: every incident is open), timed the same way.
Recording the run (the store's own work, benchmarked by bench_store.py) is not timed. Wall and
CPU time are printed: on a shared, busy host the CPU time is the steadier of the two.

Usage: python benchmarks/bench_alerts.py [--findings 100000] [--rules 500]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secscan.app.tracking import record_run
from secscan.config.policy import load_sla_policy
from secscan.config.settings import build_settings
from secscan.core.model import (
    Finding,
    Location,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.delivery.notify import events
from secscan.store import open_store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_run(run_id: str, n: int, rules: int) -> ScanRun:
    findings = tuple(
        Finding(
            tool=ToolName("bandit"),
            rule_id=f"B{n_ % rules:04d}",
            message="issue",
            location=Location(f"src/pkg{n_ % 997}/mod{n_}.py", 10 + n_ % 50),
            severity=Severity.CRITICAL,
            fingerprint=f"{n_:016x}" + "cd" * 24,
        )
        for n_ in range(n)
    )
    scanner = ScannerResult(
        ToolName("bandit"), "1.9", ScannerStatus.OK, 1.0, 1, findings, scope=frozenset({"."})
    )
    return ScanRun(RunId(run_id), "/srv/app", "app", T0, T0 + timedelta(seconds=1), (scanner,))


def bench(name: str, n: int, rules: int, routing: str | None, workdir: Path) -> None:
    os.environ.setdefault("PAGERDUTY_ROUTING_KEY", "e93facc04764012d7bfb002500d5d1a6")
    notify: dict[str, object] = {"pager": {"type": "pagerduty"}}
    if routing is not None:
        (workdir / f"{name}.toml").write_text(routing, encoding="utf-8")
        notify["routing"] = str(workdir / f"{name}.toml")
    settings = build_settings({"notify": notify})
    db = workdir / f"{name}.db"
    policy = load_sla_policy()
    with open_store(db) as store:
        for i, label in enumerate(("first run", "same run again")):
            run = make_run(f"r{i}", n, rules)
            at = T0 + timedelta(minutes=i)
            recorded = record_run(store, run, at, policy, ())
            began, cpu = time.perf_counter(), time.process_time()
            queued = events.on_run(store, run, recorded, settings, at)
            took, cpu = time.perf_counter() - began, time.process_time() - cpu
            print(
                f"{name:6} {label:15} {n:>7} findings -> {queued:>7} alerts queued in {took:6.2f} s "
                f"(CPU {cpu:5.2f} s)"
            )
    with sqlite3.connect(db) as conn:
        incidents = conn.execute("SELECT count(*) FROM alert_incidents").fetchone()[0]
    print(f"{name:6} incidents stored: {incidents}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=500)
    args = parser.parse_args()
    paged = (
        f"[storm]\nthreshold = {args.findings + 1}\nmax_notices = 20\n"
        '[[route]]\nevent = "finding"\nto = ["page"]\n'
    )
    with tempfile.TemporaryDirectory() as tmp:
        bench("paged", args.findings, args.rules, paged, Path(tmp))
        bench("storm", args.findings, args.rules, None, Path(tmp))
    print("target: <= 2 s per 100k findings")


if __name__ == "__main__":
    main()
