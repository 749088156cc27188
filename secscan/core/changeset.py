"""What the store loads for the pure core, and what the core hands back for the store to write.

Reconciliation, triage and SLA upkeep are pure (:mod:`secscan.core.reconcile`,
:mod:`secscan.core.sla_upkeep`): the store loads a :class:`Snapshot` (or :class:`Stored` findings, or
:data:`SlaInput` groups), the core computes a changeset from it with ``now`` and the policies, and
the store writes that changeset in the same transaction without deciding anything itself
(``docs/design.md``, "Reconciliation and the store").

The units are the store's, so that 100k findings cross the seam without a conversion each: times
are integer UNIX seconds (the store keeps whole seconds, UTC), enums their string values. The
helpers here convert; the frequent instants are memoised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from secscan.core.model import FindingState, ScanRun, Severity
from secscan.core.records import (
    HistoryEntry,
    HistoryEvent,
    TrackedFinding,
    TriageDecision,
    TriageStatus,
    construct,
)
from secscan.core.sla import SlaClock, SlaPolicy, SlaStatus

# -- units ------------------------------------------------------------------------------------


# The same few instants (a run's ``now``, its first-seen times) recur across 100k rows: memoised.
@lru_cache(maxsize=4096)
def to_ts(value: datetime) -> int:
    """Whole UNIX seconds (rounded down); a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.floor(value.timestamp())


def opt_ts(value: datetime | None) -> int | None:
    return None if value is None else to_ts(value)


@lru_cache(maxsize=4096)
def from_ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def opt_dt(value: int | None) -> datetime | None:
    return None if value is None else from_ts(value)


def whole_seconds(value: datetime) -> datetime:
    """``value`` as the store keeps it: aware UTC, whole seconds."""
    return from_ts(to_ts(value))


@lru_cache(maxsize=4096)
def stored_clock(started: int, paused_at: int | None, paused_s: int) -> SlaClock:
    """A (frozen, shared) clock from its stored columns: most findings of a run share one."""
    return SlaClock(from_ts(started), opt_dt(paused_at), timedelta(seconds=paused_s))


SEVERITIES = {s.value: s for s in Severity}
STATES = {s.value: s for s in FindingState}
# member -> stored text: a dict look-up is several times cheaper than an Enum's ``.value``
# (these run per finding and per history entry on the bulk paths).
VALUES: dict[StrEnum, str] = {m: m.value for e in (Severity, FindingState, HistoryEvent) for m in e}


def fingerprint_of(value: str | bytes) -> str:
    """A snapshot's fingerprint column as text: a store may keep a SHA-256 hex digest as its 32 bytes."""
    return value.hex() if isinstance(value, bytes) else value


# -- what the store loads ------------------------------------------------------------------------

SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "fingerprint", "tool", "rule_id", "path", "line", "message", "severity", "state",
    "first_seen", "last_seen", "fixed_at", "sla_started_at", "sla_paused_at", "sla_paused_s",
    "triage_status", "triage_reason", "triage_actor", "triage_at", "triage_until", "baseline_sig",
    "sla_status", "introduced_at",
)  # fmt: skip
"""The leading columns of every :class:`Snapshot` row, in this order (see :class:`Snapshot`)."""
(FP, TOOL, RULE, PATH, LINE, MESSAGE, SEVERITY, STATE, FIRST_SEEN, LAST_SEEN, FIXED_AT, STARTED,
 PAUSED_AT, PAUSED_S, TRIAGE_STATUS, TRIAGE_REASON, TRIAGE_ACTOR, TRIAGE_AT, TRIAGE_UNTIL,
 BASELINE_SIG, SLA_STATUS, INTRODUCED) = range(len(SNAPSHOT_COLUMNS))  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    """The tracked findings of one target as stored, loaded inside the recording transaction.

    Compact on purpose (a large target is 100k rows, read on every run): each row starts with
    :data:`SNAPSHOT_COLUMNS`, and a backend may append columns of its own, which the core ignores.
    Times are integer UNIX seconds, enums their values, ``sla_status`` the status the SLA sweep
    last reported (``None`` if none), the fingerprint hex text or the 32 bytes of a hex digest
    (:func:`fingerprint_of`), and tool, rule id, path and message keys of ``texts`` (each distinct
    text once, as the store interns them).
    """

    target: str
    rows: Sequence[Sequence[Any]]
    texts: Mapping[Any, str]


@dataclass(frozen=True)
class Stored:
    """One tracked finding as stored, with the SLA status the sweep last reported."""

    finding: TrackedFinding
    sla_status: str | None


