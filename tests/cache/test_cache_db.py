"""The cache file: integrity, eviction, two processes, stats and clear."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

from secscan.scanners.cache.db import ENTRY_OVERHEAD, ResultCache


def test_round_trip_and_lifetime_counters(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.db"
    with ResultCache(path, 10**8) as cache:
        cache.put_many([(b"a", b"1"), (b"b", b"22")], now=100)
        assert cache.get_many([b"a", b"b", b"c"], now=100) == {b"a": b"1", b"b": b"22"}
        cache.count(hits=2, misses=1)
    with ResultCache(path, 10**8) as reopened:  # survives a restart
        stats = reopened.stats()
        assert (stats.entries, stats.hits, stats.misses) == (2, 2, 1)
        assert stats.entry_bytes == 2 + 3 + 2 * ENTRY_OVERHEAD
        assert reopened.clear() == 2
        assert reopened.stats().entries == 0 and reopened.stats().hits == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_eviction_keeps_the_most_recently_used(tmp_path: Path) -> None:
    value = b"x" * 300_000
    with ResultCache(tmp_path / "c.db", 1024 * 1024) as cache:
        cache.put_many([(b"old", value)], now=1)
        cache.put_many([(b"used", value)], now=2)
        cache.put_many([(b"mid", value)], now=3)
        cache.get_many([b"used"], now=10_000)  # a hit refreshes its last use
        cache.put_many([(b"new", value)], now=10_001)  # over 1 MiB: evict down to 80 %
        left = cache.get_many([b"old", b"used", b"mid", b"new"], now=10_002)
        assert set(left) == {b"used", b"new"}
        assert cache.stats().entry_bytes <= 1024 * 1024


def _writer(path: str, worker: int) -> None:
    with ResultCache(Path(path), 10**9) as cache:
        for i in range(50):
            cache.put_many([(f"{worker}-{i}".encode(), os.urandom(64))], now=i)
            cache.get_many([f"{1 - worker}-{i}".encode()], now=i)


def test_two_processes_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    ResultCache(path, 10**9).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), w)) for w in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with ResultCache(path, 10**9) as cache:
        assert cache.stats().entries == 100


def test_a_tampered_row_is_dropped(tmp_path: Path) -> None:
    import sqlite3

    with ResultCache(tmp_path / "c.db", 10**8) as cache:
        cache.put_many([(b"k", b"value")], now=1)
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute("UPDATE entries SET value = ?", (b"valuE",))
    with ResultCache(tmp_path / "c.db", 10**8) as cache:
        assert cache.get_many([b"k"], now=2) == {}
        assert cache.stats().entries == 0
