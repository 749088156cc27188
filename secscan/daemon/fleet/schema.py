"""``secscan fleet migrate``: secscan's schema, Procrastinate's schema and the fleet's two tables.

Run by the command and on every worker start and ``scan-now`` (first use migrates), under one
advisory lock so that workers starting together do not race. secscan's store migrates through
its own Alembic chain; Procrastinate's schema is applied whole to a database without it. A
database whose Procrastinate schema came from another Procrastinate version is refused with the
versions named: Procrastinate upgrades by its own SQL migration files, which an operator applies
(``procrastinate schema --migrations-path`` lists them), never secscan behind their back.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from secscan.core.errors import StoreError
from secscan.fs.urls import PostgresUrl

log = logging.getLogger(__name__)

_LOCK = (0x5EC5CA + 17, 1)  # the fleet's migration lock (secscan's own advisory namespace + 17)

FLEET_DDL = """
CREATE TABLE IF NOT EXISTS secscan_fleet_meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS secscan_fleet_rounds (
    round_key text PRIMARY KEY,
    due_at timestamptz NOT NULL,
    origin text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    late_alerted boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS secscan_fleet_targets (
    round_key text NOT NULL REFERENCES secscan_fleet_rounds ON DELETE CASCADE,
    target text NOT NULL,
    queue text NOT NULL,
    job_id bigint,
    state text NOT NULL DEFAULT 'queued',
    attempts integer NOT NULL DEFAULT 0,
    worker text,
    run_id text,
    started_at timestamptz,
    finished_at timestamptz,
    detail text,
    PRIMARY KEY (round_key, target)
);
CREATE INDEX IF NOT EXISTS secscan_fleet_targets_state ON secscan_fleet_targets (state);
"""


def procrastinate_version() -> str:
    from importlib.metadata import version

    return version("procrastinate")


def migrate(url: PostgresUrl) -> str:
    """Bring the database of ``url`` to the fleet's head; returns what was done, for a message."""
    from secscan.store import open_store

    open_store(url.conninfo).close()  # secscan's store: Alembic, under the store's own lock
    try:
        with psycopg.connect(url.conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", _LOCK)
            try:
                return _migrate_fleet(conn, url)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", _LOCK)
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot migrate the fleet's tables in {url.display}: {exc}".splitlines()[0]
        ) from exc


def _migrate_fleet(conn: psycopg.Connection[Any], url: PostgresUrl) -> str:
    wanted = procrastinate_version()
    has_queue = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
    with conn.transaction():
        conn.execute(FLEET_DDL)
        row = conn.execute("SELECT value FROM secscan_fleet_meta WHERE key = 'procrastinate'").fetchone()
        if has_queue and has_queue[0]:
            if row is not None and row[0] != wanted:
                raise StoreError(
                    f"{url.display} holds Procrastinate {row[0]}'s schema and this is {wanted}: apply "
                    f"Procrastinate's migrations from {row[0]} to {wanted}, then set the row 'procrastinate' "
                    f"of secscan_fleet_meta to {wanted}"
                )
            done = "up to date"
        else:
            from procrastinate.schema import SchemaManager

            conn.execute(SchemaManager.get_schema())
            done = f"Procrastinate {wanted} schema applied"
        conn.execute(
            "INSERT INTO secscan_fleet_meta (key, value) VALUES ('procrastinate', %s) "
            "ON CONFLICT (key) DO NOTHING",
            (wanted,),
        )
    log.info("fleet schema of %s: %s", url.display, done)
    return done
