"""``secscan cache stats|clear``: the handlers (their options: :mod:`secscan.cli.commands`)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from secscan.config.memo import load_settings_memo

if TYPE_CHECKING:
    from rich.console import Console


def cmd_stats(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.scanners.cache.api import cache_stats, stats_document, stats_lines

    stats = cache_stats(load_settings_memo(args.config).cache, args.db)
    if args.format == "json":
        stdout.out(json.dumps(stats_document(stats)), highlight=False)
    else:
        for line in stats_lines(stats):
            stdout.out(line, highlight=False)
    return 0


def cmd_clear(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.scanners.cache.api import clear_cache

    removed = clear_cache(load_settings_memo(args.config).cache, args.db)
    stdout.out(f"result cache cleared: {removed} entries removed", highlight=False)
    return 0
