"""PostgreSQL connections of the store: a psycopg pool, the shared SQL's placeholders, locks.

The store's statements are written once for both backends with SQLite's ``?`` and ``:name``
placeholders; :class:`PgConnection` rewrites each statement once (cached) to psycopg's ``%s`` and
``%(name)s`` and otherwise offers the two calls the shared modules use (``execute``,
``executemany``), so they run unchanged over either backend (:mod:`secscan.store.dialect`).

Values cross as the SQLite backend hands them over: ``numeric`` aggregates (``sum`` of integers)
load as ``int``, and a string that is not UTF-8 (``secscan.fsnames.to_db`` gives its bytes, a
BLOB in SQLite) is kept in its ``text`` column behind a U+FFFF marker (a noncharacter no path or
message holds) and read back as the same bytes.

Transactions run at READ COMMITTED. Writers are kept apart by transaction-scoped advisory locks
(:func:`lock`): a run's recording holds its target, SLA upkeep the whole store; they release at
commit or rollback, also when the process dies.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

from secscan.store.dialect import POSTGRESQL, Dialect

logger = logging.getLogger(__name__)

_MARK = "\uffff"
_MARK_BYTES = _MARK.encode()
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|::|\?|:([A-Za-z_]\w*)|%")
_NAMESPACE = 0x5EC5CA  # first key of every advisory lock secscan takes

# Second keys of the advisory locks (the first is _NAMESPACE + scope). TARGET is a recording's
# transaction lock, RUN the session lock a whole run holds (``PostgresStore.target_lock``),
# SLOT_RUN the one a daemon holds while it runs a slot (``PostgresStore.slot_lock``).
STORE, TARGET, SLOT, SCHEMA, RUN, SLOT_RUN = 0, 1, 2, 3, 4, 5


@lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """``sql`` with ``?`` as ``%s``, ``:name`` as ``%(name)s`` and a literal ``%`` doubled
    (string literals and ``::`` casts left alone)."""

    def one(match: re.Match[str]) -> str:
        found = match.group(0)
        if found == "?":
            return "%s"
        if found == "%":
            return "%%"
        if match.group(1) is not None:
            return f"%({match.group(1)})s"
        return found

    return _TOKEN.sub(one, sql)


def lock_key(scope: int, name: str = "") -> tuple[int, int]:
    """The two 32-bit keys of an advisory lock on ``name`` within ``scope``."""
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return _NAMESPACE + scope, int.from_bytes(digest, "big", signed=True)


class _NumberLoader(Loader):
    """``numeric`` as ``int`` when whole (``sum`` of integers), else ``float``."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class _MarkedTextLoader(Loader):
    """``text`` as ``str``, or the bytes a marked value stands for."""

    def load(self, data: Any) -> str | bytes:
        raw = bytes(data)
        if raw.startswith(_MARK_BYTES):
            return base64.b64decode(raw[len(_MARK_BYTES) :])
        return raw.decode()


class _MarkedBytesDumper(Dumper):
    """``bytes`` (a value that is not UTF-8) as marked text."""

    format = Format.TEXT

    def dump(self, obj: Any) -> bytes:
        return _MARK_BYTES + base64.b64encode(bytes(obj))


def _configure(conn: psycopg.Connection[Any]) -> None:
    adapters = conn.adapters
    adapters.register_loader("numeric", _NumberLoader)
    for name in ("text", "varchar"):
        adapters.register_loader(name, _MarkedTextLoader)
    adapters.register_dumper(bytes, _MarkedBytesDumper)
    text_oid = adapters.types["text"].oid
    _MarkedBytesDumper.oid = text_oid
    conn.autocommit = False


class PgConnection:
    """One pooled connection inside a transaction, spoken to like ``sqlite3.Connection``."""

    dialect: Dialect = POSTGRESQL

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        cursor.execute(translate(sql), params)
        return cursor

    def execute_plain(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> psycopg.Cursor[Any]:
        """``execute`` for a read none of whose text columns holds a marked value (no interned
        text, root or reason): psycopg's own C loader, not the marker-aware Python one (a
        snapshot's 100k rows have 700k text values)."""
        cursor = self.raw.cursor()
        for name in ("text", "varchar"):
            cursor.adapters.register_loader(name, TextLoader)
        cursor.execute(translate(sql), params)
        return cursor

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        if rows:
            cursor.executemany(translate(sql), rows)
        return cursor

    def pipeline(self) -> AbstractContextManager[object]:
        """psycopg's pipeline mode for the block (see ``bulk.pipelined``)."""
        return self.raw.pipeline()

    def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` with ``COPY`` (the bulk path: several times faster than INSERTs)."""
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.raw.cursor().copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def lock(self, scope: int, name: str = "", *, shared: bool = False) -> None:
        """Take a transaction-scoped advisory lock (waits for a conflicting holder)."""
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        self.raw.execute(f"SELECT {function}(%s, %s)", lock_key(scope, name))


class Database:
    """A pool of connections to one PostgreSQL database (safe to share between threads)."""

    def __init__(self, conninfo: str, display: str, max_size: int = 8) -> None:
        self.conninfo = conninfo
        self.display = display
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            configure=_configure,
            open=False,
            name="secscan",
        )
        self._pool.open(wait=True, timeout=30)

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._pool.connection() as raw:
            yield PgConnection(raw)

    @contextmanager
    def autocommit(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection outside any transaction (``VACUUM``, ``ANALYZE``)."""
        with self._pool.connection() as raw:
            raw.autocommit = True
            try:
                yield raw
            finally:
                raw.autocommit = False

    def close(self) -> None:
        self._pool.close()