SlaInput = tuple[str | None, str, str, int, int | None, int]
"""What a finding's SLA columns depend on, as stored: (reported status, severity, state, clock
started, paused at, paused seconds). The store groups findings by it; the core decides per group."""


def tracked_from_row(row: Sequence[Any], target: str, texts: Mapping[Any, str]) -> TrackedFinding:
    """The :class:`TrackedFinding` of one :class:`Snapshot` row."""
    t_status = row[TRIAGE_STATUS]
    triage = None
    if t_status is not None:  # rare: most findings are not triaged
        triage = TriageDecision(
            TriageStatus(t_status),
            row[TRIAGE_REASON] or "",
            row[TRIAGE_ACTOR] or "",
            from_ts(row[TRIAGE_AT]),
            opt_dt(row[TRIAGE_UNTIL]),
        )
    return construct(  # the bulk path: every tracked finding of a target, per run
        TrackedFinding,
        fingerprint=fingerprint_of(row[FP]),
        target=target,
        tool=texts[row[TOOL]],
        rule_id=texts[row[RULE]],
        path=texts[row[PATH]],
        line=row[LINE],
        message=texts[row[MESSAGE]],
        severity=SEVERITIES[row[SEVERITY]],
        state=STATES[row[STATE]],
        first_seen=from_ts(row[FIRST_SEEN]),
        last_seen=from_ts(row[LAST_SEEN]),
        sla=stored_clock(row[STARTED], row[PAUSED_AT], row[PAUSED_S]),
        fixed_at=opt_dt(row[FIXED_AT]),
        triage=triage,
        baseline_sig=row[BASELINE_SIG],
        introduced_at=opt_dt(row[INTRODUCED]),
    )


# -- what the core hands back -----------------------------------------------------------------

SlaColumns = tuple[int | None, str, int | None]
"""A finding's derived SLA columns: (due at, reported status, next sweep at), in store units."""


class Rewrite(NamedTuple):
    """A stored finding to write whole (a tuple: a run may move 100k of them)."""

    finding: TrackedFinding
    sla: SlaColumns | None  # None: its SLA columns stay as stored
    seen: bool  # seen by this run: its last run becomes this one
    row: Sequence[Any]  # its snapshot row, which names the stored finding to the store


@dataclass(frozen=True)
class RunChangeset:
    """Everything recording a run writes, decided by :func:`secscan.core.reconcile.reconcile_run`.

    The store writes it in one transaction and decides nothing: ``run`` (its row, scanners and
    ``counts``), the ``inserts`` with their SLA columns (``insert_sla``, same order), the findings
    ``seen_again`` (by their new state: only state, ``last_seen = now`` and the last run change),
    the ``rewrites``, the ``history`` entries and the triage ``decisions`` (fingerprint, decision)
    to append to the decision log. Stored findings are named by their :class:`Snapshot` rows
    (``seen_again``, :attr:`Rewrite.row`: the store finds its own key there, without a look-up
    per finding), new ones and history entries by fingerprint.
    """

    run: ScanRun
    now: datetime
    counts: Mapping[str, int]  # new, unchanged, reopened, fixed
    inserts: tuple[TrackedFinding, ...]
    insert_sla: tuple[SlaColumns, ...]
    seen_again: Mapping[FindingState, tuple[Sequence[Any], ...]]  # snapshot rows
    rewrites: tuple[Rewrite, ...]
    history: tuple[HistoryEntry, ...]
    decisions: tuple[tuple[str, TriageDecision], ...]


@dataclass(frozen=True)
class FindingChange:
    """One tracked finding rewritten whole (a triage decision, an expiry), with its history."""

    finding: TrackedFinding
    sla: SlaColumns
    history: tuple[HistoryEntry, ...]
    decision: TriageDecision | None = None  # appended to the decision log


@dataclass(frozen=True)
class SlaTransition:
    """A change of reported SLA status, shared by every finding of one :data:`SlaInput`."""

    severity: Severity
    previous: SlaStatus
    current: SlaStatus
    due_at: datetime | None
    paused: bool = False  # the clock stands still: the findings are fixed or triaged


@dataclass(frozen=True)
class SlaDecision:
    """What the sweep does with the findings of one :data:`SlaInput`: store ``columns``; report
    ``change`` (if any); record ``event`` with ``reason`` by ``actor`` (if any; state unchanged)."""

    columns: SlaColumns
    change: SlaTransition | None = None
    event: HistoryEvent | None = None
    reason: str = ""
    actor: str = ""


@dataclass(frozen=True)
class Repricing:
    """A change of SLA policy: each :data:`SlaInput` group's new columns, and the policy to keep."""

    policy: SlaPolicy
    columns: Mapping[SlaInput, SlaColumns]
