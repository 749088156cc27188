"""Bulk SQL over the findings and history tables: plain ``executemany`` with tuple rows.

Callers speak in the logical columns of ``_rows`` (``tool``, ``path``, ``fingerprint`` as hex
text...); this module maps them to the stored encoding (interned ``*_ref`` ids, 32-byte
fingerprints, see ``_texts``) on the way in and back on the way out, and the derived SLA
columns (:data:`SLA_COLUMNS`) to their own narrow table ``finding_sla`` (one row per finding,
written with it). The
statements are built only from the fixed column lists in ``_rows``; values always travel as
parameters.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from secscan.core.changeset import SNAPSHOT_COLUMNS
from secscan.fs.names import from_db
from secscan.store.dialect import POSTGRESQL, SQLITE, dialect_of
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.rows import HISTORY_COLUMNS, READ_COLUMNS, SLA_COLUMNS, WRITE_COLUMNS
from secscan.store.sqlite.texts import intern

# logical column -> (stored column, alias of its ``texts`` join)
TEXT_REFS = {
    "tool": ("tool_ref", "xt"),
    "rule_id": ("rule_ref", "xr"),
    "path": ("path_ref", "xp"),
    "message": ("message_ref", "xm"),
}
TOOL = "xt.value"
"""SQL expression of a finding's tool in :func:`select_findings` clauses."""
FINGERPRINT = SQLITE.fingerprint_text
"""SQL of a finding's fingerprint as text on SQLite (``dialect_of(conn).fingerprint_text`` on any)."""


_SLA_JOIN = "LEFT JOIN finding_sla s ON s.finding_id = f.id"
"""The SLA columns of each finding (``s.``); a LEFT JOIN, so a finding never drops out of a read."""


def _read_expr(column: str) -> str:
    if column == "fingerprint":
        return "{fingerprint}"
    if column in TEXT_REFS:
        return f"{TEXT_REFS[column][1]}.value"
    return f"s.{column}" if column in SLA_COLUMNS else f"f.{column}"


_SELECT = "SELECT {}, t.name FROM findings f JOIN targets t ON t.id = f.target_id {} {} WHERE ".format(  # noqa: S608
    ", ".join(_read_expr(c) for c in READ_COLUMNS),
    " ".join(f"JOIN texts {alias} ON {alias}.id = f.{ref}" for ref, alias in TEXT_REFS.values()),
    _SLA_JOIN,
)
_SELECTS = {d: _SELECT.replace("{fingerprint}", d.fingerprint_text) for d in (SQLITE, POSTGRESQL)}
_FINDING_COLUMNS = (*WRITE_COLUMNS[: -len(SLA_COLUMNS)], "target_id", "last_run_id")


def _stored(column: str) -> str:
    return TEXT_REFS[column][0] if column in TEXT_REFS else column


_INSERT_SLA = "INSERT INTO finding_sla (finding_id, {}) VALUES (?, {})".format(  # noqa: S608
    ", ".join(SLA_COLUMNS), ", ".join("?" * len(SLA_COLUMNS))
)
_UPSERT_SLA = (
    _INSERT_SLA
    + " ON CONFLICT (finding_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in SLA_COLUMNS)
)

