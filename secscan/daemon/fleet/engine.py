"""The fleet's Procrastinate app: the scan task and the periodic tasks, bound to one worker.

Periodic tasks are deferred by every worker's deferrer but recorded once per tick for the
whole fleet (Procrastinate keys them by task and tick), so the SLA sweep, delivery, maintenance
and the watchdog run once per tick wherever there are workers, with no leader to elect.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import procrastinate

from secscan.daemon import jobs
from secscan.daemon.fleet import rounds, scan, watchdog
from secscan.daemon.fleet.enqueue import SCAN_TASK
from secscan.daemon.fleet.keys import procrastinate_cron
from secscan.daemon.fleet.runtime import Runtime

log = logging.getLogger(__name__)

CONTROL_QUEUE = "secscan-control"
"""The periodic tasks' queue: every worker listens to it besides its scan queues."""


def _guarded(rt: Runtime, name: str, body: Any) -> None:
    """A periodic daemon job: failures are logged and counted, never retried (the next tick is)."""
    rt.outcomes.labels(name, jobs.guarded(f"fleet task {name}", body, rt.job_context())).inc()


def _prune_rounds(rt: Runtime) -> None:
    import psycopg

    before = rt.clock() - timedelta(days=rt.settings.daemon.keep_runs_days)
    with psycopg.connect(rt.url.conninfo) as conn:
        pruned = rounds.prune(conn, before)
    if pruned:
        log.info("maintenance: %d fleet round(s) pruned", pruned)


def build_app(conninfo: str, rt: Runtime, deferrer: procrastinate.App) -> procrastinate.App:
    """The worker's app with every task registered against ``rt``."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))
    daemon, fleet = rt.settings.daemon, rt.settings.fleet
    # a stopped scan (SIGTERM) goes back to the queue for another worker; the row counts tries
    retry = procrastinate.RetryStrategy(
        max_attempts=daemon.max_attempts, retry_exceptions={scan.ScanInterrupted}
    )

    @app.task(name=SCAN_TASK, pass_context=True, retry=retry)
    def scan_task(context: procrastinate.JobContext, round: str, target: str) -> str:
        job_id = int(context.job.id or 0)
        try:
            state = scan.scan_job(rt, job_id, round, target)
        except scan.ScanInterrupted:
            rt.outcomes.labels("scan", "interrupted").inc()
            raise
        rt.outcomes.labels("scan", state).inc()
        return state

    @app.periodic(cron=procrastinate_cron(fleet.tick), periodic_id="watchdog")
    @app.task(name="secscan.fleet.watchdog", queue=CONTROL_QUEUE, queueing_lock="secscan.fleet.watchdog")
    async def watchdog_task(timestamp: int) -> None:
        try:
            await watchdog.tick(rt, app, deferrer)
            rt.outcomes.labels("watchdog", "ok").inc()
        except Exception:
            rt.outcomes.labels("watchdog", "failed").inc()
            log.exception("fleet watchdog tick failed")

    @app.periodic(cron=procrastinate_cron(fleet.sla_sweep), periodic_id="sla-sweep")
    @app.task(name="secscan.fleet.sla_sweep", queue=CONTROL_QUEUE, queueing_lock="secscan.fleet.sla_sweep")
    def sla_sweep_task(timestamp: int) -> None:
        _guarded(rt, "sla-sweep", jobs.sla_sweep)

    @app.periodic(cron=procrastinate_cron(fleet.delivery), periodic_id="delivery")
    @app.task(name="secscan.fleet.delivery", queue=CONTROL_QUEUE, queueing_lock="secscan.fleet.delivery")
    def delivery_task(timestamp: int) -> None:
        _guarded(rt, "delivery", jobs.deliver)

    @app.periodic(cron=procrastinate_cron(daemon.maintenance), periodic_id="maintenance")
    @app.task(
        name="secscan.fleet.maintenance", queue=CONTROL_QUEUE, queueing_lock="secscan.fleet.maintenance"
    )
    async def maintenance_task(timestamp: int) -> None:
        await asyncio.to_thread(_guarded, rt, "maintenance", jobs.maintenance)
        try:  # the queue's finished jobs and the rounds go with the store's retention
            await app.job_manager.delete_old_jobs(
                nb_hours=24 * daemon.keep_delivered_days, include_failed=True, include_cancelled=True,
                include_aborted=True,
            )  # fmt: skip
            await asyncio.to_thread(_prune_rounds, rt)
        except Exception:
            rt.outcomes.labels("maintenance", "failed").inc()
            log.exception("pruning the fleet's queue and rounds failed")

    del scan_task, watchdog_task, sla_sweep_task, delivery_task, maintenance_task
    return app
