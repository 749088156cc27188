"""SQLite engine set-up and schema migration on open.

Every connection runs in WAL mode with foreign keys on, a busy timeout and a 64 MiB page cache
(bulk writes into the findings indexes stay in memory). pysqlite's own
transaction handling is switched off so that SQLAlchemy's ``begin`` emits ``BEGIN IMMEDIATE``
for write transactions (``execution_options(secscan_begin="IMMEDIATE")``) and a plain ``BEGIN``
for reads. The schema is created or upgraded with Alembic inside one write transaction; a
database whose revision this secscan does not know is refused. A database already at
:data:`SCHEMA_REVISION` is recognised from its ``alembic_version`` row without loading Alembic
(importing it costs about half a second, every time the CLI opens the store).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from secscan.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 64 * 1024  # page cache per connection: bulk writes into a 1M-row index stay in memory
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SCHEMA_REVISION = "0005"
"""The head revision of ``migrations/`` (a test checks that they agree)."""


def sqlite_url(url_or_path: str | Path) -> str:
    """An SQLAlchemy URL for ``url_or_path`` (a file path or a ``sqlite:///`` URL)."""
    text = str(url_or_path)
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        _create_private(path)
        return f"sqlite:///{path}"
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError(f"--db {text!r} is neither a file path nor an SQLAlchemy URL") from None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise StoreError(f"database URL {url!r} is not supported; use an SQLite file path or sqlite:///FILE")
    return text


def _create_private(path: Path) -> None:
    """Create the database's directory (0700) and file (0600) if missing: the store holds finding
    locations and triage reasons, which are for the team, not for every local user. SQLite gives
    its ``-wal`` and ``-shm`` files the database file's mode. Existing files keep their mode."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    except OSError as exc:
        raise StoreError(
            f"cannot create database {path}: {exc.strerror}; check the path and its permissions"
        ) from exc


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's begin event owns transactions
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            logger.warning("SQLite refused WAL mode (journal_mode=%s); concurrent readers may block", mode)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    finally:
        cursor.close()


def _on_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get("secscan_begin") == "IMMEDIATE" else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    engine = create_engine(url)
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config  # Alembic loads only when a migration may run

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The head revision of the packaged migrations, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # noqa: S101 - the package always ships migrations
    return head


def _stamped_revision(conn: Connection) -> str | None:
    """The single revision in ``alembic_version``, or None (no table, no row, several rows)."""
    table = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    if conn.exec_driver_sql(table).scalar() is None:
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None


def migrate(engine: Engine, where: str) -> str:
    """Create or upgrade the schema to head; return the revision. Refuses newer databases."""
    try:
        with engine.connect() as conn:
            conn.execution_options(secscan_begin="IMMEDIATE")
            with conn.begin():
                if _stamped_revision(conn) == SCHEMA_REVISION:
                    return SCHEMA_REVISION
                return _migrate(conn, where)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open or migrate database {where}: {exc.__class__.__name__}: {exc}") from exc


def _migrate(conn: Connection, where: str) -> str:
    """The Alembic path of :func:`migrate`, on its open write transaction."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    head = head_revision()
    current = MigrationContext.configure(conn).get_current_revision()
    if current is not None and current not in known:
        raise StoreError(
            f"database {where} has schema revision {current}, newer than this secscan "
            f"(max {head}); upgrade secscan"
        )
    if current != head:
        logger.info("migrating database %s from %s to %s", where, current or "empty", head)
        command.upgrade(alembic_config(conn), "head")
    return head
