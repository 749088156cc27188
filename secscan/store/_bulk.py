"""Bulk SQL over the findings and history tables: plain ``executemany`` with tuple rows.

The statements are built once, only from the fixed column lists in ``_rows``; values always
travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from secscan.store._rows import HISTORY_COLUMNS, READ_COLUMNS, WRITE_COLUMNS

_SELECT = "SELECT {}, t.name FROM findings f JOIN targets t ON t.id = f.target_id WHERE ".format(  # noqa: S608 - fixed column names
    ", ".join(f"f.{c}" for c in READ_COLUMNS)
)
_INSERT_COLUMNS = (*WRITE_COLUMNS, "target_id", "last_run_id")
_INSERT = "INSERT INTO findings ({}) VALUES ({})".format(  # noqa: S608
    ", ".join(_INSERT_COLUMNS), ", ".join("?" * len(_INSERT_COLUMNS))
)
_HISTORY = "INSERT INTO history ({}) VALUES ({})".format(  # noqa: S608
    ", ".join(HISTORY_COLUMNS), ", ".join("?" * len(HISTORY_COLUMNS))
)


def select_findings(conn: Connection, where: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Rows of :data:`READ_COLUMNS` plus the target name (last) for a fixed ``WHERE`` clause."""
    return list(conn.exec_driver_sql(_SELECT + where, params).all())


def insert_findings(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows of :data:`WRITE_COLUMNS` + ``(target_id, last_run_id)``."""
    if rows:
        conn.exec_driver_sql(_INSERT, list(rows))


def update_findings(conn: Connection, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Update the fixed ``columns`` from rows of ``(*values, id)``."""
    if rows:
        sets = ", ".join(f"{c} = ?" for c in columns)
        conn.exec_driver_sql("UPDATE findings SET " + sets + " WHERE id = ?", list(rows))  # noqa: S608


def insert_history(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        conn.exec_driver_sql(_HISTORY, list(rows))
