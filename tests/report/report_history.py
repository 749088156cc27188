"""A database with a known history for the report tests: fixed clock, two targets, every severity,
fixes, reopenings, breaches, manual triage, a suppression that expires, a failed scanner, MTTD.

Deterministic for a seed: a pool of potential findings per target; each nightly run reports a
random subset (so findings open, get fixed and come back); detect-secrets fails some nights.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secscan.app.tracking import record_run, sla_sweep, triage
from secscan.core import sla
from secscan.core.model import (
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
from secscan.core.ports.store import OPEN_STATES, FindingQuery, Suppression
from secscan.store import Store, TriageStatus

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)
DAY = timedelta(days=1)
BANDIT = ToolName("bandit")
SECRETS = ToolName("detect-secrets")
POLICY = sla.SlaPolicy(
    windows={
        Severity.CRITICAL: 2 * H,
        Severity.HIGH: 24 * H,
        Severity.MEDIUM: 3 * DAY,
        Severity.LOW: 10 * DAY,
        Severity.INFO: None,
    },
    due_soon_fraction=0.75,
)
SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
HOSTILE_RULE = "<script>alert(1)</script>$x$|[a](http://evil.example)"
HOSTILE_NAME = "<img src=x onerror=alert(2)> @team [n](http://evil.example/name)"


def rule_name(tool: str, rule_id: str) -> str:
    """The name the history's scanners give a rule (a hostile one for the hostile rule id)."""
    return HOSTILE_NAME if rule_id == HOSTILE_RULE else f"{tool} check {rule_id} in plain words"


def _rules(tool: str, found: tuple[Finding, ...]) -> tuple[Rule, ...]:
    ids = sorted({f.rule_id for f in found})
    return tuple(Rule(r, r, rule_name(tool, r), "full", "help", tags=("security",)) for r in ids)


@dataclass(frozen=True)
class History:
    now: datetime
    days: int
    targets: tuple[str, ...]
    policy: sla.SlaPolicy


def _finding(target: str, i: int) -> Finding:
    tool = SECRETS if i % 4 == 3 else BANDIT
    rule = HOSTILE_RULE if (target == "alpha" and i == 7) else f"R{i % 6}"
    return Finding(
        tool=tool,
        rule_id=rule,
        message=f"issue {i} in {target}",
        location=Location(f"src/m{i % 7}.py" if i % 5 else f"docs/n{i}.md", 3 + i),
        severity=SEVERITIES[i % 5],
        fingerprint=f"{target[:1]}{i:05x}".encode().hex().ljust(64, "0")[:64],
    )


def _run(target: str, root: str, day: int, found: list[Finding], secrets_ok: bool, at: datetime) -> ScanRun:
    mine = tuple(f for f in found if f.tool == BANDIT)
    bandit = ScannerResult(
        BANDIT, "1.9", ScannerStatus.OK, 2.0, 1, mine, rules=_rules(BANDIT, mine), scope=frozenset({"."})
    )
    theirs = tuple(f for f in found if f.tool == SECRETS) if secrets_ok else ()
    secrets = ScannerResult(
        SECRETS,
        "1.5",
        ScannerStatus.OK if secrets_ok else ScannerStatus.FAILED,
        1.0,
        0 if secrets_ok else 2,
        theirs,
        rules=_rules(SECRETS, theirs),
        scope=frozenset({"."}) if secrets_ok else frozenset(),
        reason=None if secrets_ok else "exit 2: crashed",
    )
    run_id = RunId(f"{at:%Y%m%dT%H%M%SZ}-{target[:1]}{day:07d}")
    return ScanRun(run_id, root, target, at, at + timedelta(minutes=3), (bandit, secrets))


def build_history(
    store: Store, roots: dict[str, str], *, seed: int = 8, days: int = 12, pool: int = 30
) -> History:
    """Record ``days`` nightly runs per target, triage and sweeps; returns the final ``now``."""
    rng = random.Random(seed)
    suppression = Suppression(
        reason="accepted until the vendor fix", rule="R2", path="src/*", expires=T0 + 5 * DAY
    )
    for day in range(days):
        for target, root in roots.items():
            at = T0 + day * DAY + timedelta(minutes=7 * len(target))
            found = [_finding(target, i) for i in range(pool) if rng.random() < (0.75 if i % 3 else 0.45)]
            secrets_ok = not (day % 5 == 4 and target == "alpha")
            run = _run(target, root, day, found, secrets_ok, at)
            sup = (suppression,) if target == "alpha" else ()
            record_run(store, run, at + timedelta(minutes=3), POLICY, sup)
            intro = {
                f.fingerprint: at - timedelta(minutes=rng.choice([-20, 5, 25, 90, 600])) for f in found[::2]
            }
            store.set_introduced(target, intro)
        sla_sweep(store, T0 + day * DAY + 20 * H, POLICY)
        if day in (3, 7):
            open_now = store.list_findings(FindingQuery(target="alpha", states=OPEN_STATES))
            for n, t in enumerate(open_now[:3]):
                status = TriageStatus.FALSE_POSITIVE if n == 0 else TriageStatus.ACCEPTED_RISK
                until = None if n != 1 else T0 + (day + 2) * DAY
                triage(
                    store, t.fingerprint,
                    status,
                    f"decided on day {day}: reviewed",
                    until,
                    "alice",
                    T0 + day * DAY + 21 * H,
                )
    now = T0 + days * DAY + 5 * H + timedelta(microseconds=123_456)
    return History(now=now, days=days, targets=tuple(sorted(roots)), policy=POLICY)


def make_checkout(root: Path) -> Path:
    """A checkout with a GitHub origin and a CODEOWNERS file (never a real git repository)."""
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(
        '[remote "origin"]\n\turl = git@github.com:acme/alpha-service.git\n'
    )
    (root / ".github").mkdir()
    (root / ".github" / "CODEOWNERS").write_text("* @acme/security\nsrc/ @acme/backend jane@example.com\n")
    return root
