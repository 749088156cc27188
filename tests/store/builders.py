"""Builders of findings and runs for the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from secscan.core import sla
from secscan.core.changeset import RunChangeset
from secscan.core.model import (
    Finding,
    FindingState,
    Location,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.core.records import RunSummary, TrackedFinding
from secscan.store import Store

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
BANDIT = ToolName("bandit")
SECRETS = ToolName("detect-secrets")
POLICY = sla.SlaPolicy(
    windows={
        Severity.CRITICAL: 2 * H,
        Severity.HIGH: 24 * H,
        Severity.MEDIUM: 7 * 24 * H,
        Severity.LOW: 30 * 24 * H,
        Severity.INFO: None,
    }
)


def fnd(n: int, *, line: int = 1, tool: ToolName = BANDIT, sev: Severity = Severity.HIGH) -> Finding:
    return Finding(
        tool=tool,
        rule_id=f"R{n % 3}",
        message=f"issue {n}",
        location=Location(f"src/m{n}.py", line),
        severity=sev,
        fingerprint=f"{n:06x}" + "cd" * 29,
    )


def make_run(
    run_id: str,
    findings: list[Finding],
    *,
    target: str = "repo",
    secrets_status: ScannerStatus = ScannerStatus.OK,
    at: datetime = T0,
) -> ScanRun:
    mine = tuple(f for f in findings if f.tool == BANDIT)
    bandit = ScannerResult(BANDIT, "1.8", ScannerStatus.OK, 2.5, 0, mine, scope=frozenset({"."}))
    ok = secrets_status is ScannerStatus.OK
    secrets = ScannerResult(
        SECRETS, "1.5", secrets_status, 1.0, 0 if ok else 2,
        tuple(f for f in findings if f.tool == SECRETS),
        scope=frozenset({"."}) if ok else frozenset(), reason=None if ok else "exit 2",
    )  # fmt: skip
    return ScanRun(RunId(run_id), f"/srv/{target}", target, at, at + timedelta(seconds=5), (bandit, secrets))


def write_new(store: Store, run: ScanRun) -> RunSummary:
    """Record ``run`` with all its findings new, through a hand-built changeset (no
    reconciliation): for tests of what the store keeps and reads."""
    at = run.started_at
    tracked = tuple(
        TrackedFinding(f.fingerprint, run.target_name, f.tool, f.rule_id, f.location.path,
                       f.location.start_line, f.message, f.severity, FindingState.NEW, at, at, sla.start(at))
        for f in sorted(run.findings, key=lambda f: f.fingerprint)
    )  # fmt: skip
    counts = {"new": len(tracked), "unchanged": 0, "reopened": 0, "fixed": 0}
    columns = ((None, "none", None),) * len(tracked)
    with store.recording(run.target_name) as recording:
        recording.snapshot()
        return recording.apply(RunChangeset(run, at, counts, tracked, columns, {}, (), (), ()))
