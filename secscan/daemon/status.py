"""``secscan status``: what the daemon will do next, what it did, and what waits for delivery.

Read-only: it reads the database (the daemon's heartbeat document, the ledger, the last runs
and the outboxes) and asks the lock whether a daemon is running. Next run times come from the
running daemon's heartbeat, or are computed from the configuration when no daemon runs. When the
configured database is not there yet (the daemon has never run) it says so, shows the schedule
and creates nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from secscan.config.daemon import DaemonConfig
from secscan.config.schedule import NIGHTLY, cron_trigger, next_fire
from secscan.core.ports.ledger import SlotRecord
from secscan.core.ports.outbox import OUTBOXES
from secscan.core.ports.store import RunSummary
from secscan.fs.locks import daemon_running
from secscan.fs.paths import database_file
from secscan.fs.urls import is_postgres
from secscan.store import open_store


@dataclass(frozen=True)
class DaemonStatus:
    daemon: str | None  # who holds the daemon lock, None when no daemon runs
    heartbeat_at: datetime | None
    next_runs: Mapping[str, datetime]
    slots: tuple[SlotRecord, ...]
    runs: tuple[RunSummary, ...]
    outboxes: Mapping[str, Mapping[str, int]]
    missing_database: Path | None = None  # the database file, when it is not there yet

    def document(self) -> dict[str, Any]:
        """The ``--format json`` form."""
        return {
            "daemon": self.daemon,
            "heartbeat_at": self.heartbeat_at.isoformat() if self.heartbeat_at else None,
            "next_runs": {k: v.isoformat() for k, v in self.next_runs.items()},
            "nightly_slots": [
                {
                    "slot": s.slot_at.isoformat(),
                    "status": s.status.value,
                    "trigger": s.trigger.value,
                    "attempts": s.attempts,
                    "detail": s.detail,
                }
                for s in self.slots
            ],
            "runs": [
                {
                    "run_id": r.run_id,
                    "target": r.target,
                    "status": r.status.value,
                    "started_at": r.started_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                    "scanners": [
                        {
                            "name": s.tool,
                            "status": s.status,
                            "duration_s": round(s.duration_s, 3),
                            "reason": s.reason,
                        }
                        for s in r.scanners
                    ],
                }
                for r in self.runs
            ],
            "outboxes": {k: dict(v) for k, v in self.outboxes.items()},
            "missing_database": None if self.missing_database is None else str(self.missing_database),
        }


def _configured_next_runs(daemon: DaemonConfig, now: datetime) -> dict[str, datetime]:
    out = {}
    for job, expr in (("nightly", daemon.nightly), ("maintenance", daemon.maintenance)):
        found = next_fire(cron_trigger(expr, daemon.timezone), now)
        if found is not None:
            out[job] = found
    return out


def daemon_status(daemon: DaemonConfig, db: str | None, now: datetime, *, limit: int = 10) -> DaemonStatus:
    """Collect the status (see the module docstring) of the daemon configured by ``daemon``."""
    database = db or daemon.db
    if not is_postgres(database) and not os.path.lexists(file := database_file(database)):
        return DaemonStatus(
            daemon=None, heartbeat_at=None, next_runs=_configured_next_runs(daemon, now), slots=(),
            runs=(), outboxes={name: {} for name in OUTBOXES}, missing_database=file,
        )  # fmt: skip
    holder = daemon_running(database)
    with open_store(database) as store:
        state = store.daemon_state("daemon") or {}
        slots = store.slots(NIGHTLY, limit=limit)
        runs = store.runs(limit=limit)
        outboxes: dict[str, dict[str, int]] = {
            name: {str(status): count for status, count in store.outbox(name).depth().items()}
            for name in OUTBOXES
        }
    beat = state.get("heartbeat_at")
    recorded = state.get("next_runs") if holder else None
    if isinstance(recorded, dict):
        next_runs = {k: datetime.fromisoformat(v) for k, v in recorded.items() if isinstance(v, str)}
    else:
        next_runs = _configured_next_runs(daemon, now)
    return DaemonStatus(
        daemon=holder,
        heartbeat_at=datetime.fromisoformat(beat) if isinstance(beat, str) else None,
        next_runs=next_runs,
        slots=slots,
        runs=runs,
        outboxes=outboxes,
    )
