"""The scan task's body: one target of one round, at most once to a recorded end.

Under the target's lock (a PostgreSQL session advisory lock, released by the server when the
worker's connection dies, even on ``kill -9``), the job takes its (round, target) row; then any
run of the target still ``running`` is a dead worker's, and is marked ``interrupted``; a run an
earlier attempt recorded before its worker died finishes the row without a second scan;
otherwise the daemon's own ``scan_target`` runs the application-layer ``secscan run``.
A stop (SIGTERM) interrupts the run and hands the job back for another worker
(:class:`ScanInterrupted`, which the task's retry strategy retries).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from secscan.app.cancel import RunInterrupted, interrupt_orphaned_runs
from secscan.core.errors import SecscanError
from secscan.core.records import RunStatus
from secscan.core.redact import Redactor
from secscan.daemon import integrations, jobs
from secscan.daemon.fleet import rounds
from secscan.daemon.fleet.runtime import Runtime
from secscan.store import open_store

log = logging.getLogger(__name__)

_LOCK_SCOPE = 0x5EC5CA + 18  # target locks of the fleet (secscan's advisory namespace + 18)
_REDACT = Redactor()
_POLL_S = 0.5


class ScanInterrupted(SecscanError):  # noqa: N818 - a stop, retried elsewhere
    """The scan was stopped (the worker is shutting down); the job is retried by another worker."""


def lock_key(target: str) -> tuple[int, int]:
    import hashlib

    digest = hashlib.blake2b(target.encode(), digest_size=4).digest()
    return _LOCK_SCOPE, int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def target_lock(conn: psycopg.Connection[Any], target: str, wait_s: float, rt: Runtime) -> Iterator[bool]:
    """Hold ``target``'s fleet lock on ``conn`` (autocommit); yields False if it stayed taken."""
    key = lock_key(target)
    deadline = time.monotonic() + wait_s
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
        if row is not None and row[0]:
            break
        if time.monotonic() >= deadline or rt.cancel.is_set():
            yield False
            return
        rt.cancel.wait(_POLL_S)
    try:
        yield True
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def unlock_all(conn: psycopg.Connection[Any]) -> None:
    """The pool's reset: a connection goes back with no target lock held (even one whose
    unlock failed), so a pooled connection never keeps a target locked for a later job."""
    conn.execute("SELECT pg_advisory_unlock_all()")


def open_pool(conninfo: str, concurrency: int) -> ConnectionPool[Any]:
    """The scan jobs' connections of one worker process: two per running job (the target's
    lock and the row), opened once and reused, rather than two fresh connections per job."""
    return ConnectionPool(
        conninfo, min_size=2, max_size=2 * max(1, concurrency), kwargs={"autocommit": True},
        reset=unlock_all, open=False, name="secscan-fleet-scan",
    )  # fmt: skip


@contextlib.contextmanager
def _connections(rt: Runtime) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """The job's lock and row connections (autocommit: the rows' writes are explicit transactions)."""
    if rt.pool is not None:
        with rt.pool.connection() as locks, rt.pool.connection() as conn:
            yield locks, conn
        return
    with (
        psycopg.connect(rt.url.conninfo, autocommit=True) as locks,
        psycopg.connect(rt.url.conninfo, autocommit=True) as conn,
    ):
        yield locks, conn


def scan_job(rt: Runtime, job_id: int, key: str, target_name: str) -> str:
    """Run the job of (``key``, ``target_name``); returns the row's state (for the metrics)."""
    target = next((t for t in rt.settings.daemon.targets if t.target_name == target_name), None)
    with _connections(rt) as (locks, conn):
        if target is None:  # configs differ between hosts, or the target was removed
            rounds.finish(
                conn, key, target_name, rounds.FAILED, rt.clock(), detail="not in this worker's config"
            )
            log.error("round %s: target %s is not in this worker's configuration", key, target_name)
            return rounds.FAILED
        with target_lock(locks, target_name, rt.settings.daemon.lock_wait, rt) as held:
            if not held:
                if rt.cancel.is_set():
                    raise ScanInterrupted(f"stopped before {target_name} of round {key} began")
                raise ScanInterrupted(
                    f"target {target_name} stayed locked for {rt.settings.daemon.lock_wait:g} s"
                )
            attempt = rounds.begin_attempt(conn, key, target_name, job_id, rt.name, rt.clock())
            if not attempt.go:
                log.info("round %s, target %s: nothing to do (%s)", key, target_name, attempt.reason)
                return "skipped"
            return _scan_locked(rt, conn, key, target, attempt)


def _scan_locked(
    rt: Runtime, conn: psycopg.Connection[Any], key: str, target: Any, attempt: rounds.Attempt
) -> str:
    name: str = target.target_name
    now = rt.clock()
    with open_store(rt.db) as store:
        interrupt_orphaned_runs(store, rt.db, now)  # a dead worker's run: its locks died with it
        earlier = _recorded_since(store.runs(name, limit=5), attempt.started_at)
    if earlier is not None:  # a worker recorded the run, then died before finishing the row
        rounds.finish(conn, key, name, earlier[1], rt.clock(), run_id=earlier[0])
        return earlier[1]
    max_attempts = rt.settings.daemon.max_attempts
    if attempt.attempts > max_attempts:
        detail = f"gave up after {max_attempts} attempt(s)"
        rounds.finish(conn, key, name, rounds.FAILED, rt.clock(), detail=detail)
        _alert(rt, name, f"round {key}: {detail}")
        return rounds.FAILED
    log.info("round %s: scanning %s (attempt %d of %d)", key, name, attempt.attempts, max_attempts)
    try:
        outcome = jobs.scan_target(rt.job_context(), target)
    except RunInterrupted as exc:
        rounds.finish(conn, key, name, rounds.INTERRUPTED, rt.clock(), run_id=exc.run_id, detail="stopped")
        raise ScanInterrupted(str(exc)) from exc
    except SecscanError as exc:
        problem = _REDACT.text(str(exc))
        log.error("round %s: scan of %s failed: %s", key, name, problem)
        rounds.finish(conn, key, name, rounds.FAILED, rt.clock(), detail=problem[:500])
        _alert(rt, name, problem)
        return rounds.FAILED
    with open_store(rt.db) as store:
        latest = store.runs(name, limit=1)
        run_id = str(latest[0].run_id) if latest else None
        status = rounds.COMPLETE if outcome.problem is None or outcome.alert else rounds.PARTIAL
        try:
            if outcome.alert and outcome.problem is not None:
                integrations.on_target_failed(store, name, outcome.problem, rt.settings, rt.clock())
            elif not outcome.alert:
                integrations.on_target_ok(store, name, rt.settings, rt.clock())
        except Exception:  # paging must not fail the job; logged (and sent to Sentry)
            log.exception("could not queue the alert of target %s", name)
    rounds.finish(conn, key, name, status, rt.clock(), run_id=run_id, detail=outcome.problem)
    return status


def _recorded_since(runs: Any, since: datetime | None) -> tuple[str, str] | None:
    for run in runs:
        if (
            since is not None
            and run.started_at >= since
            and run.status in (RunStatus.COMPLETE, RunStatus.PARTIAL)
        ):
            return str(run.run_id), rounds.COMPLETE if run.status is RunStatus.COMPLETE else rounds.PARTIAL
    return None


def _alert(rt: Runtime, target: str, problem: str) -> None:
    try:
        with open_store(rt.db) as store:
            integrations.on_target_failed(store, target, problem, rt.settings, rt.clock())
    except Exception:
        log.exception("could not queue the alert of target %s", target)
