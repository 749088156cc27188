"""Stopping the daemon: nothing it runs holds up SIGTERM, and a stop runs nothing new.

The races are driven with events, not with load: a job is held at the exact point where the
stop used to deadlock or to start work it should not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN  # type: ignore[import-untyped]
from daemon_helpers import make_setup, wait_for

from secscan.config.settings import build_settings
from secscan.daemon import jobs, service
from secscan.daemon.service import STATE_KEY, Daemon
from secscan.store import open_store

SLOT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _daemon(tmp_path: Path, clock: Callable[[], datetime] | None = None, **daemon: Any) -> Daemon:
    (tmp_path / "app").mkdir(exist_ok=True)
    raw = {
        "scanners": {"bandit": {"enabled": False}, "detect-secrets": {"enabled": False}},
        "daemon": {"targets": [{"path": str(tmp_path / "app"), "name": "app"}], "db": str(tmp_path / "s.db"),
                   "health_listen": "127.0.0.1:0", "nightly": "0 2 * * *", **daemon},
    }  # fmt: skip
    if clock is None:
        return Daemon(build_settings(raw))
    return Daemon(build_settings(raw), clock=clock)


def _catch_up_due(tmp_path: Path) -> Daemon:
    """A daemon started 3 h after a nightly slot it missed (within the grace): catch-up is due."""
    first = _daemon(tmp_path, lambda: SLOT - timedelta(days=1))  # the daemon first met the database
    with open_store(tmp_path / "s.db") as store:
        first._recover(store)
    return _daemon(tmp_path, lambda: SLOT + timedelta(hours=3), catch_up_grace=6 * 3600)


def _slots(tmp_path: Path) -> list[Any]:
    with open_store(tmp_path / "s.db") as store:
        return list(store.slots("nightly"))


def test_a_heartbeat_reading_the_schedule_while_the_daemon_stops_lets_it_stop(tmp_path: Path) -> None:
    # The heartbeat reads the next run times from the scheduler. APScheduler 3.x's
    # shutdown(wait=True) holds the lock that read takes while it waits for the running jobs:
    # a beat caught mid-way by SIGTERM deadlocked the stop, and the process never exited.
    daemon = _daemon(tmp_path, heartbeat_every=3600, stop_timeout=60)
    with open_store(tmp_path / "s.db") as store:
        daemon._recover(store)
    beating, shut_down, release = threading.Event(), threading.Event(), threading.Event()
    heartbeat = daemon._heartbeat

    def held_heartbeat(ctx: jobs.JobContext) -> None:
        beating.set()
        release.wait()  # until the stop is under way, then beat (read the schedule) as usual
        heartbeat(ctx)

    daemon._heartbeat = held_heartbeat  # type: ignore[method-assign]
    daemon._schedule(catch_up=False)  # the heartbeat runs at once
    scheduler = daemon._scheduler
    scheduler.add_listener(lambda _event: shut_down.set(), EVENT_SCHEDULER_SHUTDOWN)
    beating.wait()

    def under_way() -> bool:
        """The scheduler is shut down, or its shutdown holds the job-store lock (waiting there)."""
        if scheduler.running:
            return False
        if shut_down.is_set():
            return True
        lock = scheduler._jobstores_lock
        if lock.acquire(blocking=False):
            lock.release()
            return False
        return True

    def release_when_under_way() -> None:
        while not under_way():
            shut_down.wait(0.005)
        release.set()

    threading.Thread(target=release_when_under_way, daemon=True).start()
    try:
        assert daemon._shutdown()  # clean: the beat ended, no job was left behind
    finally:
        release.set()
    with open_store(tmp_path / "s.db") as store:
        state = store.daemon_state(STATE_KEY)
    assert state is not None and state["heartbeat_at"]  # the held beat did finish


def test_no_job_starts_once_the_stop_was_asked_for(tmp_path: Path) -> None:
    daemon = _catch_up_due(tmp_path)
    with open_store(tmp_path / "s.db") as store:
        assert daemon._recover(store)
    daemon.stop()  # SIGTERM, just before the scheduler hands the queued catch-up run to a thread
    daemon._job("nightly", daemon._nightly)()  # as the scheduler runs it
    assert _slots(tmp_path) == []  # not claimed: the slot keeps its attempts for the next start
    assert daemon.metrics.registry.get_sample_value(
        "secscan_daemon_jobs_total", {"job": "nightly", "outcome": "ok"}
    ) in (None, 0.0)


def test_sigterm_during_start_up_stops_the_daemon_cleanly_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    daemon = _catch_up_due(tmp_path)
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def remove_stale_then_sigterm() -> None:  # SIGTERM in the middle of start-up
        handler = signal.getsignal(signal.SIGTERM)
        seen.append(handler)
        if callable(handler):
            os.kill(os.getpid(), signal.SIGTERM)  # the daemon's handler runs it (main thread)
        else:  # without a handler the kernel would have killed the process: stop it anyway
            daemon.stop()

    monkeypatch.setattr(service, "remove_stale", remove_stale_then_sigterm)
    assert daemon.serve() == 0
    assert callable(seen[0]) and seen[0] is not before  # the daemon's handler was in place
    assert _slots(tmp_path) == []  # the due catch-up run was not started
    assert signal.getsignal(signal.SIGTERM) is before  # serve() restored the handlers


STUCK_JOB = """
import sys, threading
from pathlib import Path
from secscan.cli.main import main
from secscan.daemon import jobs

def stuck(ctx):
    Path(sys.argv[1]).touch()
    threading.Event().wait()  # a job that never ends (a hung network call, say)

jobs.deliver = stuck
sys.exit(main(sys.argv[2:]))
"""


def test_a_job_that_never_ends_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    setup = make_setup(tmp_path)
    config = setup.config("0 0 1 1 *", stop_timeout=1)
    entered, log = tmp_path / "entered", tmp_path / "daemon.log"
    env = {k: v for k, v in os.environ.items() if k not in ("SENTRY_DSN", "SECSCAN_DEBUG")}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", STUCK_JOB, str(entered), "daemon", "--config", str(config)],
            stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for("the stuck delivery job", entered.exists, log=log)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)  # a hang guard only: the daemon gives up on the job after stop_timeout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 1, log.read_text()[-2000:]
    assert "job(s) delivery did not stop within 1 s; exiting anyway" in log.read_text()
