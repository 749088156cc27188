"""SQLite connections of the store: where the file is, secscan's pragmas, a small pool, transactions.

The store's runtime path speaks plain SQL to the standard library's DB-API driver (``sqlite3``)
over the tables that ``tables.py`` declares with SQLModel (a test checks the schema against the
models). SQLAlchemy and Alembic load only when the schema must be created or upgraded
(:mod:`secscan.store.sqlite.migrate`): importing SQLAlchemy costs about 0.15 s, which is most of a
fully cached ``secscan run``.

Every connection runs in WAL mode with foreign keys on, a busy timeout and a 64 MiB page cache
(bulk writes into the findings indexes stay in memory). The driver's own transaction handling is
off (``isolation_level=None``): :meth:`Database.transaction` issues ``BEGIN IMMEDIATE`` for
writes, so a second writer waits at ``BEGIN`` instead of failing later, and ``BEGIN DEFERRED``
for reads. Idle connections are pooled (each keeps its page cache); a nested transaction gets a
connection of its own, as it would from any pool.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from secscan.core.errors import StoreError
from secscan.fs import sqlitefile

logger = logging.getLogger(__name__)

SqliteConnection = sqlite3.Connection


class Cursor(Protocol):
    """What the store reads from a statement's cursor (``sqlite3`` and psycopg alike)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Any: ...


class Connection(Protocol):
    """A connection of the store inside a transaction: an ``sqlite3.Connection`` of
    :meth:`Database.transaction`, or a PostgreSQL one (``secscan.store.postgres._db``). The
    shared SQL speaks to it with ``?`` and ``:name`` placeholders (:mod:`secscan.store.dialect`)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

BUSY_TIMEOUT_MS = 60_000
"""How long a writer waits for another process's write transaction: a run that scanned for
minutes must not be lost because another one was recording 100k findings (or sweeping SLAs)."""
_SQLITE_BUSY = 5
CACHE_KIB = 64 * 1024  # page cache per connection: bulk writes into a 1M-row index stay in memory

def failure_message(path: Path, exc: sqlite3.Error) -> str:
    """One line on a failed statement: what, where and what to do."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == _SQLITE_BUSY:
        return (
            f"database {path} is locked: another process kept it busy for over {BUSY_TIMEOUT_MS / 1000:g} s "
            "(a large run or SLA sweep being recorded, or a process stopped mid-write); try again"
        )
    return f"database {path} failed: {first}; is the disk full?"


def create_private(path: Path) -> None:
    """Create the database's directory (0700) and file (0600) if missing: the store holds finding
    locations and triage reasons, which are for the team, not for every local user. SQLite gives
    its ``-wal`` and ``-shm`` files the database file's mode. Existing files keep their mode.

    The file is never opened here (:mod:`secscan.fs.sqlitefile`): closing a descriptor of a live
    database would drop the SQLite locks of every connection of this process.
    """
    try:
        sqlitefile.create_private(path)
    except OSError as exc:
        raise StoreError(
            f"cannot create database {path}: {exc.strerror}; check the path and its permissions"
        ) from exc


def configure(conn: SqliteConnection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        logger.warning("SQLite refused WAL mode (journal_mode=%s); concurrent readers may block", mode)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")


class Database:
    """Pooled connections to one SQLite file (safe to share between threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: list[SqliteConnection] = []
        self._all: list[SqliteConnection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._trace: Callable[[str], None] | None = None

    def _open(self) -> SqliteConnection:
        # check_same_thread=False: a pooled connection may serve another thread later (never two
        # at once: a connection is either idle in the pool or held by one transaction).
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            configure(conn)
        except BaseException:
            conn.close()
            raise
        conn.set_trace_callback(self._trace)
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def connection(self) -> Iterator[SqliteConnection]:
        """A connection of the pool (opened if none is idle), outside any transaction."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            with self._lock:
                keep = not self._closed
                if keep:
                    self._idle.append(conn)
                else:
                    self._all.remove(conn)
            if not keep:
                conn.close()

    @contextmanager
    def transaction(self, write: bool) -> Iterator[SqliteConnection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.execute("COMMIT")

    def trace(self, callback: Callable[[str], None] | None) -> None:
        """Call ``callback(statement)`` as each statement starts, on every connection (tests)."""
        self._trace = callback
        with self._lock:
            for conn in self._all:
                conn.set_trace_callback(callback)

    def close(self) -> None:
        """Close the idle connections; one still in use is closed when its transaction ends
        (another thread may be inside one: it finishes it)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            for conn in idle:
                self._all.remove(conn)
        for conn in idle:
            conn.close()


def scalar(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row of ``sql``, or None when it returns no row."""
    row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def stamped_revision(conn: Connection) -> str | None:
    """The single revision in ``alembic_version``, or None (no table, no row, several rows)."""
    table = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    if scalar(conn, table) is None:
        return None
    rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None
