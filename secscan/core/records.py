"""The lifecycle's frozen values: tracked findings, runs, history, triage, SLA changes.

Pure values of the core (reconciliation, triage and the SLA engine compute with them) that also
cross the Store seam; :mod:`secscan.core.records` re-exports them. Nothing here touches a
database. All datetimes are timezone-aware UTC; the store keeps whole seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from secscan.core.model import FindingId, FindingState, RunId, Severity, ToolName
from secscan.core.sla import SlaClock, SlaStatus

_D = TypeVar("_D")


def construct(cls: type[_D], /, **fields: Any) -> _D:
    """``cls(**fields)`` for a frozen dataclass, without running its generated ``__init__``.

    A frozen dataclass sets each field through ``object.__setattr__``: for the 16 fields of a
    :class:`TrackedFinding` that is ~4 µs, paid per finding several times on the bulk paths
    (100k findings per run). Like pydantic's ``model_construct`` it checks nothing: callers give
    every field without a default (tests compare with the real constructor); omitted fields
    read as their class-level defaults. Only for classes without ``__post_init__`` or slots.
    """
    obj = object.__new__(cls)
    object.__setattr__(obj, "__dict__", fields)  # ``fields`` is this call's own dict: adopted
    return obj


OPEN_STATES = frozenset({FindingState.NEW, FindingState.UNCHANGED, FindingState.REOPENED})
"""States of a finding that still needs work (triaged and fixed ones do not)."""


class TriageStatus(StrEnum):
    """A human (or the suppressions file) decision about a finding."""

    FALSE_POSITIVE = "false-positive"
    ACCEPTED_RISK = "accepted-risk"
    OPEN = "open"  # lifts an earlier decision


class HistoryEvent(StrEnum):
    """What happened to a finding; every lifecycle change is one history entry."""

    OPENED = "opened"
    FIXED = "fixed"
    REOPENED = "reopened"
    TRIAGED = "triaged"
    UNTRIAGED = "untriaged"
    TRIAGE_EXPIRED = "triage-expired"
    SEVERITY_CHANGED = "severity-changed"
    SLA_DUE_SOON = "sla-due-soon"
    SLA_BREACHED = "sla-breached"


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"  # every enabled scanner finished ok
    PARTIAL = "partial"  # at least one scanner failed or timed out
    INTERRUPTED = "interrupted"  # secscan stopped (or was killed) before the run was recorded
    FAILED = "failed"  # an internal error stopped secscan before the run was recorded


class BaselineState(StrEnum):
    """SARIF ``result.baselineState`` against the previous complete run."""

    NEW = "new"
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    ABSENT = "absent"

SECSCAN_ACTOR = "secscan"
"""The actor of decisions secscan makes itself."""
SUPPRESSIONS_ACTOR = "suppressions-file"
"""The actor of decisions made by the suppressions file (``.secscan/suppressions.toml``)."""


@dataclass(frozen=True)
class TriageDecision:
    """A triage decision; ``until`` (exclusive) ends an accepted risk or a suppression."""

    status: TriageStatus
    reason: str
    actor: str
    decided_at: datetime
    until: datetime | None = None

    def active(self, now: datetime) -> bool:
        """True while the decision holds (``open`` never holds)."""
        return self.status is not TriageStatus.OPEN and (self.until is None or now < self.until)


@dataclass(frozen=True)
class Suppression:
    """One entry of ``.secscan/suppressions.toml``: a standing triage decision.

    It matches by ``fingerprint`` (full or short-id prefix) or by ``rule`` (optionally narrowed
    by ``tool`` and a ``path`` glob); ``expires`` (exclusive) ends it.
    """

    reason: str
    rule: str | None = None
    fingerprint: str | None = None
    tool: ToolName | None = None
    path: str | None = None
    expires: datetime | None = None
    status: TriageStatus = TriageStatus.ACCEPTED_RISK


@dataclass(frozen=True)
class TrackedFinding:
    """A finding as the lifecycle store tracks it across runs of one target.

    ``path``/``line``/``message`` are the last seen values (informational; never identity).
    ``baseline_sig`` is the signature of the finding in the latest complete run that saw it,
    ``None`` when that run did not see it (used for SARIF ``baselineState``).
    ``introduced_at`` is when its code arrived (git commit time of its line, see
    :mod:`secscan.fs.gitinfo`), set once through :meth:`Store.set_introduced`; ``None`` when unknown.
    The findings of a :class:`RunOutcome` come from reconciliation and may not carry it.
    """

    fingerprint: str
    target: str
    tool: ToolName
    rule_id: str
    path: str
    line: int
    message: str
    severity: Severity
    state: FindingState
    first_seen: datetime
    last_seen: datetime
    sla: SlaClock
    fixed_at: datetime | None = None
    triage: TriageDecision | None = None
    baseline_sig: int | None = None
    introduced_at: datetime | None = None

    @property
    def id(self) -> FindingId:
        return FindingId(self.fingerprint[:16])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the audit trail: who or what changed a finding, when and why."""

    fingerprint: str
    at: datetime
    event: HistoryEvent
    from_state: FindingState | None
    to_state: FindingState
    actor: str
    reason: str = ""
    run_id: RunId | None = None


@dataclass(frozen=True)
class ScannerSummary:
    tool: ToolName
    version: str
    status: str
    duration_s: float
    exit_code: int | None
    findings: int
    reason: str | None = None


@dataclass(frozen=True)
class RunSummary:
    run_id: RunId
    target: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    new: int = 0
    unchanged: int = 0
    reopened: int = 0
    fixed: int = 0
    scanners: tuple[ScannerSummary, ...] = ()


@dataclass(frozen=True)
class RunOutcome:
    """What recording a run changed. Findings are the tracked values after the run."""

    run: RunSummary
    new: tuple[TrackedFinding, ...]
    unchanged: tuple[TrackedFinding, ...]
    reopened: tuple[TrackedFinding, ...]
    fixed: tuple[TrackedFinding, ...]
    baseline: Mapping[str, BaselineState] = field(default_factory=dict)  # fingerprint -> state
    absent: tuple[TrackedFinding, ...] = ()


@dataclass(frozen=True)
class FindingQuery:
    """Filters for :meth:`Store.list_findings`; empty means everything."""

    target: str | None = None
    states: frozenset[FindingState] = frozenset()
    min_severity: Severity | None = None
    tool: ToolName | None = None
    limit: int | None = None


@dataclass(frozen=True)
class SlaChange:
    """A finding whose SLA status changed in a sweep: what alerting needs to page or post.

    Deliberately not a whole :class:`TrackedFinding`: a burst after downtime is 100k+ of them.
    :meth:`Store.get_finding` gives the rest.
    """

    fingerprint: str
    target: str
    tool: ToolName
    rule_id: str
    path: str
    line: int
    severity: Severity
    previous: SlaStatus
    current: SlaStatus
    due_at: datetime | None
    paused: bool = False
    """The finding was fixed or triaged before the sweep saw the change (its status is the one at
    that instant): recorded for compliance, but nothing is left to page or post about."""

    @property
    def id(self) -> FindingId:
        return FindingId(self.fingerprint[:16])


@dataclass(frozen=True)
class SweepResult:
    changes: tuple[SlaChange, ...]
    expired: tuple[TrackedFinding, ...]  # triage decisions that ran out; the findings reopened
