"""The cache file: one SQLite database of opaque, integrity-checked entries.

It is a cache, so its schema is versioned and simply rebuilt when it is of an unknown version
(:mod:`secscan.scanners.cache.schema`); a file that is not a database (or a damaged one) is moved
aside with its ``-wal`` and ``-shm`` files, never deleted (another process may have it open), and
a new one is started. Entries are ``key -> value`` with a digest
over both: an entry whose digest does not match (a torn write, a bad disk, a hand edit) is
reported as missing and deleted, so the file is re-scanned instead of trusted. Two processes
may share the file (WAL, busy timeout); a write that still cannot get the lock is skipped. When
the entries outgrow ``max_bytes`` the least recently used ones are evicted. The ``stamps`` table
remembers each scanned file's ``stat`` with its content hash (:mod:`secscan.scanners.cache.stamps`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan.core.errors import SecscanError
from secscan.fs import sqlitefile
from secscan.scanners.cache.schema import connect

log = logging.getLogger(__name__)

TOUCH_AFTER_S = 3600
"""A hit refreshes an entry's last use at most once an hour, so warm runs rarely write."""
EVICT_TO = 0.8
"""Eviction frees space down to this fraction of ``max_bytes``."""
ENTRY_OVERHEAD = 48
"""Bytes counted per entry on top of its key, value and digest (row and index bookkeeping)."""
_BATCH = 500


class CacheError(SecscanError):
    """The result cache file cannot be opened or changed (only ``secscan cache`` raises it)."""


@dataclass(frozen=True)
class CacheStats:
    """What ``secscan cache stats`` shows."""

    path: Path
    entries: int
    entry_bytes: int
    file_bytes: int
    max_bytes: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float | None:
        total = self.hits + self.misses
        return self.hits / total if total else None


def digest(key: bytes, value: bytes) -> bytes:
    """The integrity check stored beside each value."""
    return hashlib.blake2b(len(key).to_bytes(4, "big") + key + value, digest_size=16).digest()


