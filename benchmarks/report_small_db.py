"""A small lifecycle database for ``bench_report.py --small``: 4 targets x 10 nightly runs of 8
tools (about 640 findings with rule names, packages, triage and a suppression), recorded through
``Store.record_run`` of whichever secscan runs this script (so an older installation builds its
own database in its own schema).

Usage: python benchmarks/report_small_db.py DB
"""

import random
import sys
from datetime import UTC, datetime, timedelta

from secscan.app import tracking
from secscan.config.policy import load_sla_policy
from secscan.core.model import (
    Finding,
    Location,
    Package,
    Rule,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
)
from secscan.core.ports.store import Suppression
from secscan.store import TriageStatus, open_store

rng = random.Random(19)
T0 = datetime(2026, 11, 16, 2, tzinfo=UTC)
TOOLS = {
    "bandit": 0.55,
    "detect-secrets": 0.05,
    "pip-audit": 0.1,
    "lockfile-audit": 0.1,
    "zizmor": 0.05,
    "semgrep": 0.1,
    "trivy": 0.03,
    "gitleaks": 0.02,
}
SEV = (
    [Severity.CRITICAL] * 2
    + [Severity.HIGH] * 15
    + [Severity.MEDIUM] * 25
    + [Severity.LOW] * 50
    + [Severity.INFO] * 8
)
policy = load_sla_policy()


def pool(target):
    found = []
    for i in range(160):
        tool = rng.choices(list(TOOLS), list(TOOLS.values()))[0]
        rule = f"{tool[:3].upper()}{rng.randrange(30):03d}"
        pkg = (
            Package("PyPI", f"pkg{i}", "1.0", ("1.0.1",)) if tool in ("pip-audit", "lockfile-audit") else None
        )
        found.append(
            (
                Finding(
                    tool=tool,
                    rule_id=rule,
                    message=f"{rule} in {target}",
                    location=Location(f"src/m{i % 40}.py", 3 + i),
                    severity=rng.choice(SEV),
                    fingerprint=f"{target}{i:06d}".encode().hex().ljust(64, "0")[:64],
                    package=pkg,
                ),
                Rule(rule, rule, f"What {rule} finds, in words", "full", "help", tags=("security",)),
            )
        )
    return found


with open_store(sys.argv[1]) as store:
    pools = {f"service{t}": pool(f"service{t}") for t in range(4)}
    for day in range(10):
        for target, found in pools.items():
            at = T0 + timedelta(days=day) - timedelta(days=9)
            seen = [p for p in found if rng.random() < 0.9]
            results = tuple(
                ScannerResult(
                    tool,
                    "1.0",
                    ScannerStatus.OK,
                    1.0,
                    1,
                    tuple(f for f, _ in seen if f.tool == tool),
                    rules=tuple({r.id: r for f, r in seen if f.tool == tool}.values()),
                    scope=frozenset({"."}),
                )
                for tool in TOOLS
            )
            run = ScanRun(
                RunId(f"{at:%Y%m%dT%H%M%SZ}-{target}"),
                f"/srv/{target}",
                target,
                at,
                at + timedelta(minutes=3),
                results,
            )
            sup = (Suppression(reason="generated", rule="BAN001", expires=T0 + timedelta(days=10)),)
            tracking.record_run(store, run, at + timedelta(minutes=3), policy, sup)
    some = store.list_findings()[:6]
    for n, t in enumerate(some):
        tracking.triage(
            store,
            t.fingerprint,
            TriageStatus.ACCEPTED_RISK if n % 2 else TriageStatus.FALSE_POSITIVE,
            "reviewed",
            T0 + timedelta(days=5) if n % 2 else None,
            "alice",
            T0,
            target=t.target,
        )
