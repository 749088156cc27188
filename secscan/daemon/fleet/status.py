"""``secscan fleet status``: the queue per target, the last round, the workers (read-only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from secscan.core.errors import StoreError
from secscan.daemon.fleet.enqueue import SCAN_TASK
from secscan.fs.urls import PostgresUrl

_JOBS = """
SELECT j.args->>'target',
       count(*) FILTER (WHERE j.status = 'todo'),
       count(*) FILTER (WHERE j.status = 'doing' AND w.id IS NOT NULL AND w.last_heartbeat >= %(cutoff)s),
       count(*) FILTER (WHERE j.status = 'failed'),
       count(*) FILTER (WHERE j.status = 'doing' AND (w.id IS NULL OR w.last_heartbeat < %(cutoff)s))
  FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
 WHERE j.task_name = %(task)s
 GROUP BY 1 ORDER BY 1
"""


@dataclass(frozen=True)
class RoundState:
    key: str
    due_at: datetime
    states: dict[str, int]  # row state -> targets
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        return set(self.states) <= {"complete", "partial", "failed"}


@dataclass(frozen=True)
class FleetStatus:
    jobs: dict[str, dict[str, int]]  # target -> queued, running, failed, stalled
    last_round: RoundState | None
    workers: list[tuple[int, datetime, bool]]  # id, last heartbeat, stalled
    now: datetime = field(repr=False, default_factory=datetime.now)

    def document(self) -> dict[str, Any]:
        last = self.last_round
        return {
            "jobs": self.jobs,
            "last_round": None if last is None else {
                "round": last.key,
                "due_at": last.due_at.isoformat(),
                "targets": sum(last.states.values()),
                "states": last.states,
                "done": last.done,
                "finished_at": last.finished_at.isoformat() if last.finished_at and last.done else None,
            },
            "workers": [
                {"id": wid, "last_heartbeat": beat.isoformat(), "stalled": stalled}
                for wid, beat, stalled in self.workers
            ],
        }  # fmt: skip


def fleet_status(url: PostgresUrl, now: datetime, stalled_after: float) -> FleetStatus:
    cutoff = now - timedelta(seconds=stalled_after)
    try:
        with psycopg.connect(url.conninfo, connect_timeout=10) as conn:
            present = conn.execute("SELECT to_regclass('secscan_fleet_rounds') IS NOT NULL").fetchone()
            if not present or not present[0]:
                raise StoreError(
                    f"{url.display} has no fleet tables yet; run 'secscan fleet migrate --db URL'"
                )
            jobs = {
                str(t): {"queued": q, "running": r, "failed": f, "stalled": s}
                for t, q, r, f, s in conn.execute(_JOBS, {"cutoff": cutoff, "task": SCAN_TASK})
            }
            workers = [
                (int(wid), beat, beat < cutoff)
                for wid, beat in conn.execute(
                    "SELECT id, last_heartbeat FROM procrastinate_workers ORDER BY id"
                )
            ]
            return FleetStatus(jobs, _last_round(conn), workers, now)
    except psycopg.Error as exc:
        raise StoreError(f"cannot read the fleet's status from {url.display}: {exc}".splitlines()[0]) from exc


def _last_round(conn: psycopg.Connection[Any]) -> RoundState | None:
    row = conn.execute(
        "SELECT round_key, due_at FROM secscan_fleet_rounds ORDER BY created_at DESC, due_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    key, due_at = row
    states = {
        str(state): int(n)
        for state, n in conn.execute(
            "SELECT state, count(*) FROM secscan_fleet_targets WHERE round_key = %s GROUP BY 1 ORDER BY 1",
            (key,),
        )
    }
    finished = conn.execute(
        "SELECT max(finished_at) FROM secscan_fleet_targets WHERE round_key = %s", (key,)
    ).fetchone()
    return RoundState(str(key), due_at, states, finished[0] if finished else None)
