"""SLA upkeep as pure rules: the stored SLA columns, the sweep's decisions, a change of policy.

No I/O: every function takes ``now`` and returns values for the store to write
(:mod:`secscan.core.changeset`). The rules of the clock itself are :mod:`secscan.core.sla`'s; this module
says what the store keeps of them:

* ``due_at`` (from the current policy), ``sla_status`` and ``sla_next_at`` (when the status is
  due to change) per finding, in whole seconds (the next change rounded up, so it is never early);
* ``sla_status`` is owned by the sweep: other writers keep the stored status and only schedule the
  sweep through ``sla_next_at`` (``now`` when the status is due to change), so every change is
  seen, recorded and reported in exactly one place (:func:`plan_sweep`);
* a change of policy recomputes every finding's due time (:func:`reprice`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from secscan.core import sla
from secscan.core.changeset import (
    SEVERITIES,
    FindingChange,
    Repricing,
    SlaColumns,
    SlaDecision,
    SlaInput,
    SlaTransition,
    Stored,
    opt_dt,
    opt_ts,
    stored_clock,
    to_ts,
)
from secscan.core.decisions import expire_triage
from secscan.core.model import FindingState, Severity
from secscan.core.records import HistoryEvent, TrackedFinding
from secscan.core.triage import SECSCAN_ACTOR

_FIXED = FindingState.FIXED
_FIXED_TEXT = _FIXED.value
_STATUSES = {s.value: s for s in sla.SlaStatus}
_EVENTS = {
    sla.SlaStatus.DUE_SOON: HistoryEvent.SLA_DUE_SOON,
    sla.SlaStatus.BREACHED: HistoryEvent.SLA_BREACHED,
}


def sla_columns(
    clock: sla.SlaClock,
    severity: Severity,
    fixed: bool,
    policy: sla.SlaPolicy,
    now: datetime,
    stored: str | None,
) -> SlaColumns:
    """``(due_at, sla_status, sla_next_at)`` of a clock; ``stored`` is the status reported so far
    (kept: the sweep reports a change, this only schedules it), ``None`` for a new finding."""
    current = sla.status(clock, severity, policy, now, fixed=fixed).value
    nxt = sla.next_change_at(clock, severity, policy, now, fixed=fixed)
    next_at = None if nxt is None else math.ceil(nxt.timestamp())
    status = current if stored is None else stored
    if status != current:
        next_at = to_ts(now)  # the sweep records this change
    return opt_ts(sla.due_at(clock, severity, policy)), status, next_at


def finding_sla(t: TrackedFinding, policy: sla.SlaPolicy, now: datetime, stored: str | None) -> SlaColumns:
    """:func:`sla_columns` of a tracked finding."""
    return sla_columns(t.sla, t.severity, t.state is _FIXED, policy, now, stored)


class SlaMemo:
    """:func:`finding_sla` at one ``now`` under one policy, computed once per distinct clock.

    The findings of one run share a handful of clocks (every new finding starts at ``now``).
    """

    def __init__(self, policy: sla.SlaPolicy, now: datetime) -> None:
        self.policy, self.now = policy, now
        self._cache: dict[tuple[Any, ...], SlaColumns] = {}

    def columns(self, t: TrackedFinding, stored: str | None) -> SlaColumns:
        key = (t.sla, t.severity, t.state is _FIXED, stored)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = finding_sla(t, self.policy, self.now, stored)
        return hit


def _key_columns(key: SlaInput, policy: sla.SlaPolicy, now: datetime, stored: str | None) -> SlaColumns:
    _, severity, state, started, paused_at, paused_s = key
    clock = stored_clock(started, paused_at, paused_s)
    return sla_columns(clock, SEVERITIES[severity], state == _FIXED_TEXT, policy, now, stored)


def decide(key: SlaInput, policy: sla.SlaPolicy, now: datetime) -> SlaDecision:
    """What the sweep does with the findings of one group whose status is due to change."""
    columns = _key_columns(key, policy, now, None)
    stored = key[0]
    if columns[1] == stored:
        return SlaDecision(columns)
    previous, current = _STATUSES[str(stored)], _STATUSES[columns[1]]
    paused = key[4] is not None  # fixed or triaged: the status is the one at that instant
    change = SlaTransition(SEVERITIES[key[1]], previous, current, opt_dt(columns[0]), paused)
    event = _EVENTS.get(current)
    if event is None:
        return SlaDecision(columns, change)
    reason = f"SLA {previous.value} -> {current.value}"
    return SlaDecision(columns, change, event, reason, SECSCAN_ACTOR)


def plan_sweep(due: Iterable[SlaInput], policy: sla.SlaPolicy, now: datetime) -> dict[SlaInput, SlaDecision]:
    """The sweep's decision for each group of findings whose status is due to change (a burst
    after downtime is 100k+ findings in a handful of groups)."""
    return {key: decide(key, policy, now) for key in due}


def reprice(groups: Iterable[SlaInput], policy: sla.SlaPolicy, now: datetime) -> Repricing:
    """Every group's columns under a new ``policy`` (reported statuses kept, changes scheduled)."""
    return Repricing(policy, {key: _key_columns(key, policy, now, key[0]) for key in groups})


def expire(expiring: Sequence[Stored], policy: sla.SlaPolicy, now: datetime) -> tuple[FindingChange, ...]:
    """Lift the triage decisions whose ``until`` passed (the clock resumes at ``until``)."""
    changes = []
    for stored in expiring:
        after, entries = expire_triage(stored.finding, now)
        changes.append(FindingChange(after, finding_sla(after, policy, now, stored.sla_status), entries))
    return tuple(changes)
