"""Creating and upgrading the store's schema with Alembic: the only place the store uses SQLAlchemy.

:func:`ensure_schema` recognises a database already at :data:`SCHEMA_REVISION` from its
``alembic_version`` row over the plain driver. A new, empty database is created from the head
schema's statements (:mod:`secscan.store.sqlite.schema_head`, generated from the migrations and
checked against them by a test) over the plain driver too: loading SQLAlchemy and Alembic and
running every migration cost a first run about 0.65 s. Only an older database loads them, and is
upgraded. Either happens inside one ``BEGIN IMMEDIATE`` transaction (two processes creating the
same database at once: the second waits, then finds it at head). A database whose revision this
secscan does not know is refused.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.core.errors import StoreError
from secscan.store.sqlite.db import Database, configure, stamped_revision

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection as SaConnection
    from sqlalchemy import Engine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SCHEMA_REVISION = "0010"
"""The head revision of ``migrations/`` (a test checks that they agree)."""


def alembic_config(connection: SaConnection | None = None) -> Config:
    """An Alembic config for the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

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


def sqlalchemy_engine(path: Path) -> Engine:
    """An SQLAlchemy engine on ``path`` with the store's pragmas, whose transactions begin
    ``IMMEDIATE`` (for Alembic and for tests that build databases at old revisions)."""
    from sqlalchemy import create_engine, event

    engine = create_engine(f"sqlite:///{path}")

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin event owns transactions
        configure(dbapi_connection)

    def on_begin(conn: SaConnection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine


def upgrade_to_head(conn: SaConnection, where: str) -> str:
    """Bring the schema behind ``conn`` (inside its transaction) to the head revision and return it;
    a revision this secscan does not know (a newer secscan's) is refused. Both backends use it."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
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


def migrate_with_alembic(path: Path) -> str:
    """Bring the database at ``path`` to head with Alembic, in one transaction; the revision."""
    from sqlalchemy.exc import SQLAlchemyError

    engine = sqlalchemy_engine(path)
    try:
        with engine.connect() as conn, conn.begin():
            return upgrade_to_head(conn, str(path))
    except SQLAlchemyError as exc:
        raise _unusable(path, exc) from exc
    finally:
        engine.dispose()


def ensure_schema(db: Database) -> str:
    """Create or upgrade the schema of ``db`` to head; return the revision. Refuses newer databases."""
    try:
        with db.transaction(write=False) as conn:
            if stamped_revision(conn) == SCHEMA_REVISION:
                return SCHEMA_REVISION
        if _create(db):
            return SCHEMA_REVISION
    except sqlite3.Error as exc:
        raise _unusable(db.path, exc) from exc
    return migrate_with_alembic(db.path)


def _create(db: Database) -> bool:
    """Create the schema of a database that has none from :mod:`schema_head`, in one ``BEGIN
    IMMEDIATE`` transaction (another process creating it at the same time: the second finds it
    there); False, with nothing done, when the database has any schema or the statements are
    not this head's."""
    from secscan.store.sqlite import schema_head

    if schema_head.REVISION != SCHEMA_REVISION:
        return False
    with db.transaction(write=True) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None:
            return False
        logger.info("migrating database %s from empty to %s", db.path, SCHEMA_REVISION)
        for statement in schema_head.STATEMENTS:
            conn.execute(statement)
        conn.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (SCHEMA_REVISION,))
    return True


def _unusable(path: Path, exc: Exception) -> StoreError:
    return StoreError(f"cannot open or migrate database {path}: {exc.__class__.__name__}: {exc}")
