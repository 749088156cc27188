"""``secscan report``: the handler (options: :mod:`.commands`), over :func:`secscan.report.api.write_report`.

``secscan report --format html|md|json --output FILE [--since 30d] [--target NAME]...
[--period 2026-11] [--db PATH_OR_URL] [--config FILE]``. ``--output -`` prints the report on
stdout. Errors propagate to ``cli.main`` (one line, exit 2).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.config.memo import load_settings_memo
from secscan.config.policy import load_sla_policy
from secscan.config.report import ReportConfig
from secscan.core.errors import ExitCode
from secscan.fs.paths import existing_database
from secscan.report import api
from secscan.report.sinks.file import check_writable
from secscan.store import open_store

if TYPE_CHECKING:
    from rich.console import Console


def _db_path(db: str | None) -> str | Path:
    """The database to read; a file that does not exist yet is refused (reading never creates one)."""
    path = existing_database(db)
    return path if path is not None else str(db)


def cmd_report(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    now = datetime.now(UTC)
    config, sla_policy = ReportConfig(), load_sla_policy()
    if args.config is not None:
        settings = load_settings_memo(args.config)
        config, sla_policy = settings.report, load_sla_policy(settings.policy.sla)
    fmt: api.Format = args.format or config.format
    to_stdout = str(args.output) == "-"
    if not to_stdout:
        check_writable(args.output, "report")  # before the database is read
    with open_store(_db_path(args.db)) as store:
        report = api.build(
            store,
            now,
            since=args.since,
            targets=args.target or (),
            period=args.period,
            policy=sla_policy,
            config=config,
        )
    text = api.render(report, fmt)
    if to_stdout:
        stdout.out(text, highlight=False, end="")
        return int(ExitCode.OK)
    path = api.write_text_atomic(args.output, text)
    stderr.print(f"report written to {path}", highlight=False, markup=False, soft_wrap=True)
    return int(ExitCode.OK)
