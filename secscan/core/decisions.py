"""Triage decisions on one tracked finding, each change with its history entry: a manual decision
(:func:`apply_triage`), a decision whose ``until`` passed lifted (:func:`expire_triage`), and the
decisions of the suppressions file (:func:`apply_suppressions`; a manual decision wins).

Pure: every function takes ``now``. :func:`secscan.core.triage.reconcile` applies the last two to
every finding of a run; the SLA sweep and ``secscan triage`` call the first two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from secscan.core.model import FindingState, ScanRun
from secscan.core.records import (
    SECSCAN_ACTOR,
    SUPPRESSIONS_ACTOR,
    HistoryEntry,
    HistoryEvent,
    Suppression,
    TrackedFinding,
    TriageDecision,
    TriageStatus,
    construct,
)
from secscan.core.sla import pause, resume
from secscan.core.suppressions import matching_suppression


class Recorder:
    """Collects the history entries of one reconciliation (or of one expiry)."""

    def __init__(self, run: ScanRun | None, now: datetime) -> None:
        self.entries: list[HistoryEntry] = []
        self.run_id = None if run is None else run.run_id
        self.now = now

    def add(
        self,
        before: TrackedFinding | None,
        after: TrackedFinding,
        event: HistoryEvent,
        reason: str = "",
        actor: str = SECSCAN_ACTOR,
    ) -> None:
        self.entries.append(
            construct(  # one per new finding: the bulk path of a first run
                HistoryEntry,
                fingerprint=after.fingerprint,
                at=self.now,
                event=event,
                from_state=None if before is None else before.state,
                to_state=after.state,
                actor=actor,
                reason=reason,
                run_id=self.run_id,
            )
        )


def lift_expired(t: TrackedFinding, now: datetime, rec: Recorder) -> TrackedFinding:
    """Lift a triage decision whose ``until`` passed; the clock resumes at ``until``."""
    decision = t.triage
    if decision is None or decision.status is TriageStatus.OPEN or decision.active(now):
        return t
    until = decision.until or now
    if t.state is FindingState.TRIAGED:
        after = replace(t, triage=None, state=FindingState.UNCHANGED, sla=resume(t.sla, min(until, now)))
    else:  # fixed, or already reopened: the decision just ends
        after = replace(t, triage=None)
    rec.add(t, after, HistoryEvent.TRIAGE_EXPIRED, f"{decision.status.value} expired at {until.isoformat()}")
    return after


def apply_suppressions(
    t: TrackedFinding, suppressions: Sequence[Suppression] | None, now: datetime, rec: Recorder
) -> TrackedFinding:
    """``t`` under the suppressions file's decisions: triaged by the entry that matches it, its
    decision lifted when no entry does any more; ``None`` (the file was not read) changes nothing,
    and an active manual decision wins."""
    if suppressions is None or t.state is FindingState.FIXED or (not suppressions and t.triage is None):
        return t
    if t.triage is not None and t.triage.actor != SUPPRESSIONS_ACTOR and t.triage.active(now):
        return t  # a manual decision wins
    match = matching_suppression(t, suppressions, now)
    if match is not None:
        decision = TriageDecision(match.status, match.reason, SUPPRESSIONS_ACTOR, now, match.expires)
        current = t.triage
        if current is not None and (current.status, current.reason, current.until) == (
            decision.status,
            decision.reason,
            decision.until,
        ):
            return t
        after = replace(t, triage=decision, state=FindingState.TRIAGED, sla=pause(t.sla, now))
        rec.add(t, after, HistoryEvent.TRIAGED, f"{match.status.value}: {match.reason}", SUPPRESSIONS_ACTOR)
        return after
    if t.triage is not None and t.triage.actor == SUPPRESSIONS_ACTOR:
        after = replace(t, triage=None, state=FindingState.UNCHANGED, sla=resume(t.sla, now))
        rec.add(t, after, HistoryEvent.UNTRIAGED, "suppression removed", SUPPRESSIONS_ACTOR)
        return after
    return t


def expire_triage(t: TrackedFinding, now: datetime) -> tuple[TrackedFinding, tuple[HistoryEntry, ...]]:
    """Lift ``t``'s triage decision if its ``until`` passed (the SLA sweep uses this)."""
    rec = Recorder(None, now)
    after = lift_expired(t, now, rec)
    return after, tuple(rec.entries)


def apply_triage(
    t: TrackedFinding,
    status: TriageStatus,
    reason: str,
    until: datetime | None,
    actor: str,
    now: datetime,
) -> tuple[TrackedFinding, HistoryEntry]:
    """A manual triage decision on ``t``: the new tracked value and its history entry.

    ``false-positive``/``accepted-risk`` pause the SLA clock (a fixed finding keeps its state);
    ``open`` lifts any decision and resumes the clock.
    """
    state: FindingState
    if status is TriageStatus.OPEN:
        state = t.state if t.state is not FindingState.TRIAGED else FindingState.UNCHANGED
        clock = t.sla if t.state is FindingState.FIXED else resume(t.sla, now)
        after = replace(t, triage=None, state=state, sla=clock)
        event = HistoryEvent.UNTRIAGED
    else:
        decision = TriageDecision(status, reason, actor, now, until)
        state = t.state if t.state is FindingState.FIXED else FindingState.TRIAGED
        after = replace(t, triage=decision, state=state, sla=pause(t.sla, now))
        event = HistoryEvent.TRIAGED
    suffix = f" until {until.isoformat()}" if until is not None and status is not TriageStatus.OPEN else ""
    why = f"{status.value}: {reason}{suffix}"
    return after, HistoryEntry(t.fingerprint, now, event, t.state, after.state, actor, why)
