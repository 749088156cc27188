"""The SQLite implementation of :class:`~secscan.core.ports.outbox.Outbox` over ``outbox_*`` tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from secscan.core.errors import StoreError
from secscan.core.ports.outbox import Outbox, OutboxItem, OutboxName, OutboxStatus
from secscan.fs.names import escape_surrogates
from secscan.store.dialect import dialect_of
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.rows import from_ts, to_ts

TABLES: Mapping[OutboxName, str] = {"uploads": "outbox_uploads", "alerts": "outbox_alerts"}
_COLUMNS = "id, kind, key, payload, status, attempts, next_attempt_at, created_at, delivered_at, last_error"
MAX_ERROR = 2000  # characters of an error kept per item

Transaction = Callable[[bool], AbstractContextManager[Connection]]


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _encode(payload: Mapping[str, Any]) -> str:
    """The payload as JSON text that SQLite can store (a path's surrogate escapes as ``\\u``)."""
    return escape_surrogates(_JSON(payload))


def insert_items(
    conn: Connection, name: OutboxName, items: Iterable[tuple[str, str, Mapping[str, Any]]], now: datetime
) -> int:
    """Queue ``(kind, key, payload)`` items on ``conn``'s open write transaction (a key queued
    before is ignored); returns how many were new. Shared by :meth:`SqliteOutbox.enqueue_many`
    and producers that queue inside a transaction of their own (the alerts' incident state)."""
    ts = to_ts(now)
    rows = [(kind, key, _encode(payload), ts, ts) for kind, key, payload in items]
    if not rows:
        return 0
    sql = (
        f"INSERT INTO {TABLES[name]} (kind, key, payload, status, attempts, next_attempt_at, "
        "created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT(key) DO NOTHING"
    )
    return int(conn.executemany(sql, rows).rowcount)


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        kind=row[1],
        key=row[2],
        payload=json.loads(row[3]),
        status=OutboxStatus(row[4]),
        attempts=row[5],
        next_attempt_at=from_ts(row[6]),
        created_at=from_ts(row[7]),
        delivered_at=from_ts(row[8]) if row[8] is not None else None,
        last_error=row[9],
    )


class SqliteOutbox(Outbox):
    """One outbox table; ``tx(write)`` opens a store transaction."""

    def __init__(self, name: OutboxName, tx: Transaction) -> None:
        self._name = name
        self._table = TABLES[name]
        self._tx = tx

    def enqueue(self, kind: str, key: str, payload: Mapping[str, Any], now: datetime) -> bool:
        return self.enqueue_many([(kind, key, payload)], now) == 1

    def enqueue_many(self, items: Iterable[tuple[str, str, Mapping[str, Any]]], now: datetime) -> int:
        with self._tx(True) as conn:
            return insert_items(conn, self._name, items, now)

    def _due_sql(
        self, now: datetime, limit: int, kinds: Collection[str] | None
    ) -> tuple[str, list[Any]] | None:
        sql = f"SELECT {_COLUMNS} FROM {self._table} WHERE status = 'pending' AND next_attempt_at <= ?"
        params: list[Any] = [to_ts(now)]
        if kinds is not None:
            if not kinds:
                return None
            sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params.extend(kinds)
        sql += " ORDER BY next_attempt_at, id LIMIT ?"
        params.append(limit)
        return sql, params

    def due(
        self, now: datetime, limit: int = 100, kinds: Collection[str] | None = None
    ) -> tuple[OutboxItem, ...]:
        query = self._due_sql(now, limit, kinds)
        if query is None:
            return ()
        with self._tx(False) as conn:
            return tuple(_item(r) for r in conn.execute(query[0], tuple(query[1])))

    def claim(
        self, now: datetime, lease: timedelta, limit: int = 100, kinds: Collection[str] | None = None
    ) -> tuple[OutboxItem, ...]:
        query = self._due_sql(now, limit, kinds)
        if query is None:
            return ()
        with self._tx(True) as conn:
            # PostgreSQL: rows another deliverer is claiming are skipped, not waited for; SQLite's
            # write transaction holds the whole database, so nobody else claims meanwhile.
            rows = conn.execute(f"{query[0]} {dialect_of(conn).skip_locked}", tuple(query[1])).fetchall()
            if rows:
                among, param = dialect_of(conn).in_list([r[0] for r in rows])
                conn.execute(
                    f"UPDATE {self._table} SET next_attempt_at = ? WHERE id {among}",
                    (to_ts(now + lease), param),
                )
        return tuple(_item(r) for r in rows)

    def _update(self, item_id: int, sql: str, params: tuple[Any, ...]) -> None:
        with self._tx(True) as conn:
            result = conn.execute(f"UPDATE {self._table} SET {sql} WHERE id = ?", (*params, item_id))
            if result.rowcount != 1:
                raise StoreError(f"outbox item {item_id} does not exist; see 'secscan alerts'")

    def delivered(self, item_id: int, now: datetime) -> None:
        self._update(
            item_id, "status = 'delivered', attempts = attempts + 1, delivered_at = ?", (to_ts(now),)
        )

    def retry(self, item_id: int, now: datetime, error: str, next_at: datetime) -> None:
        self._update(
            item_id,
            "status = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ?",
            (max(to_ts(next_at), to_ts(now)), error[:MAX_ERROR]),
        )

    def dead(self, item_id: int, now: datetime, error: str) -> None:
        self._update(
            item_id, "status = 'dead', attempts = attempts + 1, last_error = ?", (error[:MAX_ERROR],)
        )

    def requeue(self, item_id: int, now: datetime) -> OutboxItem:
        self._update(item_id, "status = 'pending', next_attempt_at = ?", (to_ts(now),))
        item = self.get(item_id)
        assert item is not None  # noqa: S101 - updated just now
        return item

    def items(self, status: OutboxStatus | None = None, limit: int = 100) -> tuple[OutboxItem, ...]:
        where, params = ("WHERE status = ?", (status.value,)) if status else ("", ())
        sql = f"SELECT {_COLUMNS} FROM {self._table} {where} ORDER BY id DESC LIMIT ?"
        with self._tx(False) as conn:
            return tuple(_item(r) for r in conn.execute(sql, (*params, limit)))

    def get(self, item_id: int) -> OutboxItem | None:
        with self._tx(False) as conn:
            sql = f"SELECT {_COLUMNS} FROM {self._table} WHERE id = ?"
            row = conn.execute(sql, (item_id,)).fetchone()
        return _item(row) if row is not None else None

    def depth(self) -> Mapping[OutboxStatus, int]:
        with self._tx(False) as conn:
            rows = conn.execute(f"SELECT status, count(*) FROM {self._table} GROUP BY status").fetchall()
        counts = {status: 0 for status in OutboxStatus}
        counts.update({OutboxStatus(s): n for s, n in rows})
        return counts

    def prune(self, delivered_before: datetime) -> int:
        with self._tx(True) as conn:
            result = conn.execute(
                f"DELETE FROM {self._table} WHERE status = 'delivered' AND delivered_at < ?",
                (to_ts(delivered_before),),
            )
        return int(result.rowcount)

