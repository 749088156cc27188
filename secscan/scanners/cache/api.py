"""``secscan cache stats`` and ``secscan cache clear`` as plain functions (the CLI is glue)."""

from __future__ import annotations

import sqlite3
from typing import Any

from secscan.config.cache import CacheConfig
from secscan.scanners.cache.db import CacheError, CacheStats, ResultCache
from secscan.scanners.cache.paths import cache_path


def _open(config: CacheConfig, db: str | None) -> ResultCache:
    path = cache_path(config, db)
    try:
        return ResultCache(path, config.max_bytes)
    except (OSError, sqlite3.Error) as exc:
        raise CacheError(
            f"result cache {path} cannot be opened ({exc}); check the path and its permissions, "
            "or set [cache] path"
        ) from None


def cache_stats(config: CacheConfig, db: str | None = None) -> CacheStats:
    """Entries, size and lifetime hit rate of the cache beside ``db`` (or at ``[cache] path``)."""
    with _open(config, db) as cache:
        return cache.stats()


def clear_cache(config: CacheConfig, db: str | None = None) -> int:
    """Empty the cache; returns how many entries it held. The next run of every target is cold."""
    with _open(config, db) as cache:
        try:
            return cache.clear()
        except sqlite3.Error as exc:
            raise CacheError(
                f"result cache {cache.path} cannot be cleared ({exc}); retry when no scan is running"
            ) from None


def stats_document(stats: CacheStats) -> dict[str, Any]:
    """The ``--format json`` form of the stats."""
    return {
        "path": str(stats.path),
        "entries": stats.entries,
        "entry_bytes": stats.entry_bytes,
        "file_bytes": stats.file_bytes,
        "max_bytes": stats.max_bytes,
        "hits": stats.hits,
        "misses": stats.misses,
        "hit_rate": None if stats.hit_rate is None else round(stats.hit_rate, 4),
    }


def stats_lines(stats: CacheStats) -> list[str]:
    """The table form of the stats."""
    rate = "-" if stats.hit_rate is None else f"{stats.hit_rate:.1%}"
    return [
        f"cache:     {stats.path}",
        f"entries:   {stats.entries}",
        f"size:      {stats.file_bytes / 1e6:.2f} MB on disk ({stats.entry_bytes / 1e6:.2f} MB of entries, "
        f"limit {stats.max_bytes / 1e6:.0f} MB)",
        f"lookups:   {stats.hits} hits, {stats.misses} misses (hit rate {rate}) since the last clear",
    ]


__all__ = ["CacheStats", "cache_stats", "clear_cache", "stats_document", "stats_lines"]
