"""``secscan daemon`` and ``secscan status``: argument parsing only, over testable functions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.app.pipeline import utcnow
from secscan.config.settings import load_settings
from secscan.core.printable import printable
from secscan.daemon.logfmt import LOG_FORMATS
from secscan.fs.names import json_dumps

if TYPE_CHECKING:
    from rich.console import Console

    from secscan.daemon.status import DaemonStatus


def register(sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Add the subcommands to ``sub``; ``common`` holds the options of every command."""
    daemon = sub.add_parser("daemon", parents=[common], help="run the nightly scanning service")
    daemon.add_argument("--config", type=Path, help="the trusted secscan.toml with [daemon] and its targets")
    daemon.add_argument("--db", metavar="PATH_OR_URL", help="lifecycle database (default: [daemon] db, XDG)")
    daemon.add_argument("--log-format", choices=LOG_FORMATS, default="text", help="stderr log format")
    daemon.set_defaults(handler=_cmd_daemon)
    status = sub.add_parser("status", parents=[common], help="the daemon's next runs, last runs and outboxes")
    status.add_argument("--config", type=Path, help="secscan.toml with [daemon] (for schedules and db)")
    status.add_argument("--db", metavar="PATH_OR_URL", help="lifecycle database (default: [daemon] db, XDG)")
    status.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    status.set_defaults(handler=_cmd_status)


def _cmd_daemon(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    import logging

    from secscan.daemon.service import Daemon

    if args.verbose == 0 and not args.quiet:  # a service logs what it does: INFO unless -v or -q
        logging.getLogger().setLevel(logging.INFO)
    settings = load_settings(args.config)
    return Daemon(settings, config_path=args.config, db=args.db).serve()


def _cmd_status(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.daemon.status import daemon_status

    settings = load_settings(args.config)
    status = daemon_status(settings, args.db, utcnow())
    if args.format == "json":
        stdout.out(json_dumps(status.document()), highlight=False)
    else:
        for line in _status_lines(status):
            stdout.out(printable(line), highlight=False)  # target names, reasons: no escapes
    return 0


def _status_lines(status: DaemonStatus) -> list[str]:
    lines = [f"daemon: {status.daemon or 'not running'}"]
    if status.heartbeat_at:
        lines.append(f"last heartbeat: {status.heartbeat_at.isoformat()}")
    lines.append("next runs:")
    lines += [f"  {job:<12} {at.isoformat()}" for job, at in sorted(status.next_runs.items())] or ["  (none)"]
    lines.append("nightly slots:")
    lines += [
        f"  {s.slot_at.isoformat()}  {s.status.value:<11} {s.trigger.value:<9} attempt {s.attempts}"
        + (f"  {s.detail}" if s.detail else "")
        for s in status.slots
    ] or ["  (none)"]
    lines.append("last runs:")
    for run in status.runs:
        lines.append(f"  {run.run_id}  {run.target:<20} {run.status.value}")
        lines += [
            f"      {s.tool:<16} {s.status:<8} {s.duration_s:8.1f} s" + (f"  {s.reason}" if s.reason else "")
            for s in run.scanners
        ]
    if not status.runs:
        lines.append("  (none)")
    lines.append("outboxes:")
    for name, depth in status.outboxes.items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(depth.items())) or "empty"
        lines.append(f"  {name:<8} {counts}")
    return lines
