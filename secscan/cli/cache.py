"""The ``secscan cache stats|clear`` subcommands: argument parsing only, over testable functions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.config.settings import load_settings

if TYPE_CHECKING:
    from rich.console import Console


def register(sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Add the subcommands to ``sub``; ``common`` holds the options of every command."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--config", type=Path, help="secscan.toml with a [cache] section (trusted)")
    where.add_argument(
        "--db", metavar="PATH_OR_URL", help="lifecycle database; the cache lives beside it (default: XDG)"
    )
    cache = sub.add_parser("cache", parents=[common], help="the incremental result cache")
    actions = cache.add_subparsers(dest="cache_command", required=True, parser_class=type(cache))
    stats = actions.add_parser("stats", parents=[common, where], help="entries, size on disk and hit rate")
    stats.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    stats.set_defaults(handler=_cmd_stats)
    clear = actions.add_parser("clear", parents=[common, where], help="delete every entry (next run is cold)")
    clear.set_defaults(handler=_cmd_clear)


def _cmd_stats(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.scanners.cache.api import cache_stats, stats_document, stats_lines

    stats = cache_stats(load_settings(args.config).cache, args.db)
    if args.format == "json":
        stdout.out(json.dumps(stats_document(stats)), highlight=False)
    else:
        for line in stats_lines(stats):
            stdout.out(line, highlight=False)
    return 0


def _cmd_clear(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.scanners.cache.api import clear_cache

    removed = clear_cache(load_settings(args.config).cache, args.db)
    stdout.out(f"result cache cleared: {removed} entries removed", highlight=False)
    return 0
