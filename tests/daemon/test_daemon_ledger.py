"""The run ledger in the store: slots run once, crashes become interrupted, nothing is closed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from secscan.app.tracking import record_run, sla_sweep
from secscan.core.model import FindingState, RunId
from secscan.core.ports.ledger import SlotStatus, SlotTrigger
from secscan.store import FindingQuery, RunStatus, Store, open_store
from tests.store.builders import POLICY, T0, fnd, make_run

S = T0 - timedelta(hours=10)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as s:
        yield s


def test_a_slot_is_claimed_once(store: Store) -> None:
    first = store.claim_slot("nightly", S, T0, SlotTrigger.SCHEDULED, max_attempts=2)
    assert first is not None and first.status is SlotStatus.RUNNING and first.attempts == 1
    assert store.claim_slot("nightly", S, T0, SlotTrigger.CATCH_UP, max_attempts=2) is None  # running
    store.finish_slot("nightly", S, T0 + timedelta(minutes=5), SlotStatus.DONE)
    assert store.claim_slot("nightly", S, T0, SlotTrigger.CATCH_UP, max_attempts=2) is None  # done
    other = store.claim_slot("nightly", S + timedelta(days=1), T0, SlotTrigger.SCHEDULED)
    assert other is not None  # another slot is independent
    [latest, done] = store.slots("nightly", limit=5)
    assert latest.slot_at == S + timedelta(days=1) and done.status is SlotStatus.DONE


def test_an_interrupted_slot_is_retried_up_to_max_attempts(store: Store) -> None:
    store.claim_slot("nightly", S, T0, SlotTrigger.SCHEDULED, max_attempts=2)
    [stale] = store.interrupt_slots(T0 + timedelta(minutes=1))
    assert stale.status is SlotStatus.INTERRUPTED
    retry = store.claim_slot("nightly", S, T0 + timedelta(minutes=2), SlotTrigger.CATCH_UP, max_attempts=2)
    assert retry is not None and retry.attempts == 2 and retry.trigger is SlotTrigger.RETRY
    store.interrupt_slots(T0 + timedelta(minutes=3))
    assert (
        store.claim_slot("nightly", S, T0 + timedelta(minutes=4), SlotTrigger.CATCH_UP, max_attempts=2)
        is None
    )
    assert store.interrupt_slots(T0 + timedelta(minutes=5)) == ()


def test_marking_a_run_interrupted_closes_nothing(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1), fnd(2)]), T0, POLICY)
    store.begin_run(RunId("r2"), "/srv/repo", "repo", T0 + timedelta(hours=1))
    assert store.running_runs() == ((RunId("r2"), "repo"),)
    assert store.mark_run_interrupted(RunId("r2"), T0 + timedelta(hours=2))
    assert not store.mark_run_interrupted(RunId("r2"), T0 + timedelta(hours=3))  # only once
    assert not store.mark_run_interrupted(RunId("r1"), T0 + timedelta(hours=3))  # a recorded run stays
    statuses = {r.run_id: r.status for r in store.runs("repo")}
    assert statuses == {"r1": RunStatus.COMPLETE, "r2": RunStatus.INTERRUPTED}
    assert {f.state for f in store.list_findings(FindingQuery(target="repo"))} == {FindingState.NEW}


def test_daemon_state_round_trips(store: Store) -> None:
    assert store.daemon_state("daemon") is None
    store.put_daemon_state("daemon", {"pid": 1, "next_runs": {"nightly": "x"}}, T0)
    store.put_daemon_state("daemon", {"pid": 2}, T0)
    assert store.daemon_state("daemon") == {"pid": 2}


def test_finding_stats_count_open_findings_by_severity_and_sla(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1), fnd(2), fnd(3)]), T0, POLICY)
    record_run(
        store, make_run("r2", [fnd(1), fnd(2)], at=T0 + timedelta(hours=1)), T0 + timedelta(hours=1), POLICY
    )
    sla_sweep(store, T0 + timedelta(days=2), POLICY)  # high: 24 h window, now breached
    stats = store.finding_stats()
    assert stats.open == {("repo", "high"): 2}
    assert stats.sla == {("repo", "high", "breached"): 2}


def test_prune_keeps_the_latest_runs_of_each_target(store: Store) -> None:
    for n in range(4):
        at = T0 + timedelta(days=n)
        record_run(store, make_run(f"r{n}", [fnd(n)], at=at), at, POLICY)
    store.claim_slot("nightly", T0, T0, SlotTrigger.SCHEDULED)
    store.finish_slot("nightly", T0, T0, SlotStatus.DONE)
    report = store.prune(T0 + timedelta(days=10))
    kept = {r.run_id for r in store.runs("repo")}
    assert "r3" in kept and report.runs == 4 - len(kept) and report.slots == 1
    assert store.previous_complete_run("repo") is not None
    store.optimize()  # runs outside a transaction without error
