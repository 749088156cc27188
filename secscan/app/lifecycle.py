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

from secscan.app import tracking
from secscan.core import metrics, sla
from secscan.core.errors import ConfigError
from secscan.core.metrics import SCORE_BASELINE, DetectionTime
from secscan.core.model import FindingState, Severity
from secscan.core.ports.store import (
    OPEN_STATES,
    FindingQuery,
    HistoryEntry,
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
