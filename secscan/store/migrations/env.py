"""Alembic environment: runs on the connection handed over by ``secscan.store.sqlite.migrate.ensure_schema``.

For development, ``alembic -x url=sqlite:///FILE upgrade head`` with a minimal alembic.ini
(``script_location = secscan/store/migrations``) works too.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel

import secscan.store.sqlite.tables  # noqa: F401 - registers the tables on SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode recreates tables
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database with -x url=sqlite:///FILE")
    with create_engine(url).begin() as conn:
        _run(conn)


_main()
