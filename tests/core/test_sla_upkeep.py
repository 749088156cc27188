"""SLA upkeep as data, without a database: the stored columns, the sweep's decisions, repricing."""

from __future__ import annotations

from datetime import timedelta

from secscan.core import sla
from secscan.core.changeset import SlaDecision, SlaInput, SlaTransition, Stored, to_ts
from secscan.core.decisions import apply_triage
from secscan.core.model import FindingState, Severity
from secscan.core.records import HistoryEvent, TriageStatus
from secscan.core.sla_upkeep import decide, expire, plan_sweep, reprice, sla_columns
from tests.core.test_triage import POLICY, T0, H, fnd, ingest, scan, scanner

_TS = to_ts(T0)
MINUTE = timedelta(minutes=1)


def _critical(stored: str | None, state: str = "new", paused_at: int | None = None) -> SlaInput:
    return (stored, "critical", state, _TS, paused_at, 0)


def test_the_sweep_reports_due_soon_and_breached_once_and_not_on_the_due_time() -> None:
    soon = decide(_critical("within"), POLICY, T0 + 90 * MINUTE)
    change = SlaTransition(Severity.CRITICAL, sla.SlaStatus.WITHIN, sla.SlaStatus.DUE_SOON, T0 + 2 * H)
    due, after_due = _TS + 7200, _TS + 7201  # the first whole second after the due time
    reason = "SLA within -> due-soon"
    assert soon == SlaDecision(
        (due, "due-soon", after_due), change, HistoryEvent.SLA_DUE_SOON, reason, "secscan"
    )
    assert decide(_critical("due-soon"), POLICY, T0 + 2 * H) == SlaDecision((due, "due-soon", after_due))
    breached = decide(_critical("due-soon"), POLICY, T0 + 2 * H + timedelta(seconds=1))
    assert breached.columns == (due, "breached", None) and breached.event is HistoryEvent.SLA_BREACHED
    assert breached.change is not None and breached.change.current is sla.SlaStatus.BREACHED


def test_a_fix_within_the_window_is_met_without_a_history_entry() -> None:
    paused = _TS + 3600
    met = decide(_critical("within", "fixed", paused), POLICY, T0 + 100 * H)
    assert met.columns == (_TS + 7200, "met", None) and met.event is None
    assert met.change == SlaTransition(
        Severity.CRITICAL, sla.SlaStatus.WITHIN, sla.SlaStatus.MET, T0 + 2 * H, paused=True
    )


def test_a_breach_seen_after_the_fix_or_triage_is_recorded_and_marked_paused() -> None:
    """Fixed (or triaged) 10 minutes past the due time, swept 5 minutes later: the breach is the
    finding's record, but its clock stood still, which tells alerting that nobody is to be paged."""
    paused = _TS + 7200 + 600
    late = decide(_critical("due-soon", "triaged", paused), POLICY, T0 + 2 * H + 15 * MINUTE)
    assert late.event is HistoryEvent.SLA_BREACHED
    assert late.change == SlaTransition(
        Severity.CRITICAL, sla.SlaStatus.DUE_SOON, sla.SlaStatus.BREACHED, T0 + 2 * H, paused=True
    )
    running = decide(_critical("due-soon"), POLICY, T0 + 2 * H + 15 * MINUTE)
    assert running.change is not None and not running.change.paused


def test_a_plan_has_one_decision_per_group() -> None:
    groups = [_critical("within"), _critical("due-soon"), ("within", "info", "new", _TS, None, 0)]
    plan = plan_sweep(groups, POLICY, T0 + 3 * H)
    assert list(plan) == groups
    assert [d.columns[1] for d in plan.values()] == ["breached", "breached", "none"]


def test_a_change_of_policy_keeps_the_reported_status_and_schedules_the_sweep() -> None:
    strict = sla.SlaPolicy(windows={**POLICY.windows, Severity.HIGH: 2 * H})
    high = ("within", "high", "new", _TS, None, 0)
    repriced = reprice([high], strict, T0 + 3 * H)
    assert repriced.policy == strict
    assert repriced.columns == {high: (_TS + 7200, "within", _TS + 3 * 3600)}


def test_columns_of_a_new_finding_take_its_current_status() -> None:
    clock = sla.start(T0)
    assert sla_columns(clock, Severity.HIGH, False, POLICY, T0, None) == (_TS + 86400, "within", _TS + 64800)
    assert sla_columns(clock, Severity.INFO, False, POLICY, T0, None) == (None, "none", None)


def test_an_expired_decision_reopens_with_its_clock_resumed_at_the_expiry() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1, sev=Severity.CRITICAL)])), T0)
    risk, _ = apply_triage(tracked[0], TriageStatus.ACCEPTED_RISK, "vendor", T0 + 3 * H, "carol", T0 + H)
    (change,) = expire([Stored(risk, "within")], POLICY, T0 + 5 * H)
    assert (change.finding.state, change.finding.triage, change.finding.sla.paused) == (
        FindingState.UNCHANGED,
        None,
        2 * H,
    )
    assert [e.event for e in change.history] == [HistoryEvent.TRIAGE_EXPIRED]
    # resumed at T0 + 3 h with 2 h paused: due at T0 + 4 h, breached at T0 + 5 h, reported next sweep
    assert change.sla == (_TS + 4 * 3600, "within", _TS + 5 * 3600) and change.decision is None
