"""Where the store's SQL differs between SQLite and PostgreSQL: one small table, two rows.

The store's statements are hand-written and shared by both backends (``?`` and ``:name``
placeholders; the PostgreSQL connection rewrites them to psycopg's). The few constructs that have
no common spelling are taken from the connection's :class:`Dialect`:

=====================  ====================================  ===================================
construct              SQLite                                PostgreSQL
=====================  ====================================  ===================================
IN-list of a sequence  ``IN (SELECT value FROM json_each(?))``  ``= ANY(?)`` (an array parameter)
rows of a sequence     ``json_each(?)``                      ``unnest(?::bigint[]) AS j(value)``
fingerprint column     32 raw bytes for a SHA-256 hex digest  the hex text itself (one type)
fingerprint as text    ``typeof``/``hex`` CASE               the column
no sub-query flatten   ``LIMIT -1``                          (nothing: the planner does not care)
join order hint        ``CROSS JOIN``                        ``JOIN``
claim rows             (the write transaction holds all)     ``FOR UPDATE SKIP LOCKED``
two-argument max       scalar ``max(a, b)``                  ``GREATEST`` (NULL kept as NULL)
string aggregate       ``group_concat(x)``                   ``string_agg(x, ',')``
=====================  ====================================  ===================================

Everything else (``ON CONFLICT``, ``RETURNING``, window-free aggregates, integer arithmetic) is
spelled the same on both. A connection of either backend names its dialect with
:func:`dialect_of`.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Dialect:
    """The differing spellings of one backend (see the module's table)."""

    name: str
    binary_fingerprints: bool
    fingerprint_text: str
    no_flatten: str
    join_first: str
    skip_locked: str

    def in_list(self, values: Collection[Any]) -> tuple[str, Any]:
        """An ``IN``-list over a parameter: ``(sql fragment, parameter)``, the fragment to follow
        the tested expression (``f.id {fragment}``)."""
        if self.name == "postgresql":
            if values and type(next(iter(values))) is int:  # a list is of one type
                return "= ANY(?::bigint[])", _int_array(values)
            return "= ANY(?)", list(values)
        return "IN (SELECT value FROM json_each(?))", json.dumps(list(values))

    def id_rows(self, values: Collection[int]) -> tuple[str, Any]:
        """A ``FROM`` item with one integer column ``value`` per element: ``(fragment, parameter)``."""
        if self.name == "postgresql":
            return "unnest(?::bigint[]) AS j(value)", _int_array(values)
        return "json_each(?)", json.dumps(list(values))

    def greatest(self, a: str, b: str) -> str:
        """The larger of two integer expressions; NULL when either is NULL (as SQLite's ``max``)."""
        if self.name == "postgresql":
            return f"(CASE WHEN ({a}) IS NULL OR ({b}) IS NULL THEN NULL ELSE GREATEST({a}, {b}) END)"
        return f"max({a}, {b})"

    def list_agg(self, expr: str) -> str:
        """The values of ``expr`` joined with commas (order unspecified)."""
        if self.name == "postgresql":
            return f"string_agg({expr}, ',')"
        return f"group_concat({expr})"

    def new_ids(self, conn: Any, table: str, count: int) -> list[int]:
        """``count`` new ids of ``table`` (a fixed name) for rows this transaction inserts: from
        the table's sequence on PostgreSQL; on SQLite, whose write transaction holds the whole
        database, the ones after the largest."""
        if self.name == "postgresql":
            rows = conn.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, ?)",  # noqa: S608
                (count,),
            ).fetchall()
            return [int(row[0]) for row in rows]
        first = int(conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])  # noqa: S608
        return list(range(first, first + count))

    def encode_fingerprint(self, fingerprint: str) -> bytes | str:
        """A fingerprint as the findings table stores it."""
        if self.binary_fingerprints and len(fingerprint) == 64 and _HEX.issuperset(fingerprint):
            return bytes.fromhex(fingerprint)
        return fingerprint


def _int_array(values: Collection[int]) -> str:
    """Integers as one PostgreSQL array literal (``{1,2,3}``), cast by the statement: a sweep
    sends 170k ids, which psycopg's list dumper adapts one Python call per element (0.35 s)."""
    return "{" + ",".join(map(str, values)) + "}"


SQLITE = Dialect(
    name="sqlite",
    binary_fingerprints=True,
    fingerprint_text=(
        "CASE WHEN typeof(f.fingerprint) = 'blob' THEN lower(hex(f.fingerprint)) ELSE f.fingerprint END"
    ),
    no_flatten="LIMIT -1",
    join_first="CROSS JOIN",
    skip_locked="",
)
POSTGRESQL = Dialect(
    name="postgresql",
    binary_fingerprints=False,
    fingerprint_text="f.fingerprint",
    no_flatten="",
    join_first="JOIN",
    skip_locked="FOR UPDATE SKIP LOCKED",
)


def dialect_of(conn: object) -> Dialect:
    """The dialect of a store connection (an ``sqlite3.Connection`` has none of its own)."""
    found = getattr(conn, "dialect", SQLITE)
    return found if isinstance(found, Dialect) else SQLITE