class ResultCache:
    """One open cache file. Thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        sqlitefile.create_private(path)  # never opened here: see secscan.fs.sqlitefile
        try:
            self._conn = connect(path)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise  # locked or unreadable: not ours to move
            # Moved aside, not deleted: another process may still have it open.
            aside = sqlitefile.move_aside(path)
            log.warning("result cache %s is damaged (%s); moved to %s, starting a new one", path, exc, aside)
            sqlitefile.create_private(path)
            self._conn = connect(path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def get_many(
        self,
        keys: Sequence[bytes],
        now: int,
        max_age_s: int | None = None,
        touch_with: Callable[[], Sequence[bytes]] | None = None,
    ) -> dict[bytes, bytes]:
        """The intact values of ``keys`` (younger than ``max_age_s`` if given); damaged ones are
        dropped. When a hit's last use is refreshed, so is that of the entries ``touch_with``
        gives (the ones a hit stands for, which are then not read)."""
        found: dict[bytes, bytes] = {}
        damaged: list[bytes] = []
        stale: list[bytes] = []
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), _BATCH):
                batch = unique[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                rows = self._conn.execute(
                    f"SELECT key, value, digest, created_at, used_at FROM entries WHERE key IN ({marks})",  # noqa: S608
                    batch,
                ).fetchall()
                for key, value, check, created_at, used_at in rows:
                    if not isinstance(value, bytes) or digest(key, value) != check:
                        damaged.append(key)
                    elif max_age_s is None or now - created_at <= max_age_s:
                        found[key] = value
                        if now - used_at > TOUCH_AFTER_S:
                            stale.append(key)
        if damaged:
            log.warning("result cache: %d damaged entries ignored and removed", len(damaged))
        if stale and touch_with is not None:
            stale += touch_with()
        self._best_effort(self._refresh, damaged, stale, now)
        return found

    def drop(self, keys: Iterable[bytes]) -> None:
        """Forget entries whose value turned out unusable."""
        self._best_effort(self._refresh, list(keys), [], 0)

    def _refresh(self, damaged: Sequence[bytes], stale: Sequence[bytes], now: int) -> None:
        if not damaged and not stale:
            return
        with self._write() as conn:
            conn.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in damaged])
            conn.executemany("UPDATE entries SET used_at = ? WHERE key = ?", [(now, k) for k in stale])

    def put_many(self, items: Sequence[tuple[bytes, bytes]], now: int) -> None:
        """Store ``(key, value)`` pairs, then evict the least recently used beyond ``max_bytes``."""
        if items:
            self._best_effort(self._put, items, now)

    def _put(self, items: Sequence[tuple[bytes, bytes]], now: int) -> None:
        rows = [(k, v, digest(k, v), len(k) + len(v) + ENTRY_OVERHEAD, now, now) for k, v in items]
        with self._write() as conn:
            conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)", rows)
            total = conn.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0]
            if total > self.max_bytes:
                self._evict(conn, total - int(self.max_bytes * EVICT_TO))

    @staticmethod
    def _evict(conn: sqlite3.Connection, excess: int) -> None:
        freed = 0
        doomed: list[tuple[bytes]] = []
        for key, size in conn.execute("SELECT key, size FROM entries ORDER BY used_at, created_at"):
            if freed >= excess:
                break
            doomed.append((key,))
            freed += size
        conn.executemany("DELETE FROM entries WHERE key = ?", doomed)
        log.info("result cache: evicted %d least recently used entries (%d bytes)", len(doomed), freed)

    def count(self, hits: int, misses: int) -> None:
        """Add a run's hits and misses to the lifetime counters."""
        self._best_effort(self._count, hits, misses)

    def _count(self, hits: int, misses: int) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO counters VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                [("hits", hits), ("misses", misses)],
            )

    def _best_effort(self, action: Callable[..., None], *args: object) -> None:
        """Run a write; a cache that cannot be written (locked, full disk) must not fail a scan."""
        try:
            action(*args)
        except sqlite3.Error as exc:
            log.warning("result cache %s not updated: %s", self.path, exc)

    def memo_get(self, name: str, signature: bytes) -> str | None:
        """A remembered value (e.g. a folder's content hash) if ``signature`` still matches."""
        with self._lock:
            row = self._conn.execute("SELECT signature, value FROM memo WHERE name = ?", (name,)).fetchone()
        return row[1] if row is not None and row[0] == signature else None

    def memo_get_many(self, questions: Sequence[tuple[str, bytes]]) -> dict[str, str]:
        """:meth:`memo_get` of many names at once: name -> value, for the signatures that match."""
        found: dict[str, str] = {}
        wanted = dict(questions)
        names = list(wanted)
        with self._lock:
            for start in range(0, len(names), _BATCH):
                batch = names[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                rows = self._conn.execute(
                    f"SELECT name, signature, value FROM memo WHERE name IN ({marks})",  # noqa: S608
                    batch,
                ).fetchall()
                found |= {name: value for name, signature, value in rows if signature == wanted[name]}
        return found

    def memo_put_many(self, items: Sequence[tuple[str, bytes, str]]) -> None:
        """:meth:`memo_put` of many values in one transaction."""
        if items:
            self._best_effort(self._memo_put_many, items)

    def _memo_put_many(self, items: Sequence[tuple[str, bytes, str]]) -> None:
        with self._write() as conn:
            conn.executemany("INSERT OR REPLACE INTO memo VALUES (?, ?, ?)", items)

    def memo_put(self, name: str, signature: bytes, value: str) -> None:
        self._best_effort(self._memo_put, name, signature, value)

    def _memo_put(self, name: str, signature: bytes, value: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO memo VALUES (?, ?, ?)", (name, signature, value))

    def stamps(self, scope: bytes) -> dict[bytes, bytes]:
        """The intact ``stamps`` rows of ``scope``: path -> value (damaged ones are ignored, and a
        table that cannot be read is an empty one)."""
        query = "SELECT CAST(path AS BLOB), CAST(value AS BLOB), digest FROM stamps WHERE scope = ?"
        try:
            with self._lock:
                rows = self._conn.execute(query, (scope,)).fetchall()
        except sqlite3.Error as exc:
            log.warning("result cache %s: files' stamps not read (%s); files are read", self.path, exc)
            return {}
        prefix = scope + b"\0"
        return {path: value for path, value, check in rows if digest(prefix + path, value) == check}

    def put_stamps(self, scope: bytes, rows: Sequence[tuple[bytes, bytes]], drop: Iterable[bytes]) -> None:
        """Replace ``scope``'s rows of the ``rows`` paths and delete those of the ``drop`` paths."""
        self._best_effort(self._put_stamps, scope, rows, list(drop))

    def _put_stamps(self, scope: bytes, rows: Sequence[tuple[bytes, bytes]], drop: Sequence[bytes]) -> None:
        if not rows and not drop:
            return
        prefix = scope + b"\0"
        with self._write() as conn:
            conn.executemany("DELETE FROM stamps WHERE scope = ? AND path = ?", [(scope, p) for p in drop])
            conn.executemany(
                "INSERT OR REPLACE INTO stamps VALUES (?, ?, ?, ?)",
                [(scope, path, value, digest(prefix + path, value)) for path, value in rows],
            )

    def stats(self) -> CacheStats:
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM entries").fetchone()
            entries, size = row
            counters = dict(self._conn.execute("SELECT name, value FROM counters").fetchall())
        file_bytes = sum(
            Path(f"{self.path}{suffix}").stat().st_size
            for suffix in ("", "-wal")
            if Path(f"{self.path}{suffix}").exists()
        )
        return CacheStats(
            path=self.path,
            entries=entries,
            entry_bytes=size,
            file_bytes=file_bytes,
            max_bytes=self.max_bytes,
            hits=counters.get("hits", 0),
            misses=counters.get("misses", 0),
        )

    def clear(self) -> int:
        """Delete every entry and the counters; returns how many entries there were."""
        with self._write() as conn:
            removed: int = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
            conn.execute("DELETE FROM entries")
            conn.execute("DELETE FROM counters")
            conn.execute("DELETE FROM memo")
            conn.execute("DELETE FROM stamps")
        with self._lock:
            self._conn.execute("VACUUM")
        return removed
