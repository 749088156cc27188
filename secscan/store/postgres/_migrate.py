"""Creating and upgrading a PostgreSQL store's schema through the same Alembic history as SQLite.

A database already at :data:`~secscan.store.sqlite.migrate.SCHEMA_REVISION` is recognised from its
``alembic_version`` row over the store's own connection. Otherwise the upgrade runs in one
transaction that first takes the schema's advisory lock: PostgreSQL's DDL is transactional, so
two processes starting at once on an empty database cannot both create it; the second waits
for the lock, then finds the schema at head. A database whose revision this secscan does not
know is refused.
"""

from __future__ import annotations

from secscan.fs.urls import PostgresUrl
from secscan.store.postgres._db import SCHEMA, Database, lock_key
from secscan.store.sqlite.migrate import SCHEMA_REVISION, upgrade_to_head

_STAMPED = "SELECT version_num FROM alembic_version"


def stamped_revision(db: Database) -> str | None:
    """The single revision in ``alembic_version``, or None (no table, no row, several rows)."""
    with db.transaction() as conn:
        if conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0] is None:  # type: ignore[index]
            return None
        rows = conn.execute(_STAMPED).fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None


def _upgrade(url: PostgresUrl) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    sa_url = url.conninfo.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(sa_url, poolclass=NullPool)
    try:
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, %s)", lock_key(SCHEMA))
            return upgrade_to_head(conn, url.display)
    finally:
        engine.dispose()


def ensure_schema(db: Database, url: PostgresUrl) -> str:
    """Create or upgrade the schema to head; return the revision. Refuses newer databases."""
    if stamped_revision(db) == SCHEMA_REVISION:
        return SCHEMA_REVISION
    return _upgrade(url)
