"""Application functions of the lifecycle commands: findings, show, sla, stats and triage.

Plain functions over a :class:`~secscan.core.ports.store.Store`; each takes ``now`` and the SLA
policy and returns frozen dataclasses (the CLI renders them with :mod:`secscan.report` or as the
JSON documents built here). Nothing here prints or exits; bad requests raise
:class:`~secscan.core.errors.ConfigError` with one line saying what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from secscan.app import tracking
from secscan.core import metrics, sla
from secscan.core.errors import ConfigError
from secscan.core.metrics import SCORE_BASELINE, DetectionTime
from secscan.core.model import FindingState, ScanRun, Severity
from secscan.core.ports.store import (
    OPEN_STATES,
    FindingQuery,
    HistoryEntry,
    RunOutcome,
    Store,
    TrackedFinding,
    TriageStatus,
)
from secscan.core.suppressions import end_of_day

MAX_REASON = 1000

# -- views -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaView:
    """A finding's SLA at ``now``: status, due time (as of the pause when paused)."""

    status: sla.SlaStatus
    due_at: datetime | None
    paused: bool

    def remaining(self, now: datetime) -> timedelta | None:
        """Time left until the due time (negative once overdue); ``None`` without one or paused."""
        return None if self.due_at is None or self.paused else self.due_at - now


def sla_view(t: TrackedFinding, policy: sla.SlaPolicy, now: datetime) -> SlaView:
    fixed = t.state is FindingState.FIXED
    return SlaView(
        status=sla.status(t.sla, t.severity, policy, now, fixed=fixed),
        due_at=sla.due_at(t.sla, t.severity, policy),
        paused=not t.sla.running,
    )


@dataclass(frozen=True)
class FindingRow:
    finding: TrackedFinding
    sla: SlaView


@dataclass(frozen=True)
class FindingDetail:
    finding: TrackedFinding
    sla: SlaView
    history: tuple[HistoryEntry, ...]


@dataclass(frozen=True)
class Stats:
    """``secscan stats``: the metrics of one target (or all) at ``now``."""

    target: str | None
    at: datetime
    total: int
    open: int
    metrics: metrics.Metrics
    baseline: float = SCORE_BASELINE

    @property
    def mttd(self) -> Mapping[Severity, DetectionTime | None]:
        """Time to detect per severity (None where no finding's introduction time is known)."""
        return self.metrics.mttd


def _rows(findings: Iterable[TrackedFinding], policy: sla.SlaPolicy, now: datetime) -> tuple[FindingRow, ...]:
    return tuple(FindingRow(t, sla_view(t, policy, now)) for t in findings)


# -- commands --------------------------------------------------------------------------------------


def list_findings(
    store: Store, query: FindingQuery, now: datetime, policy: sla.SlaPolicy
) -> tuple[FindingRow, ...]:
    """``secscan findings``: tracked findings matching ``query``, worst severity first."""
    return _rows(store.list_findings(query), policy, now)


def show_finding(
    store: Store, ref: str, now: datetime, policy: sla.SlaPolicy, target: str | None = None
) -> FindingDetail:
    """``secscan show ID``: the finding, its SLA and its audit trail. Raises StoreError."""
    finding = store.get_finding(ref, target)
    return FindingDetail(finding, sla_view(finding, policy, now), store.history(finding.fingerprint, target))


def _wanted(view: SlaView, now: datetime, breached: bool, due_within: timedelta | None) -> bool:
    if view.status is sla.SlaStatus.BREACHED:
        return breached
    return due_within is not None and view.due_at is not None and view.due_at <= now + due_within


def sla_report(
    store: Store,
    now: datetime,
    policy: sla.SlaPolicy,
    *,
    breached: bool = False,
    due_within: timedelta | None = None,
    target: str | None = None,
) -> tuple[FindingRow, ...]:
    """``secscan sla``: open findings with a due time, soonest first.

    ``breached`` keeps the breached ones, ``due_within`` those not breached and due by
    ``now + due_within``; both together keep either.
    """
    rows = [
        r
        for r in _rows(store.list_findings(FindingQuery(target=target, states=OPEN_STATES)), policy, now)
        if r.sla.due_at is not None
    ]
    if breached or due_within is not None:
        rows = [r for r in rows if _wanted(r.sla, now, breached, due_within)]
    return tuple(sorted(rows, key=lambda r: (r.sla.due_at, -r.finding.severity.rank, r.finding.fingerprint)))


def stats(store: Store, now: datetime, policy: sla.SlaPolicy, target: str | None = None) -> Stats:
    """``secscan stats``: MTTR, SLA compliance, open findings by age, security score."""
    findings = store.list_findings(FindingQuery(target=target))
    return Stats(
        target=target,
        at=now,
        total=len(findings),
        open=sum(t.is_open for t in findings),
        metrics=metrics.compute(findings, policy, now),
    )


