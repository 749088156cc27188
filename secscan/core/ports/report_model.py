"""Frozen aggregates the store hands to the dashboard and compliance report (issues 8 and 19).

The store aggregates in SQL and returns sums and counts, never a million findings; the report
package (:mod:`secscan.report.figures`) turns them into the figures of :mod:`secscan.core.metrics`.
Every time is timezone-aware UTC; times the store keeps are whole seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from secscan.core.areas import Area
from secscan.core.model import FindingState, Severity, ToolName
from secscan.core.sla import SlaPolicy, SlaStatus

if TYPE_CHECKING:
    from secscan.core.records import RunSummary


@dataclass(frozen=True)
class DashboardQuery:
    """What :meth:`Store.dashboard` aggregates.

    ``points`` trend points end at ``now``, ``step`` apart. ``age_limits`` are the upper bounds
    of the age buckets (the last bucket is open-ended). ``policy`` ``None`` means the SLA policy
    the stored due times were computed with (else the bundled one).
    """

    now: datetime
    step: timedelta
    points: int
    age_limits: tuple[timedelta, ...]
    policy: SlaPolicy | None = None
    targets: tuple[str, ...] = ()  # empty: every target
    top: int = 10
    rows: int = 100  # findings listed in each list (act on today, breached, due soon, expiring)
    runs_per_target: int = 5
    areas: Mapping[str, Area] | None = None  # tool -> area beyond the built-in ones ([report] areas)
    expiring_within: timedelta = timedelta(days=14)  # accepted risks ending before now + this


@dataclass(frozen=True)
class FindingCell:
    """``count`` findings of one target and area sharing severity, state, triage status (and
    whether the suppressions file made it) and SLA status at ``now``."""

    severity: Severity
    state: FindingState
    triage: str | None  # a TriageStatus value
    sla: SlaStatus
    count: int
    target: str = ""
    area: Area = Area.CODE
    suppressed: bool = False  # triaged by the suppressions file


@dataclass(frozen=True)
class SpanSum:
    """Sum and count of durations in whole seconds, with the middle value(s) when asked for."""

    total_s: int
    count: int
    middle_s: tuple[int, ...] = ()  # the median's one or two values, sorted order


@dataclass(frozen=True)
class RankedGroup:
    """Open findings of one rule or one target, per severity."""

    name: str
    tool: ToolName | None
    counts: Mapping[Severity, int]
    label: str | None = None  # a rule's name, when the scanner gave one

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class PackageFacts:
    """The dependency a finding is about: ecosystem, name, version installed or locked, fixes."""

    ecosystem: str
    name: str
    version: str
    fixed: tuple[str, ...]


@dataclass(frozen=True)
class ListedFinding:
    """An open finding as the report lists it: what it is (the rule's name, the package), where,
    and where its SLA stands at ``now`` (``due_at`` None: its severity has no window)."""

    fingerprint: str
    target: str
    tool: ToolName
    rule_id: str
    path: str
    line: int
    severity: Severity
    state: FindingState
    first_seen: datetime
    due_at: datetime | None
    sla: SlaStatus
    rule_name: str | None = None  # the scanner's name or short description of the rule
    package: PackageFacts | None = None


OverdueFinding = ListedFinding  # the breached and due-soon lists (issue 8's name)


@dataclass(frozen=True)
class ExpiringDecision:
    """An accepted risk (a triage decision or a suppression) that ends within the window: one per
    decision, over ``count`` findings of one rule in one target (``path``, ``line`` and
    ``fingerprint`` are the first of them, ``severity`` the worst)."""

    fingerprint: str
    target: str
    tool: ToolName
    rule_id: str
    rule_name: str | None
    path: str
    line: int
    severity: Severity
    until: datetime
    actor: str
    reason: str
    count: int = 1


@dataclass(frozen=True)
class TargetRuns:
    """When a target was scanned: its first and last runs, and its last complete one."""

    name: str
    first_run_at: datetime | None
    last_run_at: datetime | None
    last_complete_at: datetime | None  # when the last complete run finished


@dataclass(frozen=True)
class TrendPoint:
    """The state at ``at``: open findings per severity; SLA ``ok`` of ``counted`` findings."""

    at: datetime
    open: Mapping[Severity, int]
    sla_counted: int
    sla_ok: int


@dataclass(frozen=True)
class TargetInfo:
    name: str
    root: str


@dataclass(frozen=True)
class OutboxIssue:
    key: str
    kind: str
    status: str
    attempts: int
    created_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class UploadHealth:
    """The upload outbox: items per status, the last delivery, the latest undelivered items."""

    by_status: Mapping[str, int]
    last_delivered_at: datetime | None
    problems: tuple[OutboxIssue, ...]


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, aggregated at ``now`` under ``policy``."""

    now: datetime
    policy: SlaPolicy
    targets: tuple[TargetInfo, ...]
    cells: tuple[FindingCell, ...]
    mttr: Mapping[Severity, SpanSum]
    mttd: Mapping[Severity, SpanSum]
    ages: Mapping[tuple[Severity, int], int]  # (severity, bucket index) -> open findings
    top_rules: tuple[RankedGroup, ...]
    top_targets: tuple[RankedGroup, ...]
    breached: tuple[ListedFinding, ...]
    due_soon: tuple[ListedFinding, ...]
    trend: tuple[TrendPoint, ...]
    runs: tuple[RunSummary, ...]
    uploads: UploadHealth
    urgent: tuple[ListedFinding, ...] = ()  # open critical and high findings, worst and due first
    expiring: tuple[ExpiringDecision, ...] = ()  # accepted risks ending soonest first
    expiring_total: int = 0  # findings held by the expiring decisions, all of them
    target_runs: tuple[TargetRuns, ...] = ()


@dataclass(frozen=True)
class PeriodRun:
    run_id: str
    target: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    failed_scanners: tuple[str, ...]


@dataclass(frozen=True)
class DecisionRecord:
    """A triage decision (or, for an expiry, the decision that ran out)."""

    fingerprint: str
    target: str
    tool: ToolName
    rule_id: str
    path: str
    severity: Severity
    status: str
    reason: str
    actor: str
    decided_at: datetime
    until: datetime | None
    expired_at: datetime | None = None


@dataclass(frozen=True)
class Evidence:
    """What happened in ``[start, end)``: the compliance evidence of a calendar period."""

    start: datetime
    end: datetime
    targets: tuple[TargetInfo, ...]
    first_run: Mapping[str, datetime]  # target -> its first run ever (missed scans start there)
    runs: tuple[PeriodRun, ...]
    events: Mapping[tuple[str, Severity], int]  # (history event, severity) -> count
    decisions: tuple[DecisionRecord, ...]
    expired: tuple[DecisionRecord, ...]
    open_at_end: Mapping[Severity, int]
    truncated: bool = False  # more decisions than listed
