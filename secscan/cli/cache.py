"""``secscan cache stats|clear``: the handlers (their options: :mod:`secscan.cli.commands`)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from secscan.config.memo import load_settings_memo
from secscan.core.errors import StoreError
from secscan.fs.paths import existing_database
from secscan.fs.sqlitefile import is_database

if TYPE_CHECKING:
    from rich.console import Console

    from secscan.config.cache import CacheConfig


def _cache_config(args: argparse.Namespace) -> CacheConfig:
    """The ``[cache]`` settings; without ``[cache] path`` the cache lives beside the lifecycle
    database, which must then be one: a missing database, a folder, ``/dev/null`` or a file that
    is not SQLite is refused (StoreError, exit 2) before a cache file is created beside it."""
    config = load_settings_memo(args.config).cache
    if config.path is None:
        path = existing_database(args.db)  # None: PostgreSQL, whose cache is in the state folder
        if path is not None and not is_database(path):
            raise StoreError(f"{path} is not an SQLite database; pass --db with secscan's database")
    return config


def cmd_stats(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.scanners.cache.api import cache_stats, stats_document, stats_lines

    stats = cache_stats(_cache_config(args), args.db)
    if args.format == "json":
        stdout.out(json.dumps(stats_document(stats)), highlight=False)
    else:
        for line in stats_lines(stats):
            stdout.out(line, highlight=False)
    return 0


def cmd_clear(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.scanners.cache.api import clear_cache

    removed = clear_cache(_cache_config(args), args.db)
    stdout.out(f"result cache cleared: {removed} entries removed", highlight=False)
    return 0
