"""``secscan db migrate|copy``: the handlers (their options: :mod:`secscan.cli.commands`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.core.errors import StoreError

if TYPE_CHECKING:
    from rich.console import Console


def cmd_migrate(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.store import open_store

    with open_store(args.db) as store:
        stdout.out(f"database is at schema revision {store.schema_revision}", highlight=False)
    return 0


def cmd_copy(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.fs.urls import is_postgres
    from secscan.store import open_store
    from secscan.store.transfer import copy_store, verify

    if args.source is None or args.destination is None:
        raise StoreError("give the database to copy with --from and the empty one to copy into with --to")
    source = str(args.source)
    if not is_postgres(source) and "://" not in source and not Path(source).expanduser().exists():
        raise StoreError(f"no database at {source}; give the database to copy with --from")
    with open_store(source) as src, open_store(args.destination) as dst:
        report = copy_store(src, dst)
        problems = verify(src, dst)
    if problems:
        raise StoreError(f"the copy differs from its source: {problems[0]}")
    stdout.out(
        f"copied {report.count('findings')} findings, {report.count('history')} history entries and "
        f"{report.count('triage_decisions')} triage decisions ({sum(n for _, n in report.rows)} rows "
        "in all); every row verified against the source",
        highlight=False,
    )
    return 0
