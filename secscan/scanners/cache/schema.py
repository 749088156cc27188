"""The cache file's tables and how a connection to it is opened (see :mod:`secscan.scanners.cache.db`).

Its schema is versioned with ``PRAGMA user_version``: an older version is migrated when a
migration is known (adding a table keeps the entries), else every table is dropped and
recreated, which is what a cache may do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 5000
_SCHEMA = (
    """CREATE TABLE entries (key BLOB PRIMARY KEY, value BLOB NOT NULL, digest BLOB NOT NULL,
       size INTEGER NOT NULL, created_at INTEGER NOT NULL, used_at INTEGER NOT NULL) WITHOUT ROWID""",
    "CREATE INDEX entries_used ON entries (used_at)",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE memo (name TEXT PRIMARY KEY, signature BLOB NOT NULL, value TEXT NOT NULL) WITHOUT ROWID",
    _STAMPS := """CREATE TABLE IF NOT EXISTS stamps (scope BLOB NOT NULL, path BLOB NOT NULL,
       value BLOB NOT NULL, digest BLOB NOT NULL, PRIMARY KEY (scope, path)) WITHOUT ROWID""",
)
_MIGRATIONS: dict[int, tuple[str, ...]] = {2: (_STAMPS,)}
"""Statements that bring an older schema to :data:`SCHEMA_VERSION` without dropping its entries."""


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            _rebuild(conn)
        return conn
    except BaseException:
        conn.close()
        raise


def _rebuild(conn: sqlite3.Connection) -> None:
    """Migrate (keeping the entries) or else drop and recreate every table, unless another process
    did it first."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        statements: tuple[str, ...] | None = () if version == SCHEMA_VERSION else _MIGRATIONS.get(version)
        if statements is None:
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            statements = _SCHEMA
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
