"""``secscan fleet worker``: one worker process of the fleet.

Start-up: migrate (first use), remove scratch folders and scanners a dead process left, start
Sentry and the health endpoint, then run two Procrastinate workers in one event loop: the scan
worker (``--queue`` names, ``--concurrency`` jobs at a time) and the control worker (the periodic
tasks, one at a time), so a worker busy scanning still runs the watchdog's ticks. Starting a
worker never starts a round: rounds come from ``scan-now`` and the nightly tick.

SIGTERM/SIGINT: the stop event kills the running scanners (their runs are recorded
``interrupted`` and their jobs go back to the queue for another worker), both workers stop
taking jobs, and the process exits within ``[daemon] stop_timeout`` (at most 30 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry
from psycopg_pool import ConnectionPool

from secscan.app.pipeline import Clock, utcnow
from secscan.config.settings import Settings
from secscan.daemon import health, sentry
from secscan.daemon.fleet import observe
from secscan.daemon.fleet.engine import CONTROL_QUEUE, build_app
from secscan.daemon.fleet.enqueue import defer_app
from secscan.daemon.fleet.runtime import Runtime
from secscan.daemon.fleet.scan import open_pool
from secscan.daemon.fleet.schema import migrate
from secscan.daemon.metrics import DaemonMetrics
from secscan.daemon.preflight import check_daemon
from secscan.fs.urls import postgres_url
from secscan.scanners.scratch import remove_stale
from secscan.store import open_store

log = logging.getLogger(__name__)

MAX_STOP_S = 30.0


class FleetWorker:
    """One worker process; :meth:`serve` blocks until SIGTERM (or :meth:`stop`)."""

    def __init__(
        self,
        settings: Settings,
        db: str,
        *,
        concurrency: int = 1,
        queues: Sequence[str] = (),
        clock: Clock = utcnow,
    ) -> None:
        check_daemon(settings, settings.source, db)
        self._settings = settings
        self._db = db
        self._url = postgres_url(db)
        self._concurrency = max(1, concurrency)
        self._queues = tuple(queues) or settings.fleet.queues
        self._clock = clock
        self._cancel = threading.Event()
        self._beat_at: datetime | None = None
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.metrics = DaemonMetrics(
            lambda: open_store(db), lambda: [t.target_name for t in settings.daemon.targets]
        )
        self.registry: CollectorRegistry = self.metrics.registry
        self.outcomes = observe.job_counter(self.registry)
        self.registry.register(observe.FleetCollector(self._url.conninfo, clock))
        self.server: health.HealthServer | None = None

    def health(self) -> health.Health:
        fleet = self._settings.fleet
        return observe.evaluate(
            self._url.conninfo, self._clock(), self._beat_at, fleet.heartbeat_every, fleet.round_deadline
        )

    def stop(self) -> None:
        """Ask the worker to stop (thread-safe; what SIGTERM and SIGINT do)."""
        self._cancel.set()
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            loop.call_soon_threadsafe(stopping.set)

    def serve(self, *, install_signals: bool = True) -> int:
        """Run until stopped; returns the exit code (0 after a clean stop)."""
        daemon = self._settings.daemon
        migrate(self._url)
        remove_stale()
        with sentry.reporting(
            sentry.resolve_dsn(daemon.sentry.dsn), environment=daemon.sentry.environment,
            secrets=sentry.known_secrets(),
        ):  # fmt: skip
            self.server = health.HealthServer(daemon.listen_address, self.health, self.registry, lambda: None)
            self.server.start()
            try:
                return asyncio.run(self._main(install_signals))
            finally:
                self.server.stop()

    async def _main(self, install_signals: bool) -> int:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        if self._cancel.is_set():
            self._stopping.set()
        if install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(signum, self._on_signal, signum)
        pool = open_pool(self._url.conninfo, self._concurrency)
        pool.open(wait=True, timeout=30)
        try:
            return await self._run(pool)
        finally:
            pool.close()

    async def _run(self, pool: ConnectionPool[Any]) -> int:
        fleet, daemon = self._settings.fleet, self._settings.daemon
        rt = Runtime(
            self._settings, self._url, self._db, self.name, self._cancel, self._clock, self._clock(),
            self.metrics, self.outcomes, pool,
        )  # fmt: skip
        stop_s = min(daemon.stop_timeout, MAX_STOP_S)
        options: dict[str, Any] = {
            "install_signal_handlers": False,
            "update_heartbeat_interval": fleet.heartbeat_every,
            "stalled_worker_timeout": fleet.stalled_after,
            "shutdown_graceful_timeout": max(1.0, stop_s - 5),
            "delete_jobs": "never",
        }
        with defer_app(self._url.conninfo) as deferrer:
            app = build_app(self._url.conninfo, rt, deferrer)
            async with app.open_async():
                workers = [
                    asyncio.create_task(app.run_worker_async(
                        queues=list(self._queues), concurrency=self._concurrency, name=f"{self.name}/scan",
                        **options)),
                    asyncio.create_task(app.run_worker_async(
                        queues=[CONTROL_QUEUE], concurrency=1, name=f"{self.name}/control", **options)),
                ]  # fmt: skip
                log.info(
                    "secscan fleet worker %s started: queues %s, concurrency %d, %d target(s) configured",
                    self.name, ", ".join(self._queues), self._concurrency, len(daemon.targets),
                )  # fmt: skip
                clean = await self._run_until_stopped(workers, stop_s)
        log.info("secscan fleet worker %s stopped", self.name)
        return 0 if clean else 1

    async def _run_until_stopped(self, workers: list[asyncio.Task[Any]], stop_s: float) -> bool:
        assert self._stopping is not None  # noqa: S101 - set by _main
        beat_every = self._settings.fleet.heartbeat_every
        while not self._stopping.is_set():
            self._beat_at = self._clock()
            if any(w.done() for w in workers):  # a worker died (database gone?): stop the process
                log.error("a Procrastinate worker stopped unexpectedly; stopping this process")
                self._cancel.set()
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), beat_every)
        self._cancel.set()  # running scans: scanners killed, runs recorded interrupted, jobs retried
        for task in workers:
            task.cancel()
        done, pending = await asyncio.wait(workers, timeout=stop_s)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("worker ended with %r", task.exception())
        if pending:
            log.error("jobs did not stop within %g s; exiting anyway", stop_s)
            return False
        return True

    def _on_signal(self, signum: int) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        self.stop()
