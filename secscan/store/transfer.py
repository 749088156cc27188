"""Copying a whole store to another backend (``secscan db copy``), and checking the copy.

Every table of the schema is copied row by row in foreign-key order with its ids, so what refers
to what (history to findings, findings to runs) stays as it was; only the encodings the two
backends differ in are converted (fingerprints: 32 raw bytes or text on SQLite, text on
PostgreSQL; booleans). PostgreSQL's sequences are moved past the copied ids. The destination
must hold no data yet.

:func:`verify` then compares the two stores table by table, every row in a canonical form
(every finding, history entry and triage decision among them), and the findings as the store
reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from secscan.core.errors import StoreError
from secscan.core.ports.store import FindingQuery, Store
from secscan.store.dialect import dialect_of
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.texts import decode_fingerprint

logger = logging.getLogger(__name__)

_FINGERPRINTS = {"findings", "alert_incidents", "alert_incident_members"}
_BATCH = 20_000


@dataclass(frozen=True)
class CopyReport:
    """Rows copied, per table (in copy order)."""

    rows: tuple[tuple[str, int], ...]

    def count(self, table: str) -> int:
        return dict(self.rows).get(table, 0)


def _tables() -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(table, columns, primary key columns) of the schema, parents before children."""
    from sqlmodel import SQLModel

    import secscan.store.sqlite.tables  # noqa: F401 - registers the tables on SQLModel.metadata

    return [
        (t.name, tuple(c.name for c in t.columns), tuple(c.name for c in t.primary_key.columns))
        for t in SQLModel.metadata.sorted_tables
    ]


def _transaction(store: Store, write: bool) -> Any:
    tx: Callable[[bool], Any] | None = getattr(store, "_tx", None)
    if tx is None:
        raise StoreError(f"{type(store).__name__} cannot be copied")
    return tx(write)


def _canonical(table: str, columns: Sequence[str], row: Sequence[Any]) -> tuple[Any, ...]:
    """A row in a form both backends agree on (hex fingerprints, booleans as integers)."""
    values = list(row)
    for i, column in enumerate(columns):
        value = values[i]
        if column == "fingerprint" and table in _FINGERPRINTS and value is not None:
            values[i] = decode_fingerprint(value)
        elif isinstance(value, bool):
            values[i] = int(value)
    return tuple(values)


def _rows(
    conn: Connection, table: str, columns: Sequence[str], key: Sequence[str]
) -> Iterator[list[Any]]:
    cursor = conn.execute(
        f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(key)}"  # noqa: S608 - schema names
    )
    while batch := cursor.fetchmany(_BATCH):
        yield batch


def copy_store(source: Store, destination: Store) -> CopyReport:
    """Copy every row of ``source`` into the empty ``destination``, in one transaction of each."""
    copied: list[tuple[str, int]] = []
    with _transaction(source, False) as src, _transaction(destination, True) as dst:
        encode = dialect_of(dst).encode_fingerprint
        to_bool = dialect_of(dst).name == "postgresql"
        tables = [t for t in _tables() if t[0] != "alembic_version"]
        for table, _, _ in tables:
            if dst.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:  # noqa: S608
                raise StoreError(
                    f"the destination database already holds data (table {table}); copy into an empty one"
                )
        for table, columns, key in tables:
            booleans = {i for i, c in enumerate(columns) if table == "alert_incidents" and c == "grouped"}
            fp_at = columns.index("fingerprint") if table in _FINGERPRINTS else -1
            total = 0
            for batch in _rows(src, table, columns, key):
                out = []
                for row in batch:
                    values = list(row)
                    if fp_at >= 0 and values[fp_at] is not None:
                        values[fp_at] = encode(decode_fingerprint(values[fp_at]))
                    for i in booleans:
                        values[i] = bool(values[i]) if to_bool else int(values[i])
                    out.append(tuple(values))
                _bulk.insert_rows(dst, table, columns, out)
                total += len(out)
            copied.append((table, total))
            logger.info("copied %d rows of %s", total, table)
        if dialect_of(dst).name == "postgresql":
            for table, _, key in tables:
                if key == ("id",):
                    dst.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                    )
    return CopyReport(tuple(copied))


def verify(source: Store, destination: Store) -> list[str]:
    """What differs between the two stores (empty: the copy is faithful): every row of every
    table in canonical form, and each target's findings as the store reads them."""
    problems: list[str] = []
    with _transaction(source, False) as src, _transaction(destination, False) as dst:
        for table, columns, key in _tables():
            if table == "alembic_version":
                continue
            left = [_canonical(table, columns, r) for b in _rows(src, table, columns, key) for r in b]
            right = [_canonical(table, columns, r) for b in _rows(dst, table, columns, key) for r in b]
            if "fingerprint" in key:  # SQLite orders its BLOB and TEXT fingerprints apart
                left, right = sorted(left, key=repr), sorted(right, key=repr)
            if left != right:
                differ = sum(a != b for a, b in zip(left, right, strict=False))
                counts = f"{len(left)} rows in the source, {len(right)} in the copy"
                problems.append(f"table {table}: {counts}, {differ} differ")
    targets = {f.target for f in source.list_findings(FindingQuery())}
    for target in sorted(targets):
        query = FindingQuery(target=target)
        if source.list_findings(query) != destination.list_findings(query):
            problems.append(f"the findings of target {target} differ")
    return problems
