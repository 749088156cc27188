"""Contract tests of the Store's write sessions: persistence only, over every backend.

Changesets are built by hand here (no reconciliation runs): each test writes one and reads it
back through the Store's reads and the sessions' loads. What the core decides is tested without
a database in ``tests/core/test_reconcile.py`` and ``tests/core/test_sla_upkeep.py``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime

import pytest

from secscan.core import sla
from secscan.core.changeset import (
    SLA_STATUS,
    FindingChange,
    Repricing,
    Rewrite,
    RunChangeset,
    SlaDecision,
    SlaTransition,
    Stored,
    to_ts,
    tracked_from_row,
)
from secscan.core.errors import StoreError
from secscan.core.model import FindingState, RunId, Severity
from secscan.core.records import (
    HistoryEntry,
    HistoryEvent,
    RunStatus,
    TrackedFinding,
    TriageDecision,
    TriageStatus,
)
from secscan.store import Store
from tests.store.builders import POLICY, T0, H, fnd, make_run

_TS = to_ts(T0)
_WITHIN = (_TS + 86400, "within", _TS + 64800)  # a high finding's columns from T0


def _tracked(n: int, **changes: object) -> TrackedFinding:
    f = fnd(n)
    t = TrackedFinding(
        f.fingerprint, "repo", f.tool, f.rule_id, f.location.path, f.location.start_line, f.message,
        f.severity, FindingState.NEW, T0, T0, sla.start(T0),
    )  # fmt: skip
    return replace(t, **changes)


def _opened(t: TrackedFinding, run_id: str = "r1") -> HistoryEntry:
    return HistoryEntry(
        t.fingerprint, t.first_seen, HistoryEvent.OPENED, None, t.state, "secscan", "first", RunId(run_id)
    )


def _inserting(run_id: str, *tracked: TrackedFinding, at: datetime = T0) -> RunChangeset:
    """A changeset of run ``run_id`` inserting ``tracked`` (each with :data:`_WITHIN`)."""
    counts = {"new": len(tracked), "unchanged": 0, "reopened": 0, "fixed": 0}
    opened = tuple(_opened(t, run_id) for t in tracked)
    return RunChangeset(
        make_run(run_id, [], at=at), at, counts, tracked, (_WITHIN,) * len(tracked), {}, (), opened, ()
    )


def _first(store: Store, *tracked: TrackedFinding) -> None:
    """Record run r1 inserting ``tracked``."""
    with store.recording("repo") as recording:
        assert not recording.snapshot().rows
        summary = recording.apply(_inserting("r1", *tracked))
    assert (summary.run_id, summary.status, summary.new) == ("r1", RunStatus.COMPLETE, len(tracked))


def test_an_applied_run_reads_back_as_written(store: Store) -> None:
    one, two = _tracked(1), _tracked(2, severity=Severity.LOW, line=7)
    _first(store, one, two)
    assert store.list_findings() == (one, two)
    assert store.history(one.fingerprint) == (_opened(one),)
    (run,) = store.runs("repo")
    assert [s.tool for s in run.scanners] == ["bandit", "detect-secrets"] and run.new == 2
    with store.recording("repo") as recording:
        snap = recording.snapshot()
    assert sorted((tracked_from_row(r, "repo", snap.texts) for r in snap.rows), key=lambda t: t.line) == [
        one,
        two,
    ]
    assert {r[SLA_STATUS] for r in snap.rows} == {"within"}


def test_seen_again_and_rewrites_change_what_they_say_and_nothing_else(store: Store) -> None:
    one, two, three = _tracked(1), _tracked(2), _tracked(3)
    _first(store, one, two, three)
    moved = replace(two, line=40, state=FindingState.UNCHANGED, last_seen=T0 + H)
    fixed = replace(three, state=FindingState.FIXED, fixed_at=T0 + H, sla=sla.pause(three.sla, T0 + H))
    now = _TS + 3600
    counts = {"new": 0, "unchanged": 2, "reopened": 0, "fixed": 1}
    with store.recording("repo") as recording:
        snap = recording.snapshot()
        row = {tracked_from_row(r, "repo", snap.texts).fingerprint: r for r in snap.rows}  # names them
        rewrites = (
            Rewrite(moved, None, True, row[two.fingerprint]),
            Rewrite(fixed, (_TS + 86400, "within", now), False, row[three.fingerprint]),
        )
        seen = {FindingState.UNCHANGED: (row[one.fingerprint],)}
        recording.apply(
            RunChangeset(make_run("r2", [], at=T0 + H), T0 + H, counts, (), (), seen, rewrites, (), ())
        )
    by_fp = {t.fingerprint: t for t in store.list_findings()}
    assert by_fp[one.fingerprint] == replace(one, state=FindingState.UNCHANGED, last_seen=T0 + H)
    assert (by_fp[two.fingerprint], by_fp[three.fingerprint]) == (moved, fixed)
    with store.sla_upkeep(T0 + H) as upkeep:  # only the rewrite with new columns is due now
        assert list(upkeep.due()) == [("within", "high", "fixed", _TS, now, 0)]


def test_a_session_that_raises_writes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.recording("repo") as recording:
        recording.snapshot()
        recording.apply(_inserting("r1", _tracked(1)))
        raise RuntimeError("the caller failed before the end of the session")
    assert store.list_findings() == () and store.runs() == ()


def test_a_second_recording_of_a_target_waits_for_the_first(store: Store) -> None:
    _first(store, _tracked(1))
    asked, seen = threading.Event(), []

    def second() -> None:
        asked.set()
        with store.recording("repo") as recording:
            seen.append(len(recording.snapshot().rows))

    thread = threading.Thread(target=second)
    with store.recording("repo") as recording:
        assert len(recording.snapshot().rows) == 1
        thread.start()
        assert asked.wait(30)
        time.sleep(0.2)  # let the second session reach its start (it must wait there)
        recording.apply(_inserting("r2", _tracked(2), at=T0 + H))
    thread.join(30)
    assert seen == [2]  # it loaded what the first one wrote, never the state before it


def test_a_finding_edit_writes_the_finding_its_history_and_its_decision(store: Store) -> None:
    one = _tracked(1)
    _first(store, one)
    decision = TriageDecision(TriageStatus.ACCEPTED_RISK, "vendor", "carol", T0 + H, T0 + 9 * H)
    after = replace(one, state=FindingState.TRIAGED, triage=decision, sla=sla.pause(one.sla, T0 + H))
    entry = HistoryEntry(
        one.fingerprint, T0 + H, HistoryEvent.TRIAGED, FindingState.NEW, FindingState.TRIAGED, "carol", "why"
    )
    with store.edit_finding(one.id) as edit:
        assert edit.stored == Stored(one, "within") and edit.policy is None
        edit.apply(FindingChange(after, (_TS + 86400, "within", None), (entry,), decision))
    assert store.get_finding(one.id) == after
    assert store.history(one.id)[-1] == entry
    (logged,) = store.evidence(T0, T0 + 2 * H).decisions
    assert (logged.status, logged.reason, logged.actor, logged.decided_at) == (
        "accepted-risk",
        "vendor",
        "carol",
        T0 + H,
    )
    with pytest.raises(StoreError, match="no finding with id"), store.edit_finding("ffffffff"):
        pass


def test_sla_upkeep_writes_each_groups_decision(store: Store) -> None:
    one, two = _tracked(1), _tracked(2)
    _first(store, one, two)
    key = ("within", "high", "new", _TS, None, 0)
    with store.sla_upkeep(T0 + 24 * H) as upkeep:
        assert upkeep.policy is None and list(upkeep.groups()) == [key]
        upkeep.reprice(Repricing(POLICY, {key: (_TS + 7200, "within", _TS + 3600)}))
        assert list(upkeep.expiring()) == []
    assert store.sla_policy() == POLICY
    change = SlaTransition(Severity.HIGH, sla.SlaStatus.WITHIN, sla.SlaStatus.BREACHED, T0 + 2 * H)
    decision = SlaDecision(
        (_TS + 7200, "breached", None), change, HistoryEvent.SLA_BREACHED, "late", "secscan"
    )
    with store.sla_upkeep(T0 + 24 * H) as upkeep:
        assert list(upkeep.due()) == [key]
        changes = upkeep.apply_sweep({key: decision})
    assert sorted((c.fingerprint, c.current, c.path, c.target) for c in changes) == [
        (one.fingerprint, sla.SlaStatus.BREACHED, one.path, "repo"),
        (two.fingerprint, sla.SlaStatus.BREACHED, two.path, "repo"),
    ]
    last = store.history(one.id)[-1]
    assert (last.event, last.reason, last.at, last.from_state, last.to_state) == (
        HistoryEvent.SLA_BREACHED, "late", T0 + 24 * H, FindingState.NEW, FindingState.NEW,
    )  # fmt: skip
    with store.sla_upkeep(T0 + 48 * H) as upkeep:
        assert list(upkeep.due()) == []  # nothing scheduled any more


def test_sla_upkeep_rewrites_the_expiring_findings(store: Store) -> None:
    one = _tracked(1)
    _first(store, one)
    decision = TriageDecision(TriageStatus.ACCEPTED_RISK, "vendor", "carol", T0, T0 + 2 * H)
    triaged = replace(one, state=FindingState.TRIAGED, triage=decision, sla=sla.pause(one.sla, T0))
    with store.edit_finding(one.id) as edit:
        edit.apply(FindingChange(triaged, _WITHIN, (), decision))
    with store.sla_upkeep(T0 + H) as upkeep:
        assert list(upkeep.expiring()) == []
    reopened = replace(one, state=FindingState.UNCHANGED)
    entry = HistoryEntry(one.fingerprint, T0 + 2 * H, HistoryEvent.TRIAGE_EXPIRED, FindingState.TRIAGED,
                         FindingState.UNCHANGED, "secscan", "expired")  # fmt: skip
    with store.sla_upkeep(T0 + 2 * H) as upkeep:
        assert list(upkeep.expiring()) == [Stored(triaged, "within")]
        upkeep.apply_changes([FindingChange(reopened, _WITHIN, (entry,))])
    assert store.get_finding(one.id) == reopened and store.history(one.id)[-1] == entry
