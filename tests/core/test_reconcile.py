"""Run reconciliation as a changeset, without a database: what the store is told to write.

The store's side (writing a changeset, reading it back) is tested in ``tests/store``; the whole
use case over a real store in ``tests/tracking/test_tracking.py``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.core import seen_again
from secscan.core.changeset import Rewrite, Snapshot, Stored, to_ts
from secscan.core.model import Finding, FindingState, ScannerStatus, ScanRun, Severity
from secscan.core.reconcile import RunReconciliation, reconcile_run, triage_change
from secscan.core.records import HistoryEvent, Suppression, TriageDecision, TriageStatus
from secscan.core.seen_again import SeenAgain
from tests.core.snapshots import Held, holding, seen_fingerprints, snapshot, written
from tests.core.test_triage import BANDIT, POLICY, SECRETS, T0, H, fnd, scan, scanner

_TS = to_ts(T0)


def _record(
    held: dict[str, Held], run: ScanRun, now: datetime, suppressions: Sequence[Suppression] | None = ()
) -> tuple[RunReconciliation, dict[str, Held]]:
    """Reconcile ``run`` against what ``held`` would load, and what writing it would leave."""
    statuses = {fp: None if h.sla is None else h.sla[1] for fp, h in held.items()}
    snap = snapshot("repo", holding(held), statuses)
    rec = reconcile_run(snap, run, now, POLICY, suppressions)
    return rec, written(held, rec.changeset)


def test_a_first_run_inserts_every_finding_with_its_sla_columns() -> None:
    run = scan(scanner([fnd(1), fnd(2, sev=Severity.CRITICAL)]))
    rec, held = _record({}, run, T0)
    cs = rec.changeset
    assert [t.fingerprint for t in cs.inserts] == sorted([fnd(1).fingerprint, fnd(2).fingerprint])
    assert [t.state for t in cs.inserts] == [FindingState.NEW, FindingState.NEW]
    # high: due in 24 h, due soon at 18 h; critical: due in 2 h, due soon at 90 minutes
    assert cs.insert_sla == ((_TS + 24 * 3600, "within", _TS + 18 * 3600), (_TS + 7200, "within", _TS + 5400))
    assert (cs.seen_again, cs.rewrites, cs.decisions) == ({}, (), ())
    assert [e.event for e in cs.history] == [HistoryEvent.OPENED, HistoryEvent.OPENED]
    assert dict(cs.counts) == {"new": 2, "unchanged": 0, "reopened": 0, "fixed": 0}
    assert (cs.run, cs.now) == (run, T0)
    assert rec.new == cs.inserts and set(held) == {fnd(1).fingerprint, fnd(2).fingerprint}


def test_a_rescan_with_nothing_new_only_marks_the_findings_seen() -> None:
    _, held = _record({}, scan(scanner([fnd(1), fnd(2)])), T0)
    rec, after = _record(held, scan(scanner([fnd(2), fnd(1)])), T0 + H)
    cs = rec.changeset
    assert {s: seen_fingerprints(rows) for s, rows in cs.seen_again.items()} == {
        FindingState.UNCHANGED: sorted(held)
    }
    assert (cs.inserts, cs.rewrites, cs.history) == ((), (), ())
    assert dict(cs.counts) == {"new": 0, "unchanged": 2, "reopened": 0, "fixed": 0}
    assert [(t.state, t.last_seen, t.first_seen) for t in rec.unchanged] == [
        (FindingState.UNCHANGED, T0 + H, T0)
    ] * 2
    assert [h.finding for h in after.values()] == list(rec.unchanged)


def test_a_moved_finding_is_rewritten_without_sla_work() -> None:
    _, held = _record({}, scan(scanner([fnd(1), fnd(2)])), T0)
    rec, after = _record(held, scan(scanner([fnd(1, line=40), fnd(2)])), T0 + H)
    (rewrite,) = rec.changeset.rewrites
    assert rewrite == Rewrite(rewrite.finding, None, True, rewrite.row)
    assert (rewrite.finding.line, rewrite.finding.state) == (40, FindingState.UNCHANGED)
    (rows,) = rec.changeset.seen_again.values()
    assert seen_fingerprints(rows) == [fnd(2).fingerprint] and seen_fingerprints([rewrite.row]) == [
        fnd(1).fingerprint
    ]
    assert after[fnd(1).fingerprint].sla == held[fnd(1).fingerprint].sla  # kept as stored


def test_a_severity_change_recomputes_the_due_time_and_schedules_the_sweep() -> None:
    _, held = _record({}, scan(scanner([fnd(1, sev=Severity.LOW)])), T0)
    rec, _ = _record(held, scan(scanner([fnd(1, sev=Severity.CRITICAL)])), T0 + 3 * H)
    (rewrite,) = rec.changeset.rewrites
    # critical from T0: due at T0 + 2 h, already breached; the stored status is kept and the
    # sweep is scheduled now to report the change
    assert rewrite.sla == (_TS + 7200, "within", _TS + 3 * 3600) and rewrite.seen
    assert [e.event for e in rec.changeset.history] == [HistoryEvent.SEVERITY_CHANGED]


def test_a_fixed_finding_keeps_its_last_run_and_pauses_its_clock() -> None:
    _, held = _record({}, scan(scanner([fnd(1), fnd(2)])), T0)
    rec, after = _record(held, scan(scanner([fnd(2)], scope=frozenset({"."}))), T0 + H)
    (rewrite,) = rec.changeset.rewrites
    assert (rewrite.finding.state, rewrite.seen) == (FindingState.FIXED, False)
    assert rewrite.sla == (_TS + 24 * 3600, "within", _TS + 3600)  # met now: the sweep reports it
    assert after[fnd(1).fingerprint].last_run == "r"
    assert [t.fingerprint for t in rec.fixed] == [fnd(1).fingerprint]
    assert dict(rec.changeset.counts)["fixed"] == 1


def test_the_suppressions_files_decisions_go_to_the_decision_log() -> None:
    sup = (Suppression(reason="generated code", rule="R1"),)
    rec, _ = _record({}, scan(scanner([fnd(1), fnd(2)])), T0, sup)
    ((fp, decision),) = rec.changeset.decisions
    assert fp == fnd(1).fingerprint
    assert decision == TriageDecision(TriageStatus.ACCEPTED_RISK, "generated code", "suppressions-file", T0)
    assert [e.event for e in rec.changeset.history if e.fingerprint == fp] == [
        HistoryEvent.OPENED,
        HistoryEvent.TRIAGED,
    ]


def _without_rows(rec: RunReconciliation) -> RunReconciliation:
    cs = rec.changeset
    seen = {state: tuple(seen_fingerprints(rows)) for state, rows in cs.seen_again.items()}
    rewrites = tuple(rw._replace(row=seen_fingerprints([rw.row])) for rw in cs.rewrites)
    return replace(rec, changeset=replace(cs, seen_again=seen, rewrites=rewrites))


def test_fingerprints_as_bytes_or_text_give_the_same_changeset() -> None:
    _, held = _record({}, scan(scanner([fnd(1), fnd(2), fnd(3)])), T0)
    run = scan(scanner([fnd(1, line=3), fnd(3), fnd(4)]))
    tracked = holding(held)
    as_bytes = reconcile_run(snapshot("repo", tracked, raw=True), run, T0 + H, POLICY, ())
    as_text = reconcile_run(snapshot("repo", tracked, raw=False), run, T0 + H, POLICY, ())
    assert _without_rows(as_bytes) == _without_rows(as_text)
    assert len(as_text.changeset.rewrites) == 2 and len(as_text.changeset.seen_again) == 1


def test_a_triage_decision_pauses_the_clock_keeps_the_reported_status_and_is_logged() -> None:
    _, held = _record({}, scan(scanner([fnd(1, sev=Severity.CRITICAL)])), T0)
    stored = Stored(held[fnd(1).fingerprint].finding, "due-soon")
    until = T0 + 30 * H
    change = triage_change(stored, TriageStatus.ACCEPTED_RISK, "vendor", until, "carol", T0 + H, POLICY)
    assert (change.finding.state, change.finding.sla.paused_at) == (FindingState.TRIAGED, T0 + H)
    assert change.sla == (_TS + 7200, "due-soon", _TS + 3600)  # within now: the sweep reports it
    assert [e.event for e in change.history] == [HistoryEvent.TRIAGED]
    assert change.decision == TriageDecision(TriageStatus.ACCEPTED_RISK, "vendor", "carol", T0 + H, until)


# -- the fast path -----------------------------------------------------------------------------


def _reconcile_all(
    stored: Sequence[object], texts: object, run: ScanRun, now: object, sup: object
) -> SeenAgain:
    return SeenAgain((), {}, (), list(stored), run)


def _both(
    snap: Snapshot, run: ScanRun, now: datetime, sup: Sequence[Suppression] | None
) -> list[RunReconciliation]:
    fast = reconcile_run(snap, run, now, POLICY, sup)
    with mock.patch.object(seen_again, "split", _reconcile_all):
        slow = reconcile_run(snap, run, now, POLICY, sup)
    return [fast, slow]


finding_lists = st.lists(
    st.builds(
        fnd,
        st.integers(0, 12),
        line=st.sampled_from([1, 5]),
        tool=st.sampled_from([BANDIT, SECRETS]),
        sev=st.sampled_from([Severity.HIGH, Severity.LOW]),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    runs=st.lists(
        st.tuples(finding_lists, st.booleans(), st.sampled_from([(), None, "R1"])), min_size=2, max_size=4
    ),
    seed=st.integers(0, 2**16),
)
def test_the_fast_path_changes_nothing_but_the_speed(
    runs: list[tuple[list[Finding], bool, object]], seed: int
) -> None:
    held: dict[str, Held] = {}
    for n, (findings, ok, sup_kind) in enumerate(runs):
        sup = (Suppression(reason="r", rule="R1"),) if sup_kind == "R1" else sup_kind
        assert sup is None or isinstance(sup, tuple)
        random.Random(seed + n).shuffle(findings)
        bandit = [f for f in findings if f.tool == BANDIT]
        status = ScannerStatus.OK if ok else ScannerStatus.FAILED
        run = scan(
            scanner(bandit), scanner([f for f in findings if f.tool == SECRETS], tool=SECRETS, status=status)
        )
        now = T0 + n * H + timedelta(seconds=n)
        statuses = {fp: None if h.sla is None else h.sla[1] for fp, h in held.items()}
        fast, slow = _both(snapshot("repo", holding(held), statuses), run, now, sup)
        assert (fast.new, fast.unchanged, fast.reopened, fast.fixed) == (
            slow.new,
            slow.unchanged,
            slow.reopened,
            slow.fixed,
        )
        assert list(fast.baseline.items()) == list(slow.baseline.items()) and fast.absent == slow.absent
        a, b = fast.changeset, slow.changeset
        assert (a.history, a.decisions, a.counts, a.inserts, a.insert_sla) == (
            b.history,
            b.decisions,
            b.counts,
            b.inserts,
            b.insert_sla,
        )
        assert written(held, a) == written(held, b)
        held = written(held, a)