def triage_finding(
    store: Store,
    ref: str,
    status: TriageStatus,
    reason: str,
    until: date | None,
    actor: str,
    now: datetime,
    target: str | None = None,
) -> TrackedFinding:
    """``secscan triage``: record a decision. ``until`` (a day) holds through that UTC day.

    Raises ConfigError for a missing reason, ``until`` without ``accepted-risk`` or in the past;
    StoreError when the finding is unknown or ambiguous.
    """
    text = " ".join(reason.split())
    if not text:
        raise ConfigError(f"triage of {ref}: --reason is required and must not be blank; say why")
    if len(text) > MAX_REASON:
        raise ConfigError(f"triage of {ref}: --reason is longer than {MAX_REASON} characters; shorten it")
    expires = None
    if until is not None:
        if status is not TriageStatus.ACCEPTED_RISK:
            raise ConfigError(f"triage of {ref}: --until only applies to --as accepted-risk")
        expires = end_of_day(until)
        if expires <= now:
            raise ConfigError(
                f"triage of {ref}: --until {until.isoformat()} is in the past; give a later date"
            )
    return tracking.triage(store, ref, status, text, expires, actor, now, target)


# -- JSON documents --------------------------------------------------------------------------------


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def _detection(value: DetectionTime | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"mean": _seconds(value.mean), "median": _seconds(value.median), "count": value.count}


def finding_json(row: FindingRow) -> dict[str, Any]:
    t = row.finding
    triage = t.triage
    return {
        "id": t.id,
        "fingerprint": t.fingerprint,
        "target": t.target,
        "tool": t.tool,
        "rule": t.rule_id,
        "severity": t.severity.value,
        "state": t.state.value,
        "path": t.path,
        "line": t.line,
        "message": t.message,
        "first_seen": _ts(t.first_seen),
        "last_seen": _ts(t.last_seen),
        "fixed_at": _ts(t.fixed_at),
        "sla": {"status": row.sla.status.value, "due_at": _ts(row.sla.due_at), "paused": row.sla.paused},
        "triage": None
        if triage is None
        else {
            "status": triage.status.value,
            "reason": triage.reason,
            "actor": triage.actor,
            "decided_at": _ts(triage.decided_at),
            "until": _ts(triage.until),
        },
    }


def findings_document(rows: Iterable[FindingRow]) -> dict[str, Any]:
    return {"findings": [finding_json(r) for r in rows]}


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "at": _ts(entry.at),
        "event": entry.event.value,
        "from": None if entry.from_state is None else entry.from_state.value,
        "to": entry.to_state.value,
        "actor": entry.actor,
        "reason": entry.reason,
        "run_id": entry.run_id,
    }


def detail_document(detail: FindingDetail) -> dict[str, Any]:
    return {
        "finding": finding_json(FindingRow(detail.finding, detail.sla)),
        "history": [history_json(e) for e in detail.history],
    }


def stats_document(s: Stats) -> dict[str, Any]:
    m = s.metrics
    document: dict[str, Any] = {
        "target": s.target,
        "at": _ts(s.at),
        "findings": s.total,
        "open": s.open,
        "mttr_s": {sev.value: _seconds(m.mttr.get(sev)) for sev in Severity},
        "sla_compliance_pct": None if m.sla_compliance is None else round(m.sla_compliance, 1),
        "open_by_age": [
            {"severity": c.severity.value, "age": c.bucket, "count": c.count} for c in m.open_by_age
        ],
        "score": m.score,
        "score_baseline": s.baseline,
        "score_meets_baseline": m.score >= s.baseline,
    }
    document["mttd_s"] = {sev.value: _detection(s.mttd.get(sev)) for sev in Severity}
    return document


def ingest_document(run: ScanRun, outcome: RunOutcome) -> dict[str, Any]:
    """What ``secscan ingest --format json`` prints: the recorded run and what it changed."""
    summary = outcome.run
    return {
        "run_id": summary.run_id,
        "target": summary.target,
        "status": summary.status.value,
        "new": [f.id for f in outcome.new],
        "unchanged": [f.id for f in outcome.unchanged],
        "reopened": [f.id for f in outcome.reopened],
        "fixed": [f.id for f in outcome.fixed],
        "scanners": [
            {
                "name": s.name,
                "version": s.version,
                "status": s.status.value,
                "findings": len(s.findings),
                "reason": s.reason,
            }
            for s in run.scanners
        ],
        "notifications": [
            {"tool": s.name, "level": n.level.value, "message": n.message, "path": n.path, "line": n.line}
            for s in run.scanners
            for n in s.notifications
        ],
    }
