"""The PostgreSQL implementation of :class:`~secscan.core.ports.store.Store`.

It is the SQLite store's code over another connection: every statement is the shared,
hand-written SQL of the store's modules (``_bulk``, ``_runs``, ``_recording``, ``_sla``,
``_outbox``, ...), spoken through :class:`~secscan.store.postgres._db.PgConnection` with the
PostgreSQL row of :mod:`secscan.store.dialect`. What differs is how writers are kept apart:

- a run's recording (and ``begin_run``) takes ``pg_advisory_xact_lock`` on its target, so two
  runs of one target are serialised while runs of other targets write concurrently;
- every write takes the store-wide lock shared, and SLA upkeep and finding edits take it
  exclusively, so an upkeep never sees a recording half-way (:mod:`secscan.core.ports.sessions`);
- claiming a daemon slot takes a lock on its job; outbox claims use ``FOR UPDATE SKIP LOCKED``;
- a whole run holds a session-level advisory lock on its target (:meth:`PostgresStore.target_lock`),
  so two hosts never scan one target at once, and a host does not take another host's run for one
  left by a dead process; likewise a daemon running a slot holds the slot's (:meth:`slot_lock`),
  so a daemon starting on another host does not take that slot for one a crash left running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from threading import Event

import psycopg
from psycopg_pool import PoolTimeout

from secscan.core.errors import StoreError
from secscan.core.model import RunId
from secscan.core.ports.ledger import SlotRecord, SlotStatus, SlotTrigger
from secscan.core.ports.sessions import FindingEdit, RunRecording, SlaUpkeep
from secscan.fs.urls import PostgresUrl
from secscan.store.postgres._db import RUN, SLOT, SLOT_RUN, STORE, TARGET, Database, PgConnection, lock_key
from secscan.store.postgres._migrate import ensure_schema
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite import daemon as _daemon
from secscan.store.sqlite import runs as _runs
from secscan.store.sqlite.recording import SqliteFindingEdit, SqliteRecording
from secscan.store.sqlite.rows import to_ts
from secscan.store.sqlite.sla import SqliteSlaUpkeep, stored_policy
from secscan.store.sqlite.store import SqliteStore

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
LOCK_POLL_S = 0.2
_RUNNING_SLOTS = 1000  # slots left running at once: a few (one per job), never this many


def open_store(url: PostgresUrl) -> PostgresStore:
    """Open the store in the database of ``url``, creating or upgrading its schema."""
    try:
        psycopg.connect(url.conninfo, connect_timeout=CONNECT_TIMEOUT_S).close()  # fails fast, says why
        db = Database(url.conninfo, url.display)
    except (PoolTimeout, psycopg.Error) as exc:
        raise StoreError(
            f"cannot connect to {url.display}: {_first_line(exc)}; check the URL and that the server runs"
        ) from exc
    try:
        revision = ensure_schema(db, url)
    except psycopg.Error as exc:
        db.close()
        raise StoreError(f"cannot open or migrate database {url.display}: {_first_line(exc)}") from exc
    except BaseException:
        db.close()
        raise
    return PostgresStore(db, revision)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


class PostgresStore(SqliteStore):
    """Store over one PostgreSQL database. Build it with :func:`open_store`."""

    def __init__(self, db: Database, revision: str) -> None:
        self._pg = db
        self._revision = revision

    @property
    def database(self) -> Database:  # type: ignore[override]
        """The connection pool (for tests)."""
        return self._pg

    @contextmanager
    def _tx(self, write: bool) -> Iterator[PgConnection]:
        try:
            with self._pg.transaction() as conn:
                if write:
                    conn.lock(STORE, shared=True)
                yield conn
        except psycopg.Error as exc:
            raise StoreError(f"database {self._pg.display} failed: {_first_line(exc)}") from exc

    @contextmanager
    def _exclusive(self) -> Iterator[PgConnection]:
        """A write transaction that holds the whole store (no recording runs meanwhile)."""
        try:
            with self._pg.transaction() as conn:
                conn.lock(STORE)
                yield conn
        except psycopg.Error as exc:
            raise StoreError(f"database {self._pg.display} failed: {_first_line(exc)}") from exc

    def close(self) -> None:
        self._pg.close()

    def begin_run(self, run_id: RunId, target: str, target_name: str, started_at: datetime) -> None:
        with self._tx(write=True) as conn:
            conn.lock(TARGET, target_name)
            tid = _runs.ensure_target(conn, target_name, target, to_ts(started_at))
            _runs.upsert_run(conn, run_id, tid, "running", to_ts(started_at), None)

    @contextmanager
    def recording(self, target_name: str) -> Iterator[RunRecording]:
        with _bulk.gc_paused(), self._tx(write=True) as conn:
            conn.lock(TARGET, target_name)
            yield SqliteRecording(conn, target_name)

    @contextmanager
    def edit_finding(self, ref: str, target: str | None = None) -> Iterator[FindingEdit]:
        with self._exclusive() as conn:
            row = self._find(conn, ref, target)
            yield SqliteFindingEdit(conn, row, stored_policy(conn))

    @contextmanager
    def sla_upkeep(self, now: datetime) -> Iterator[SlaUpkeep]:
        with _bulk.gc_paused(), self._exclusive() as conn:
            yield SqliteSlaUpkeep(conn, to_ts(now))

    def target_lock(
        self, target: str, wait_s: float = 0.0, cancel: Event | None = None
    ) -> AbstractContextManager[bool]:
        """Hold ``pg_advisory_lock`` on ``target`` (session level, on a pooled connection kept for
        the block); the server releases it when that connection ends, also when the process dies.
        Its key is not the recording's transaction lock, which the run takes on another connection."""
        return self._session_lock(lock_key(RUN, target), wait_s, cancel)

    def slot_lock(self, job: str, slot_at: datetime) -> AbstractContextManager[bool]:
        """The session lock of one slot (see :meth:`target_lock`): a daemon that dies drops it."""
        return self._session_lock(lock_key(SLOT_RUN, f"{job}\0{to_ts(slot_at)}"), 0.0, None)

    def interrupt_slots(self, now: datetime) -> tuple[SlotRecord, ...]:
        """Each ``running`` slot whose lock nobody holds: its daemon died (a live one holds it)."""
        stale: list[SlotRecord] = []
        for slot in self.slots(status=SlotStatus.RUNNING, limit=_RUNNING_SLOTS):
            with self.slot_lock(slot.job, slot.slot_at) as free:
                if free:
                    with self._tx(write=True) as conn:
                        stale += _daemon.interrupt_slot(conn, slot.job, to_ts(slot.slot_at), to_ts(now))
        return tuple(stale)

    @contextmanager
    def _session_lock(self, key: tuple[int, int], wait_s: float, cancel: Event | None) -> Iterator[bool]:
        try:
            with self._pg.autocommit() as raw:
                deadline = time.monotonic() + wait_s
                while True:
                    held = bool(raw.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0])  # type: ignore[index]
                    if held or time.monotonic() >= deadline or (cancel is not None and cancel.is_set()):
                        break
                    if cancel is None:
                        time.sleep(LOCK_POLL_S)
                    else:
                        cancel.wait(LOCK_POLL_S)
                try:
                    yield held
                finally:
                    if held:
                        raw.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        except psycopg.Error as exc:
            raise StoreError(f"database {self._pg.display} failed: {_first_line(exc)}") from exc

    def set_introduced(self, target: str, introduced: Mapping[str, datetime]) -> int:
        if not introduced:
            return 0
        with self._tx(write=True) as conn:
            conn.lock(TARGET, target)
            return self._set_introduced(conn, target, introduced)

    def claim_slot(
        self, job: str, slot_at: datetime, now: datetime, trigger: SlotTrigger, max_attempts: int = 1
    ) -> SlotRecord | None:
        with self._tx(write=True) as conn:
            conn.lock(SLOT, job)
            return _daemon.claim_slot(conn, job, to_ts(slot_at), to_ts(now), trigger, max_attempts)

    def optimize(self) -> None:
        with self._pg.autocommit() as conn:
            conn.execute("ANALYZE")
