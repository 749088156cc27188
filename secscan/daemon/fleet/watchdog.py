"""The watchdog: a periodic task deferred once per tick for the whole fleet (``[fleet] tick``).

Each tick, whichever worker runs it:

* retries the jobs of workers that stopped heartbeating (``[fleet] stalled_after``; a killed
  worker's job is back in the queue within one ``stalled_after`` plus one tick), at most
  ``[daemon] max_attempts`` tries in all; a job out of tries fails, its row says why and its
  target's failure is paged, as a stalled job is;
* defers the jobs of rounds recorded by a process that died before deferring them;
* enqueues the nightly round once its slot (``[daemon] nightly``, in ``[daemon] timezone``) has
  come, unless it is more than ``[fleet] nightly_late`` past (a fleet down all night does not
  start last night's round in the morning);
* pages the missed-run alert, as the daemon's dead man's switch does, for every target of a round
  not done ``[fleet] round_deadline`` after it was due.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import procrastinate
import psycopg

from secscan.app.cancel import interrupt_orphaned_runs
from secscan.config.schedule import cron_trigger, previous_fire
from secscan.daemon import integrations
from secscan.daemon.fleet import enqueue, rounds
from secscan.daemon.fleet.keys import round_key
from secscan.daemon.fleet.runtime import Runtime
from secscan.store import open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stalled:
    job_id: int
    task: str
    attempts: int  # tries so far, the stalled one included
    key: str | None
    target: str | None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def tick(rt: Runtime, app: procrastinate.App, deferrer: procrastinate.App) -> None:
    """One watchdog tick (see the module docstring)."""
    found = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=rt.settings.fleet.stalled_after)
    stalled = [
        Stalled(int(job.id or 0), job.task_name, job.attempts + 1, _text(job.task_kwargs.get("round")),
                _text(job.task_kwargs.get("target")))
        for job in found
    ]  # fmt: skip
    for job in stalled:
        if job.task == enqueue.SCAN_TASK and job.attempts < rt.settings.daemon.max_attempts:
            await asyncio.to_thread(_note_stalled, rt, job, retried=True)
            await app.job_manager.retry_job_by_id_async(job.job_id, retry_at=rt.clock())
            rt.outcomes.labels("scan", "stalled-retried").inc()
        else:
            await app.job_manager.finish_job_by_id_async(job.job_id, procrastinate.jobs.Status.FAILED, False)
            if job.task == enqueue.SCAN_TASK:
                await asyncio.to_thread(_note_stalled, rt, job, retried=False)
                rt.outcomes.labels("scan", "stalled-failed").inc()
    await asyncio.to_thread(_upkeep, rt, deferrer)


def _note_stalled(rt: Runtime, job: Stalled, *, retried: bool) -> None:
    if job.key is None or job.target is None:
        return
    max_attempts = rt.settings.daemon.max_attempts
    if retried:
        problem = f"round {job.key}: the worker scanning it stopped (attempt {job.attempts}); retried"
        state = rounds.INTERRUPTED
    else:
        problem = f"round {job.key}: the worker scanning it stopped; gave up after {max_attempts} attempt(s)"
        state = rounds.FAILED
    log.error("%s: %s", job.target, problem)
    with psycopg.connect(rt.url.conninfo) as conn:
        rounds.finish(conn, job.key, job.target, state, rt.clock(), detail=problem)
    with open_store(rt.db) as store:
        if not retried:
            _interrupt_dead_run(rt, store, job.target)
        integrations.on_target_failed(store, job.target, problem, rt.settings, rt.clock())


def _interrupt_dead_run(rt: Runtime, store: Any, target: str) -> None:
    """Mark the target's ``running`` run interrupted once no live process holds its locks."""
    del target  # every run whose locks are free is a dead process's
    interrupt_orphaned_runs(store, rt.db, rt.clock())


def _upkeep(rt: Runtime, deferrer: procrastinate.App) -> None:
    now = rt.clock()
    daemon, fleet = rt.settings.daemon, rt.settings.fleet
    with psycopg.connect(rt.url.conninfo) as conn:
        enqueue.defer_unqueued(conn, deferrer, now)
        slot = previous_fire(cron_trigger(daemon.nightly, daemon.timezone), now)
        if slot is not None and now - slot <= timedelta(seconds=fleet.nightly_late) and daemon.targets:
            enqueue.enqueue_round(conn, deferrer, rt.settings, round_key(slot), slot, "nightly")
        late = rounds.late_rounds(conn, now - timedelta(seconds=fleet.round_deadline))
        if not late:
            return
        with open_store(rt.db) as store:
            for item in late:
                log.error("round %s is late: %d target(s) not done", item.key, len(item.pending))
                for target in item.pending:
                    integrations.on_missed_run(store, target, item.due_at, rt.settings, now)
                rounds.mark_alerted(conn, item.key)
