"""Daemons on several hosts sharing one PostgreSQL store: a daemon's start leaves alone the slot
another live daemon is running, and still recovers one whose daemon died.

A daemon's start marked every ``running`` slot ``interrupted`` and caught the latest one up: a
second daemon starting on another host while the first ran its nightly slot re-ran the whole
slot (every target scanned, uploaded and reported twice). A daemon now holds the slot's session
lock from before it claims the slot until it has finished it; the server drops it when that
daemon dies, so its slot is still recovered.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from secscan.config.schedule import NIGHTLY
from secscan.config.settings import build_settings
from secscan.core.ports.ledger import SlotStatus, SlotTrigger
from secscan.daemon import jobs, recovery
from secscan.daemon.metrics import DaemonMetrics
from secscan.store import open_store
from tests.store.builders import T0

SLOT = datetime(2026, 11, 1, 2, 0, tzinfo=T0.tzinfo)  # the default nightly "0 2 * * *" before NOW
NOW = SLOT + timedelta(minutes=5)


def _context(db: str, tmp_path: Path) -> jobs.JobContext:
    settings = build_settings({"daemon": {"targets": [{"path": str(tmp_path)}]}})
    metrics = DaemonMetrics(lambda: open_store(db), lambda: [])
    return jobs.JobContext(settings, db, threading.Event(), lambda: NOW, NOW, metrics)


def test_a_live_daemons_slot_is_not_taken_for_a_dead_ones(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # this host's file locks
    seen: dict[str, Any] = {}

    def scan_all(_ctx: jobs.JobContext) -> tuple[dict[str, Any], bool]:  # while the first daemon scans
        if seen:  # the slot ran twice (the catch-up below)
            return {}, True
        with open_store(postgres_url) as there:  # another host's daemon starts
            seen["recovered"] = recovery.recover(there, postgres_url, NOW + timedelta(seconds=1))
            seen["slots"] = there.slots(NIGHTLY)
            seen["again"] = jobs.nightly(_context(postgres_url, tmp_path))  # its catch-up
        return {}, True

    monkeypatch.setattr(jobs, "_scan_all", scan_all)
    outcome = jobs.nightly(_context(postgres_url, tmp_path))
    assert outcome is not None and outcome.status is SlotStatus.DONE
    [slot] = seen["slots"]
    assert (slot.slot_at, slot.status, slot.attempts) == (SLOT, SlotStatus.RUNNING, 1)
    assert seen["again"] is None  # the slot runs once
    with open_store(postgres_url) as store:
        [done] = store.slots(NIGHTLY)
    assert (done.status, done.attempts) == (SlotStatus.DONE, 1)


def test_the_slot_of_a_daemon_that_died_is_recovered(postgres_url: str) -> None:
    with open_store(postgres_url) as there:
        gone = open_store(postgres_url)
        with gone.slot_lock(NIGHTLY, SLOT) as held:
            assert held and gone.claim_slot(NIGHTLY, SLOT, NOW, SlotTrigger.SCHEDULED) is not None
            assert there.interrupt_slots(NOW) == ()  # alive: left alone
        gone.close()  # the daemon is gone, its slot unfinished (the server drops a dead one's lock)
        [stale] = there.interrupt_slots(NOW)
        assert (stale.slot_at, stale.status) == (SLOT, SlotStatus.INTERRUPTED)


def test_a_store_on_one_host_recovers_every_running_slot(tmp_path: Path) -> None:
    """One host's database has one daemon (its file lock): a slot still running is a dead one's."""
    with open_store(tmp_path / "s.db") as store, store.slot_lock(NIGHTLY, SLOT) as held:
        assert held and store.claim_slot(NIGHTLY, SLOT, NOW, SlotTrigger.SCHEDULED) is not None
        [stale] = store.interrupt_slots(NOW)
        assert stale.status is SlotStatus.INTERRUPTED
