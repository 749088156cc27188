"""Enqueue a round: record each (round, target) once, then defer its scan job.

``scan-now``, the nightly tick and the watchdog's re-deferral all come through here. The row is
committed before its job is deferred: a round enqueued twice, from two hosts or by a retry,
finds its rows and defers nothing; a process that dies between the two steps leaves a row
without a job, which the watchdog defers later (:func:`defer_unqueued`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import procrastinate
import psycopg

from secscan.config.settings import Settings
from secscan.core.errors import ConfigError
from secscan.daemon.fleet import rounds
from secscan.daemon.fleet.keys import queue_for

log = logging.getLogger(__name__)

SCAN_TASK = "secscan.fleet.scan"
"""The scan task's name (jobs are deferred by name: ``scan-now`` loads no task code)."""
ORPHAN_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class Enqueued:
    key: str
    enqueued: tuple[str, ...]  # targets whose job this call deferred
    already: tuple[str, ...]  # targets the round held already (nothing deferred)

    def document(self) -> dict[str, Any]:
        return {"round": self.key, "enqueued": list(self.enqueued), "already": list(self.already)}


@contextmanager
def defer_app(conninfo: str) -> Iterator[procrastinate.App]:
    """A synchronous Procrastinate app that only defers jobs (by task name)."""
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo))
    with app.open():
        yield app


def defer_scan(app: procrastinate.App, key: str, target: str, queue: str) -> int:
    """Defer the scan job of (``key``, ``target``) on ``queue``; one target's jobs run one at a
    time (Procrastinate's ``lock``: a job waits while another job of its target is running)."""
    deferrer = app.configure_task(name=SCAN_TASK, queue=queue, lock=f"target:{target}")
    return int(deferrer.defer(round=key, target=target))


def pick_targets(settings: Settings, names: Sequence[str]) -> list[str]:
    """The configured targets named (all of them when ``names`` is empty); a name not
    configured is a ConfigError naming it."""
    configured = [t.target_name for t in settings.daemon.targets]
    if not configured:
        raise ConfigError("[daemon] has no targets; add [[daemon.targets]] with a path")
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise ConfigError(
            f"target {unknown[0]!r} is not in [[daemon.targets]] (known: {', '.join(configured)})"
        )
    return [n for n in configured if not names or n in names]


def enqueue_round(
    conn: psycopg.Connection[Any],
    app: procrastinate.App,
    settings: Settings,
    key: str,
    due_at: datetime,
    origin: str,
    names: Sequence[str] = (),
) -> Enqueued:
    """Record round ``key`` for the targets ``names`` (default: all) and defer the new ones."""
    targets = pick_targets(settings, names)
    queues = settings.fleet.queues
    planned = [rounds.Planned(t, queue_for(t, queues)) for t in targets]
    new = rounds.record_round(conn, key, due_at, origin, planned)
    for item in new:
        job_id = defer_scan(app, key, item.target, item.queue)
        rounds.set_job(conn, key, item.target, job_id)
    fresh = {p.target for p in new}
    result = Enqueued(
        key, tuple(t for t in targets if t in fresh), tuple(t for t in targets if t not in fresh)
    )
    if result.enqueued:
        log.info("round %s (%s): %d target(s) enqueued", key, origin, len(result.enqueued))
    return result


def defer_unqueued(conn: psycopg.Connection[Any], app: procrastinate.App, now: datetime) -> int:
    """Defer the jobs of rows an enqueuing process recorded but died before deferring."""
    orphans = rounds.unqueued(conn, now - ORPHAN_AFTER)
    for key, target, queue in orphans:
        rounds.set_job(conn, key, target, defer_scan(app, key, target, queue))
        log.warning("round %s: the job of %s was never deferred; deferred now", key, target)
    return len(orphans)