@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one bulk step (restored after, if it was on).

    A bulk step allocates 100k+ tuples, dicts and dataclasses, none in a reference cycle; the
    collector would walk the growing heap again and again (a third of a sweep's Python time).
    Reference counting still frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _snapshot_expr(column: str) -> str:
    return f"s.{column}" if column in SLA_COLUMNS else f"f.{_stored(column)}"


_SNAPSHOT_SELECT = "SELECT {}, f.id FROM findings f {} WHERE f.target_id = ?".format(  # noqa: S608
    ", ".join(_snapshot_expr(c) for c in SNAPSHOT_COLUMNS), _SLA_JOIN
)
_TEXT_AT = tuple(i for i, c in enumerate(SNAPSHOT_COLUMNS) if c in TEXT_REFS)


def select_snapshot(conn: Connection, target_id: int) -> tuple[list[Any], dict[int, str]]:
    """A target's rows in :class:`~secscan.core.changeset.Snapshot` form (stored fingerprints, text
    ids; the row id appended last) and the ``texts`` they refer to.

    The bulk read of every run: no join per row, and each distinct text is read (and allocated)
    once.
    """
    rows = read_plain(conn, _SNAPSHOT_SELECT, (target_id,))
    return rows, load_texts(conn, {row[i] for row in rows for i in _TEXT_AT})


def read_plain(conn: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """The rows of a bulk read whose text columns never hold what :func:`~secscan.fs.names.to_db`
    made bytes of (ids, fingerprints, states, times; no ``texts`` value): on PostgreSQL they load
    with the driver's C text loader (``PgConnection.execute_plain``)."""
    plain = getattr(conn, "execute_plain", conn.execute)
    return list(plain(sql, params).fetchall())


def pipelined(conn: Connection) -> AbstractContextManager[object]:
    """A block whose statements the server may run while the client goes on (psycopg's pipeline
    mode on PostgreSQL: a statement's errors surface at the block's end, and reading a result
    waits for everything before it); on SQLite, which runs in this process, a plain block."""
    pipeline = getattr(conn, "pipeline", None)
    return nullcontext() if pipeline is None else pipeline()


def load_texts(conn: Connection, ids: Collection[int]) -> dict[int, str]:
    """The values of the ``texts`` ids."""
    among, param = dialect_of(conn).in_list(ids)
    found = conn.execute(f"SELECT id, value FROM texts WHERE id {among}", (param,))  # noqa: S608
    return {pk: value if type(value) is str else from_db(value) for pk, value in found.fetchall()}


def select_findings(conn: Connection, where: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Rows of :data:`READ_COLUMNS` plus the target name (last) for a fixed ``WHERE`` clause.

    ``where`` may use ``f.<stored column>``, ``s.<SLA column>``, ``t.name`` and :data:`TOOL`.
    """
    return list(conn.execute(_SELECTS[dialect_of(conn)] + where, params).fetchall())


def _encode(
    conn: Connection, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Rows with their text columns as ``texts`` ids and fingerprints in stored form."""
    encode_fingerprint = dialect_of(conn).encode_fingerprint
    text_at = [i for i, c in enumerate(columns) if c in TEXT_REFS]
    fp_at = columns.index("fingerprint") if "fingerprint" in columns else None
    ids = intern(conn, (row[i] for row in rows for i in text_at))
    out = []
    for row in rows:
        values = list(row)
        for i in text_at:
            values[i] = ids[values[i]]
        if fp_at is not None:
            values[fp_at] = encode_fingerprint(values[fp_at])
        out.append(tuple(values))
    return out


_SLA_AT = len(WRITE_COLUMNS) - len(SLA_COLUMNS)


def insert_findings(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[int]:
    """Insert rows of :data:`WRITE_COLUMNS` + ``(target_id, last_run_id)``; returns their ids.

    The ids are allocated here, in order (the write transaction holds the database lock), so
    each finding's SLA row is written with it and callers need no read-back.
    """
    if not rows:
        return []
    ids = dialect_of(conn).new_ids(conn, "findings", len(rows))
    at, end = _SLA_AT, _SLA_AT + len(SLA_COLUMNS)
    plain = _encode(conn, _FINDING_COLUMNS, [row[:at] + row[end:] for row in rows])
    insert_rows(conn, "findings", ("id", *map(_stored, _FINDING_COLUMNS)),
                [(pk, *row) for pk, row in zip(ids, plain, strict=True)])  # fmt: skip
    insert_rows(conn, "finding_sla", ("finding_id", *SLA_COLUMNS),
                [(pk, *row[at:end]) for pk, row in zip(ids, rows, strict=True)])  # fmt: skip
    return ids


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``rows`` into ``table`` (a fixed name): ``executemany`` on SQLite, ``COPY`` on
    PostgreSQL (its bulk path)."""
    copy = getattr(conn, "copy_rows", None)
    if copy is not None:
        copy(table, columns, rows)
        return
    marks = ", ".join("?" * len(columns))
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608


def update_findings(conn: Connection, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Update the fixed ``columns`` from rows of ``(*values, id)``; a fingerprint never changes.

    :data:`SLA_COLUMNS` among ``columns`` must be all three, last but for those after them.
    """
    if not rows:
        return
    if "fingerprint" in columns:
        at = columns.index("fingerprint")
        columns = [c for i, c in enumerate(columns) if i != at]
        rows = [row[:at] + row[at + 1 :] for row in rows]
    if SLA_COLUMNS[0] in columns:
        at = columns.index(SLA_COLUMNS[0])
        end = at + len(SLA_COLUMNS)
        if tuple(columns[at:end]) != SLA_COLUMNS:
            raise ValueError(f"the SLA columns must come together: {columns}")
        conn.executemany(_UPSERT_SLA, [(row[-1], *row[at:end]) for row in rows])
        columns = [*columns[:at], *columns[end:]]
        rows = [row[:at] + row[end:] for row in rows]
        if not columns:
            return
    sets = ", ".join(f"{_stored(c)} = ?" for c in columns)
    encoded = _encode(conn, (*columns, "id"), rows)
    conn.executemany("UPDATE findings SET " + sets + " WHERE id = ?", encoded)  # noqa: S608


def touch_findings(conn: Connection, ids: Mapping[str, Sequence[int]], last_seen: int, run_pk: int) -> None:
    """Set ``state``, ``last_seen`` and ``last_run_id`` of findings seen again (state -> row ids).

    One set-based statement per state: the re-ingest path, where nothing else changed.
    """
    for state, pks in ids.items():
        if pks:
            among, param = dialect_of(conn).in_list(pks)
            conn.execute(
                f"UPDATE findings SET state = ?, last_seen = ?, last_run_id = ? WHERE id {among}",  # noqa: S608
                (state, last_seen, run_pk, param),
            )


def set_sla(
    conn: Connection, groups: Mapping[tuple[Any, ...], Sequence[int]], *, upsert: bool = False
) -> None:
    """Set the :data:`SLA_COLUMNS` to each group's values on its findings' ids, set-based.

    With ``upsert`` a finding without its ``finding_sla`` row gets one.
    """
    sets = ", ".join(f"{c} = ?" for c in SLA_COLUMNS)
    dialect = dialect_of(conn)
    for values, pks in groups.items():
        if not pks:
            continue
        if upsert:
            rows, param = dialect.id_rows(pks)
            conn.execute(
                f"INSERT INTO finding_sla (finding_id, {', '.join(SLA_COLUMNS)}) "  # noqa: S608
                f"SELECT value, ?, ?, ? FROM {rows} WHERE true ON CONFLICT (finding_id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in SLA_COLUMNS),
                (*values, param),
            )
        else:
            among, param = dialect.in_list(pks)
            conn.execute(
                "UPDATE finding_sla SET " + sets + f" WHERE finding_id {among}",  # noqa: S608
                (*values, param),
            )


def insert_history(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        insert_rows(conn, "history", HISTORY_COLUMNS, rows)
