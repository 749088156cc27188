"""The lifecycle use cases over a real store (``secscan.app.tracking``: load, pure core, apply).

Moved from the store's contract suite when reconciliation left the store: these check the
whole behaviour (reconciliation, triage, SLA sweep and what the store keeps of them) and run
against every store backend, like the store's own contract tests (``conftest.py`` takes the
``store`` fixture of ``tests/store/conftest.py``). The rules alone are tested without a
database in ``tests/core``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from secscan.app.tracking import record_run, sla_sweep, triage
from secscan.core import sla
from secscan.core.errors import StoreError
from secscan.core.model import FindingState, ScannerStatus, Severity
from secscan.core.sla import SlaStatus
from secscan.store import (
    BaselineState,
    FindingQuery,
    HistoryEvent,
    RunStatus,
    Store,
    Suppression,
    TriageStatus,
)
from tests.store.builders import POLICY, SECRETS, T0, H, fnd, make_run


def test_record_run_tracks_new_findings_and_the_run(store: Store) -> None:
    outcome = record_run(store, make_run("r1", [fnd(1), fnd(2, tool=SECRETS)]), T0, POLICY)
    assert {t.fingerprint for t in outcome.new} == {fnd(1).fingerprint, fnd(2).fingerprint}
    assert outcome.run.status is RunStatus.COMPLETE and outcome.run.new == 2
    assert [s.tool for s in outcome.run.scanners] == ["bandit", "detect-secrets"]
    assert outcome.run.scanners[0].version == "1.8" and outcome.run.scanners[0].duration_s == 2.5
    found = store.list_findings()
    assert {t.fingerprint for t in found} == {fnd(1).fingerprint, fnd(2).fingerprint}
    t = store.get_finding(fnd(1).id)
    assert (t.state, t.first_seen, t.line, t.target) == (FindingState.NEW, T0, 1, "repo")
    assert store.get_finding(fnd(1).fingerprint) == t
    assert [e.event for e in store.history(fnd(1).id)] == [HistoryEvent.OPENED]
    assert store.history(fnd(1).id)[0].run_id == "r1"


def test_moved_finding_keeps_identity_and_partial_runs_close_nothing(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1), fnd(2, tool=SECRETS)]), T0, POLICY)
    partial = make_run("r2", [fnd(1, line=40)], secrets_status=ScannerStatus.TIMEOUT)
    outcome = record_run(store, partial, T0 + H, POLICY)
    assert outcome.run.status is RunStatus.PARTIAL and not outcome.fixed
    moved = store.get_finding(fnd(1).id)
    assert (moved.line, moved.first_seen, moved.state) == (40, T0, FindingState.UNCHANGED)
    assert store.get_finding(fnd(2).id).state is FindingState.NEW
    assert store.previous_complete_run("repo").run_id == "r1"  # type: ignore[union-attr]
    outcome = record_run(store, make_run("r3", [fnd(1, line=40)]), T0 + 2 * H, POLICY)
    assert [t.fingerprint for t in outcome.fixed] == [fnd(2).fingerprint]
    assert outcome.baseline == {fnd(1).fingerprint: BaselineState.UPDATED}
    assert [t.fingerprint for t in outcome.absent] == [fnd(2).fingerprint]
    assert store.get_finding(fnd(2).id).fixed_at == T0 + 2 * H
    assert [r.run_id for r in store.runs("repo")] == ["r3", "r2", "r1"]


def test_reopen_after_fix_is_recorded(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1)]), T0, POLICY)
    record_run(store, make_run("r2", []), T0 + H, POLICY)
    outcome = record_run(store, make_run("r3", [fnd(1)]), T0 + 5 * H, POLICY)
    assert [t.state for t in outcome.reopened] == [FindingState.REOPENED]
    events = [e.event for e in store.history(fnd(1).id)]
    assert events == [HistoryEvent.OPENED, HistoryEvent.FIXED, HistoryEvent.REOPENED]


def test_reingest_is_idempotent_in_the_database(store: Store) -> None:
    run = make_run("r1", [fnd(n) for n in range(30)])
    record_run(store, run, T0, POLICY)
    before = store.list_findings()
    outcome = record_run(store, make_run("r2", [fnd(n) for n in range(30)]), T0 + H, POLICY)
    assert not outcome.new and len(outcome.unchanged) == 30
    after = store.list_findings()
    assert [(t.fingerprint, t.first_seen, t.sla) for t in after] == [
        (t.fingerprint, t.first_seen, t.sla) for t in before
    ]
    assert all(len(store.history(t.fingerprint)) == 1 for t in after)


def test_triage_survives_rescans_and_is_in_the_history(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1)]), T0, POLICY)
    t = triage(store, fnd(1).id, TriageStatus.FALSE_POSITIVE, "test fixture", None, "alice", T0 + H)
    assert t.state is FindingState.TRIAGED and t.triage is not None and t.triage.actor == "alice"
    record_run(store, make_run("r2", [fnd(1, line=3)]), T0 + 2 * H, POLICY)
    again = store.get_finding(fnd(1).id)
    assert again.state is FindingState.TRIAGED and again.triage == t.triage and again.line == 3
    entry = store.history(fnd(1).id)[-1]
    assert (entry.event, entry.actor, entry.reason) == (
        HistoryEvent.TRIAGED,
        "alice",
        "false-positive: test fixture",
    )
    assert (
        store.list_findings(FindingQuery(states=frozenset({FindingState.TRIAGED})))[0].fingerprint
        == t.fingerprint
    )
    with pytest.raises(StoreError, match="not in the future"):
        triage(store, fnd(1).id, TriageStatus.ACCEPTED_RISK, "x", T0, "bob", T0 + 3 * H)
    with pytest.raises(StoreError, match="reason is required"):
        triage(store, fnd(1).id, TriageStatus.ACCEPTED_RISK, " ", None, "bob", T0 + 3 * H)


def test_expired_accepted_risk_reopens_in_the_sweep_and_resumes_the_clock(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1, sev=Severity.CRITICAL)]), T0, POLICY)
    triage(store, fnd(1).id, TriageStatus.ACCEPTED_RISK, "waiting for vendor", T0 + 3 * H, "carol", T0 + H)
    assert sla_sweep(store, T0 + 2 * H, POLICY).expired == ()
    result = sla_sweep(store, T0 + 3 * H, POLICY)
    assert [t.state for t in result.expired] == [FindingState.UNCHANGED]
    t = store.get_finding(fnd(1).id)
    assert t.triage is None and t.sla.running and t.sla.paused == 2 * H
    assert sla.due_at(t.sla, t.severity, POLICY) == T0 + 4 * H
    assert store.history(fnd(1).id)[-1].event is HistoryEvent.TRIAGE_EXPIRED


@pytest.mark.parametrize("again", [TriageStatus.OPEN, TriageStatus.ACCEPTED_RISK])
def test_a_triage_after_an_accepted_risk_ran_out_counts_the_time_since_it_ran_out(
    store: Store, again: TriageStatus
) -> None:
    """A critical (2 h) accepted at T0 + 1 h until T0 + 3 h: its clock resumes at T0 + 3 h, due at
    T0 + 4 h, whether the sweep lifts the decision or a new decision at T0 + 10 h (no sweep ran
    between) finds it run out. The 7 hours after it ran out are not paused time."""
    record_run(store, make_run("r1", [fnd(1, sev=Severity.CRITICAL)]), T0, POLICY)
    triage(store, fnd(1).id, TriageStatus.ACCEPTED_RISK, "waiting for vendor", T0 + 3 * H, "carol", T0 + H)
    until = None if again is TriageStatus.OPEN else T0 + 20 * H
    t = triage(store, fnd(1).id, again, "decided again", until, "dave", T0 + 10 * H)
    assert t.sla.paused == 2 * H  # T0 + 1 h to T0 + 3 h
    assert sla.due_at(t.sla, t.severity, POLICY) == T0 + 4 * H
    assert sla.status(t.sla, t.severity, POLICY, T0 + 10 * H) is SlaStatus.BREACHED
    events = [e.event for e in store.history(fnd(1).id)][1:]
    last = HistoryEvent.UNTRIAGED if again is TriageStatus.OPEN else HistoryEvent.TRIAGED
    assert events == [HistoryEvent.TRIAGED, HistoryEvent.TRIAGE_EXPIRED, last]
    assert store.get_finding(fnd(1).id) == t


def test_sla_sweep_reports_each_change_once_and_not_on_the_due_time(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1, sev=Severity.CRITICAL)]), T0, POLICY)
    assert sla_sweep(store, T0 + 89 * timedelta(minutes=1), POLICY).changes == ()
    soon = sla_sweep(store, T0 + 90 * timedelta(minutes=1), POLICY).changes
    assert [(c.previous, c.current) for c in soon] == [(SlaStatus.WITHIN, SlaStatus.DUE_SOON)]
    assert sla_sweep(store, T0 + 2 * H, POLICY).changes == ()  # exactly on the due time
    breached = sla_sweep(store, T0 + 2 * H + timedelta(seconds=1), POLICY).changes
    assert [(c.current, c.due_at) for c in breached] == [(SlaStatus.BREACHED, T0 + 2 * H)]
    assert sla_sweep(store, T0 + 9 * H, POLICY).changes == ()
    events = [e.event for e in store.history(fnd(1).id)]
    assert events == [HistoryEvent.OPENED, HistoryEvent.SLA_DUE_SOON, HistoryEvent.SLA_BREACHED]


def test_fix_within_the_window_is_reported_as_met(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1)]), T0, POLICY)
    record_run(store, make_run("r2", []), T0 + H, POLICY)
    changes = sla_sweep(store, T0 + 100 * H, POLICY).changes
    assert [(c.previous, c.current) for c in changes] == [(SlaStatus.WITHIN, SlaStatus.MET)]


def test_a_change_of_policy_recomputes_due_times(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1, sev=Severity.HIGH)]), T0, POLICY)
    assert sla_sweep(store, T0 + 3 * H, POLICY).changes == ()
    strict = sla.SlaPolicy(windows={**POLICY.windows, Severity.HIGH: 2 * H})
    changes = sla_sweep(store, T0 + 3 * H, strict).changes
    assert [(c.current, c.due_at) for c in changes] == [(SlaStatus.BREACHED, T0 + 2 * H)]


def test_suppressions_apply_through_record_run(store: Store) -> None:
    sup = (Suppression(reason="generated code", rule="R1"),)
    record_run(store, make_run("r1", [fnd(1), fnd(2)]), T0, POLICY, sup)
    t = store.get_finding(fnd(1).id)
    assert t.state is FindingState.TRIAGED and t.triage is not None and t.triage.reason == "generated code"
    assert store.get_finding(fnd(2).id).state is FindingState.NEW
    assert [e.event for e in store.history(fnd(1).id)] == [HistoryEvent.OPENED, HistoryEvent.TRIAGED]


def test_targets_are_kept_apart(store: Store) -> None:
    record_run(store, make_run("a1", [fnd(1)], target="a"), T0, POLICY)
    record_run(store, make_run("b1", [fnd(1)], target="b"), T0, POLICY)
    record_run(store, make_run("b2", [], target="b"), T0 + H, POLICY)
    assert store.get_finding(fnd(1).id, target="a").state is FindingState.NEW
    assert store.get_finding(fnd(1).id, target="b").state is FindingState.FIXED
    with pytest.raises(StoreError, match=r"tracked in several targets \(a, b\); give --target NAME"):
        store.get_finding(fnd(1).id)
    assert len(store.list_findings(FindingQuery(target="a"))) == 1
    assert store.previous_complete_run("c") is None


def test_suppressions_none_means_the_file_was_not_read_and_its_decisions_stand(store: Store) -> None:
    sup = (Suppression(reason="generated code", rule="R1"),)
    record_run(store, make_run("r1", [fnd(1), fnd(2)]), T0, POLICY, sup)
    decided = store.get_finding(fnd(1).id)
    outcome = record_run(store, make_run("r2", [fnd(1), fnd(2)]), T0 + H, POLICY, None)
    kept = store.get_finding(fnd(1).id)
    assert kept.state is FindingState.TRIAGED and kept.triage == decided.triage
    assert [t.fingerprint for t in outcome.unchanged] == sorted([fnd(1).fingerprint, fnd(2).fingerprint])
    assert [e.event for e in store.history(fnd(1).id)] == [HistoryEvent.OPENED, HistoryEvent.TRIAGED]
    record_run(store, make_run("r3", [fnd(1), fnd(2)]), T0 + 2 * H, POLICY)  # the default is None
    assert store.get_finding(fnd(1).id).state is FindingState.TRIAGED


def test_suppressions_empty_means_the_file_is_empty_and_its_decisions_are_lifted(store: Store) -> None:
    sup = (Suppression(reason="generated code", rule="R1"),)
    record_run(store, make_run("r1", [fnd(1)]), T0, POLICY, sup)
    triage(store, fnd(1).id, TriageStatus.FALSE_POSITIVE, "mine", None, "dave", T0 + H)  # manual wins
    record_run(store, make_run("r2", [fnd(1), fnd(4)]), T0 + 2 * H, POLICY, sup)
    record_run(store, make_run("r3", [fnd(1), fnd(4)]), T0 + 3 * H, POLICY, ())
    assert store.get_finding(fnd(1).id).triage.actor == "dave"  # type: ignore[union-attr]
    lifted = store.get_finding(fnd(4).id)
    assert lifted.state is FindingState.UNCHANGED and lifted.triage is None
    events = [(e.event, e.reason) for e in store.history(fnd(4).id)]
    assert events[-1] == (HistoryEvent.UNTRIAGED, "suppression removed")


def test_a_rescan_keeps_when_the_code_arrived(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1), fnd(2)]), T0, POLICY)
    assert store.set_introduced("repo", {fnd(1).fingerprint: T0 - 24 * H}) == 1
    outcome = record_run(store, make_run("r2", [fnd(1, line=9), fnd(2)]), T0 + H, POLICY)
    by_fp = {t.fingerprint: t for t in outcome.unchanged}
    assert by_fp[fnd(1).fingerprint].introduced_at == T0 - 24 * H
    assert by_fp[fnd(2).fingerprint].introduced_at is None
    assert store.get_finding(fnd(1).id).introduced_at == T0 - 24 * H


def test_sla_changes_carry_what_alerting_needs(store: Store) -> None:
    findings = [fnd(1, sev=Severity.CRITICAL, line=7), fnd(2, tool=SECRETS, sev=Severity.CRITICAL)]
    record_run(store, make_run("r1", findings, target="svc"), T0, POLICY)
    changes = sla_sweep(store, T0 + 3 * H, POLICY).changes
    assert sorted((c.id, c.target, c.tool, c.rule_id, c.path, c.line, c.severity) for c in changes) == [
        (fnd(1).id, "svc", "bandit", "R1", "src/m1.py", 7, Severity.CRITICAL),
        (fnd(2).id, "svc", "detect-secrets", "R2", "src/m2.py", 1, Severity.CRITICAL),
    ]
    assert {c.fingerprint for c in changes} == {fnd(1).fingerprint, fnd(2).fingerprint}
    assert {(c.previous, c.current, c.due_at) for c in changes} == {
        (SlaStatus.WITHIN, SlaStatus.BREACHED, T0 + 2 * H)
    }
    assert [e.event for e in store.history(fnd(2).id)] == [HistoryEvent.OPENED, HistoryEvent.SLA_BREACHED]
    assert store.history(fnd(2).id)[-1].reason == "SLA within -> breached"
