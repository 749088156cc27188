"""``secscan daemon`` and ``secscan status``: the handlers (their options: :mod:`secscan.cli.commands`)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from secscan.core.printable import printable
from secscan.fs.names import json_dumps

if TYPE_CHECKING:
    from rich.console import Console

    from secscan.daemon.status import DaemonStatus


def cmd_daemon(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    import logging

    from secscan.config.memo import load_settings_memo
    from secscan.daemon.service import Daemon

    if args.verbose == 0 and not args.quiet:  # a service logs what it does: INFO unless -v or -q
        logging.getLogger().setLevel(logging.INFO)
    settings = load_settings_memo(args.config)
    code = Daemon(settings, config_path=args.config, db=args.db).serve()
    if code != 0:
        # a job that did not end within [daemon] stop_timeout still runs on a scheduler thread,
        # which the interpreter would wait for at exit (for ever): the process ends without it
        import os
        import sys

        logging.shutdown()  # the log names the jobs that did not stop
        sys.stderr.flush()
        os._exit(code)
    return code


def cmd_status(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.config.daemon import DaemonConfig
    from secscan.daemon.status import daemon_status
    from secscan.fs.paths import existing_database

    if args.db is not None:  # a --db (or SECSCAN_DB) that is not there is a typo: refused, not created
        existing_database(args.db)
    if args.config is None:  # the [daemon] defaults, without building every section's model
        daemon = DaemonConfig()
    else:
        from secscan.config.memo import load_settings_memo

        daemon = load_settings_memo(args.config).daemon
    status = daemon_status(daemon, args.db, datetime.now(UTC))
    if args.format == "json":
        stdout.out(json_dumps(status.document()), highlight=False)
    else:
        for line in _status_lines(status):
            stdout.out(printable(line), highlight=False)  # target names, reasons: no escapes
    return 0


def _status_lines(status: DaemonStatus) -> list[str]:
    lines = [f"daemon: {status.daemon or 'not running'}"]
    if status.missing_database is not None:
        lines.append(f"database: none at {status.missing_database} yet; the daemon has not run")
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
