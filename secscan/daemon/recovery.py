"""What a daemon start and its heartbeat do with the ledger: crash recovery, catch-up, missed runs.

* :func:`recover`: slots and runs left ``running`` by a dead daemon become ``interrupted`` (a run
  whose target another live process holds is left alone); returns what the ledger knows.
* :func:`catch_up_due`: whether the latest nightly slot must run now (missed or interrupted,
  within the grace, and after the daemon first knew this database).
* :func:`alert_missed`: the dead man's switch alert, once per target and overdue slot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from secscan.app.cancel import interrupt_orphaned_runs
from secscan.config.daemon import DaemonConfig
from secscan.config.schedule import NIGHTLY, cron_trigger, previous_fire
from secscan.config.settings import Settings
from secscan.core.ports.ledger import SlotStatus, SlotTrigger
from secscan.core.ports.store import Store
from secscan.daemon import integrations

log = logging.getLogger(__name__)

STATE_KEY = "daemon"


@dataclass(frozen=True)
class Recovered:
    since: datetime  # the first daemon start on this database
    last_done: datetime | None  # slot of the last completed nightly run


def recover(store: Store, db: str | None, now: datetime) -> Recovered:
    """Close what a crash left open (see the module docstring)."""
    for stale in store.interrupt_slots(now):
        log.warning(
            "%s slot %s was interrupted (attempt %d)", stale.job, stale.slot_at.isoformat(), stale.attempts
        )
    interrupt_orphaned_runs(store, db, now)
    state = store.daemon_state(STATE_KEY) or {}
    first = state.get("first_started_at")
    since = min(datetime.fromisoformat(first), now) if isinstance(first, str) else now
    return Recovered(since, last_done(store))


def last_done(store: Store) -> datetime | None:
    done = store.slots(NIGHTLY, SlotStatus.DONE, limit=1)
    return done[0].slot_at if done else None


def catch_up_due(daemon: DaemonConfig, recovered: Recovered, now: datetime) -> bool:
    """Whether the latest nightly slot was missed (or interrupted) and may still run now."""
    slot = previous_fire(cron_trigger(daemon.nightly, daemon.timezone), now)
    return (
        slot is not None
        and slot >= recovered.since
        and now - slot <= timedelta(seconds=daemon.catch_up_grace)
        and (recovered.last_done is None or slot > recovered.last_done)
    )


def alert_missed(store: Store, settings: Settings, expected: datetime, now: datetime) -> int:
    """Queue the missed-run alert of every target once for the overdue slot ``expected``."""
    alerted = 0
    for target in settings.daemon.targets:
        job = f"missed:{target.target_name}"
        if store.claim_slot(job, expected, now, SlotTrigger.SCHEDULED) is None:
            continue  # already alerted for this slot, maybe by an earlier daemon process
        log.error("the nightly run of %s due at %s is overdue", target.target_name, expected.isoformat())
        integrations.on_missed_run(store, target.target_name, expected, settings, now)
        store.finish_slot(job, expected, now, SlotStatus.DONE)
        alerted += 1
    return alerted
