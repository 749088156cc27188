"""``secscan daemon``: the unattended service around APScheduler 3.x.

Start-up, in order: refuse what would fail every nightly run (:mod:`.preflight`: targets, their
configs and scanners, the SARIF folder, ``[report] path``), take the database's daemon lock (a
second daemon is refused), start Sentry, recover (ledger slots and runs left ``running`` by a
crash become ``interrupted``; a run whose target another process is scanning is left alone),
start the health endpoint, and schedule the jobs with ``max_instances=1`` and
``coalesce=True``. A nightly slot that was missed while the daemon was down (or interrupted)
and is still within the catch-up grace runs at once; the ledger makes sure it runs exactly
once. APScheduler's own misfire handling is off (``misfire_grace_time=None``): the ledger
decides.

SIGTERM/SIGINT (handled from the very start, :mod:`.signals`) set the stop event: no job starts
any more (a queued catch-up run is dropped, its slot untouched), running scanners' process
groups are killed, the current run is recorded ``interrupted``, the scheduler shuts down and the
process exits 0 within ``[daemon] stop_timeout`` (1 when a job did not end in time; the daemon
waits for its jobs itself, :mod:`.inflight` says why). SIGHUP reloads the configuration file and
reschedules the jobs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from secscan.app.pipeline import Clock, utcnow
from secscan.config.settings import Settings, load_settings
from secscan.core.errors import SecscanError
from secscan.core.ports.ledger import SlotStatus
from secscan.core.ports.store import Store
from secscan.daemon import health, jobs, preflight, recovery, scheduling, sentry, signals
from secscan.daemon.inflight import InFlight
from secscan.daemon.metrics import DaemonMetrics
from secscan.fs.locks import daemon_lock
from secscan.scanners.scratch import remove_stale
from secscan.store import open_store

log = logging.getLogger(__name__)

STATE_KEY = recovery.STATE_KEY
FAILING_KEY = "failing-targets"
_WAKE_S = 1.0


class Daemon:
    """One daemon process. ``serve()`` blocks until :meth:`stop` or a signal."""

    def __init__(
        self,
        settings: Settings,
        *,
        config_path: Path | None = None,
        db: str | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._db = db or settings.daemon.db
        preflight.check_daemon(settings, config_path, self._db)  # before the lock, store and endpoint
        self._config_path = config_path
        self._clock = clock
        self._settings = settings
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._cancel = threading.Event()
        self._inflight = InFlight(self._cancel)  # no job starts once the stop was asked for
        self._started_at = clock()
        self._since = self._started_at
        self._last_done: datetime | None = None
        self._beat_at: datetime | None = None
        self._failing: dict[str, str] = {}  # target -> why its last nightly scan failed
        self.metrics = DaemonMetrics(
            self._store, lambda: [t.target_name for t in self._settings.daemon.targets]
        )
        self._scheduler: Any = None

    # -- context and helpers ------------------------------------------------------------------

    def _store(self) -> Store:
        return open_store(self._db)

    def _context(self) -> jobs.JobContext:
        return jobs.JobContext(
            self._settings, self._db, self._cancel, self._clock, self._started_at, self.metrics
        )

    def _job(self, name: str, body: Callable[[jobs.JobContext], object]) -> Callable[[], None]:
        def run() -> None:
            if not self._inflight.enter(name):
                log.info("job %s not started: the daemon is stopping", name)
                return
            try:
                with self.metrics.job_seconds.labels(name).time():
                    outcome = jobs.guarded(f"job {name}", body, self._context())
                self.metrics.jobs.labels(name, outcome).inc()
            finally:
                self._inflight.leave(name)

        return run

    # -- start-up -----------------------------------------------------------------------------

    def _recover(self, store: Store) -> bool:
        """Close what a crash left open; returns whether the current nightly slot should run now."""
        now = self._clock()
        found = recovery.recover(store, self._db, now)
        self._since, self._last_done = found.since, found.last_done
        saved = (store.daemon_state(FAILING_KEY) or {}).get("targets")
        self._failing = {str(k): str(v) for k, v in saved.items()} if isinstance(saved, dict) else {}
        self._beat(store)
        return recovery.catch_up_due(self._settings.daemon, found, now)

    def _schedule(self, catch_up: bool) -> None:
        if catch_up:
            log.info("the last nightly slot was missed and is within the catch-up grace: running it now")
        self._scheduler = scheduling.start(
            self._settings, self._job, nightly=self._nightly, heartbeat=self._heartbeat,
            catch_up=catch_up, now=self._clock(),
        )  # fmt: skip
        self.metrics.up.set(1)

    # -- jobs owned by the service --------------------------------------------------------------

    def _nightly(self, ctx: jobs.JobContext) -> None:
        outcome = jobs.nightly(ctx)
        if outcome is None:
            return
        failing = dict(self._failing)
        for name, target in outcome.targets.items():
            if target.problem is None:
                failing.pop(name, None)
            else:
                failing[name] = target.problem
        self._failing = failing  # replaced whole: /healthz reads it from another thread
        with self._store() as store:
            if outcome.status is SlotStatus.DONE:
                self._last_done = recovery.last_done(store) or self._last_done
            store.put_daemon_state(FAILING_KEY, {"targets": failing}, self._clock())
        if outcome.failed:
            listed = "; ".join(f"{name}: {problem}" for name, problem in outcome.failed.items())
            raise jobs.TargetsFailedError(f"{len(outcome.failed)} target(s) failed: {listed}")

    def _beat(self, store: Store) -> None:
        now = self._clock()
        self._beat_at = now
        next_runs = {}
        if self._scheduler is not None:
            next_runs = {
                job.id: job.next_run_time.isoformat()
                for job in self._scheduler.get_jobs()
                if job.next_run_time
            }
        state = {
            "pid": os.getpid(),
            "first_started_at": self._since.isoformat(),
            "started_at": self._started_at.isoformat(),
            "heartbeat_at": now.isoformat(),
            "next_runs": next_runs,
        }
        store.put_daemon_state(STATE_KEY, state, now)

    def _heartbeat(self, ctx: jobs.JobContext) -> None:
        """Liveness for /healthz, next run times for `secscan status`, and the dead man's switch."""
        with self._store() as store:
            self._beat(store)
            verdict = self.health()
            now = self._clock()
            if not verdict.ok and verdict.expected and verdict.overdue_at and now > verdict.overdue_at:
                recovery.alert_missed(store, ctx.settings, verdict.expected, now)

    def health(self) -> health.Health:
        daemon = self._settings.daemon
        alive = self._scheduler is not None and self._scheduler.running
        return health.evaluate(
            now=self._clock(),
            beat_at=self._beat_at if alive else None,
            beat_every=timedelta(seconds=daemon.heartbeat_every),
            trigger=scheduling.nightly_trigger(self._settings),
            last_done=self._last_done,
            since=self._since,
            grace=timedelta(seconds=daemon.catch_up_grace),
            failing={k: v for k, v in self._failing.items() if k in {t.target_name for t in daemon.targets}},
        )

    # -- control --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the daemon to stop (thread-safe; what SIGTERM and SIGINT do)."""
        self._cancel.set()
        self._stop.set()

    def reload(self) -> None:
        """Ask the daemon to reload its configuration (what SIGHUP does)."""
        self._reload.set()
        self._stop.set()  # wakes the main loop

    def _apply_reload(self) -> None:
        self._reload.clear()
        if self._config_path is None:
            log.warning("SIGHUP: no --config file to reload")
            return
        try:
            settings = load_settings(self._config_path)
            preflight.check_daemon(settings, self._config_path, self._db)
        except SecscanError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc)
            return
        old = self._settings.daemon
        if (settings.daemon.health_listen, settings.daemon.db, settings.daemon.sentry) != (
            old.health_listen,
            old.db,
            old.sentry,
        ):
            log.warning("health_listen, db and sentry changes take effect at the next restart")
        self._settings = settings
        scheduling.retime(self._scheduler, settings, self._heartbeat)
        log.info("configuration reloaded from %s", self._config_path)

    def serve(self, *, install_signals: bool = True) -> int:
        """Run until stopped; returns the exit code (0 after a clean stop)."""
        daemon = self._settings.daemon
        with (
            signals.handled(self.stop, self.reload) if install_signals else contextlib.nullcontext(),  # first
            daemon_lock(self._db),
            sentry.reporting(
                sentry.resolve_dsn(daemon.sentry.dsn),
                environment=daemon.sentry.environment,
                secrets=sentry.known_secrets(),
            ),
        ):
            logging.getLogger("apscheduler").setLevel(logging.WARNING)
            with self._store() as store:
                catch_up = self._recover(store)
            remove_stale()  # scratch folders and scanners left by runs of a process that died
            server = health.HealthServer(
                daemon.listen_address, self.health, self.metrics.registry, self._report
            )
            server.start()
            if not self._cancel.is_set():  # a stop during start-up schedules nothing, runs nothing
                self._schedule(catch_up)
                log.info(
                    "secscan daemon started: %d target(s), nightly %r", len(daemon.targets), daemon.nightly
                )
            try:
                while True:
                    self._stop.wait(_WAKE_S)
                    if self._cancel.is_set():
                        break
                    if self._reload.is_set():
                        self._stop.clear()
                        self._apply_reload()
            finally:
                clean = self._shutdown()
                server.stop()
        return 0 if clean else 1

    def _report(self) -> Path | None:
        return self._settings.report.path

    def _shutdown(self) -> bool:
        self._cancel.set()
        self.metrics.up.set(0)
        if self._scheduler is None:
            return True
        # wait=False: APScheduler would wait for the jobs holding its job-store lock, which the
        # heartbeat takes to read the next run times (a deadlock); InFlight waits instead
        self._scheduler.shutdown(wait=False)
        stuck = self._inflight.wait_idle(self._settings.daemon.stop_timeout)
        if stuck:
            log.error("job(s) %s did not stop within %g s; exiting anyway", ", ".join(stuck),
                      self._settings.daemon.stop_timeout)  # fmt: skip
            return False
        log.info("secscan daemon stopped")
        return True
