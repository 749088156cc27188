"""The daemon's APScheduler jobs: which job runs when, built at start-up and re-timed on SIGHUP.

Every job runs with ``max_instances=1`` and ``coalesce=True``; APScheduler's own misfire handling
is off (``misfire_grace_time=None``) because the ledger decides whether a missed nightly slot
runs (:mod:`secscan.daemon.recovery`). The nightly scan and the maintenance follow their cron
expressions in the configured time zone; the heartbeat, the SLA sweep and delivery run every
few seconds, first at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from secscan.config.schedule import cron_trigger
from secscan.config.settings import Settings
from secscan.daemon import jobs

Body = Callable[[jobs.JobContext], object]
"""A job's work, given the daemon's context."""

Wrap = Callable[[str, Body], Callable[[], None]]
"""How the daemon turns a job's name and work into what the scheduler calls (metrics, in-flight)."""


def nightly_trigger(settings: Settings) -> Any:
    """When the nightly scan runs."""
    return cron_trigger(settings.daemon.nightly, settings.daemon.timezone)


def interval_jobs(settings: Settings, heartbeat: Body) -> list[tuple[str, Body, float]]:
    """The jobs that run every few seconds: (id, work, seconds between runs)."""
    daemon = settings.daemon
    return [
        ("heartbeat", heartbeat, daemon.heartbeat_every),
        ("sla-sweep", jobs.sla_sweep, daemon.sla_sweep_every),
        ("delivery", jobs.deliver, daemon.delivery_every),
    ]


def start(settings: Settings, wrap: Wrap, *, nightly: Body, heartbeat: Body, catch_up: bool,
          now: datetime) -> Any:  # fmt: skip
    """A started scheduler with every job; with ``catch_up`` the nightly scan runs at once too."""
    daemon = settings.daemon
    scheduler = BackgroundScheduler(
        timezone=daemon.timezone,
        executors={"default": ThreadPoolExecutor(8)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    first: dict[str, Any] = {"next_run_time": now} if catch_up else {}
    scheduler.add_job(wrap("nightly", nightly), nightly_trigger(settings), id="nightly", **first)
    for job_id, body, every in interval_jobs(settings, heartbeat):
        scheduler.add_job(wrap(job_id, body), IntervalTrigger(seconds=every), id=job_id, next_run_time=now)
    scheduler.add_job(
        wrap("maintenance", jobs.maintenance),
        cron_trigger(daemon.maintenance, daemon.timezone),
        id="maintenance",
    )
    scheduler.start()
    return scheduler


def retime(scheduler: Any, settings: Settings, heartbeat: Body) -> None:
    """Give every job the timing ``settings`` asks for (a reloaded configuration)."""
    scheduler.reschedule_job("nightly", trigger=nightly_trigger(settings))
    scheduler.reschedule_job(
        "maintenance", trigger=cron_trigger(settings.daemon.maintenance, settings.daemon.timezone)
    )
    for job_id, _, every in interval_jobs(settings, heartbeat):
        scheduler.reschedule_job(job_id, trigger=IntervalTrigger(seconds=every))


__all__ = ["interval_jobs", "nightly_trigger", "retime", "start"]
