"""``secscan alerts`` and ``secscan notify test``: the handlers (options: secscan.cli.commands).

``secscan alerts [--dead]`` lists the alerts outbox (dead letters only with ``--dead``),
``secscan alerts retry ID`` makes an alert due again, ``secscan alerts deliver`` delivers what
is due, and ``secscan notify test CHANNEL`` sends a test notice to a configured channel.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from secscan.app import alerts as commands
from secscan.config.memo import load_settings_memo
from secscan.config.settings import Settings
from secscan.core.errors import ConfigError, ExitCode
from secscan.fs.names import json_dumps
from secscan.fs.paths import existing_database
from secscan.store import Store, open_store

if TYPE_CHECKING:
    from rich.console import Console


def _settings(args: argparse.Namespace) -> Settings:
    if args.config is None:
        raise ConfigError(
            "no --config given; [notify] channels are read only from a file passed with --config"
        )
    return load_settings_memo(args.config)


def _store(args: argparse.Namespace) -> Store:
    """The database of ``--db``, which must be there: alerts are listed, retried and delivered
    from a database a run or the daemon filled, never from one created by a typo."""
    existing_database(args.db)
    return open_store(args.db)


def cmd_alerts(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    with _store(args) as store:
        items = commands.list_alerts(store, dead=args.dead, limit=args.limit)
    if args.format == "json":
        stdout.out(json_dumps([commands.alert_json(i) for i in items]), highlight=False)
        return int(ExitCode.OK)
    from rich.markup import escape
    from rich.table import Table

    from secscan.core.printable import printable

    table = Table("id", "channel", "status", "action", "event", "attempts", "next attempt", "summary / error")
    for i in items:
        doc = commands.alert_json(i)
        text = doc["last_error"] if i.last_error and i.status.value != "delivered" else doc["summary"]
        table.add_row(
            str(i.id), i.kind, i.status.value, str(doc["action"]), str(doc["event"]), str(i.attempts),
            f"{i.next_attempt_at:%Y-%m-%d %H:%M:%S}" if i.status.value == "pending" else "",
            escape(printable(str(text))),
        )  # fmt: skip
    stdout.print(table)
    return int(ExitCode.OK)


def cmd_retry(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    with _store(args) as store:
        item = commands.retry_alert(store, args.id, datetime.now(UTC))
    stdout.out(
        f"alert {item.id} to {item.kind} is due again; it goes out at the next delivery", highlight=False
    )
    return int(ExitCode.OK)


def cmd_deliver(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    settings = _settings(args)
    with _store(args) as store:
        report = commands.deliver_now(store, settings)
    stdout.out(
        f"{report.delivered} delivered, {report.retried} to retry, {len(report.dead)} dead", highlight=False
    )
    if report.retried or report.dead:  # a cron job or CI step must see that alerts did not go out
        stderr.out(
            f"secscan: {report.retried + len(report.dead)} alert(s) not delivered; they are listed "
            "with their error by `secscan alerts`",
            highlight=False,
        )
        return int(ExitCode.SCANNER_FAILED)
    return int(ExitCode.OK)


def cmd_notify_test(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    stdout.out(commands.send_test(_settings(args), args.channel), highlight=False)
    return int(ExitCode.OK)
