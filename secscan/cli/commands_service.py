"""The options of the service commands: ``daemon``, ``status`` and ``fleet`` (their handlers:
:mod:`.daemon` and :mod:`.fleet`), described only, as in :mod:`.commands`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.cli.args import Lazy

if TYPE_CHECKING:
    Sub = argparse._SubParsersAction[Any]

LOG_FORMATS = ("text", "json")
""":data:`secscan.daemon.logfmt.LOG_FORMATS` (a test checks they agree)."""


def daemon_commands(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``daemon`` and ``status`` (:mod:`.daemon`)."""
    daemon = sub.add_parser("daemon", parents=[common], help="run the nightly scanning service")
    daemon.add_argument("--config", type=Path, help="the trusted secscan.toml with [daemon] and its targets")
    daemon.add_argument("--db", metavar="PATH_OR_URL", help="lifecycle database (default: [daemon] db, XDG)")
    daemon.add_argument("--log-format", choices=LOG_FORMATS, default="text", help="stderr log format")
    daemon.set_defaults(handler=Lazy("secscan.cli.daemon", "cmd_daemon"))
    status = sub.add_parser("status", parents=[common], help="the daemon's next runs, last runs and outboxes")
    status.add_argument("--config", type=Path, help="secscan.toml with [daemon] (for schedules and db)")
    status.add_argument("--db", metavar="PATH_OR_URL", help="lifecycle database (default: [daemon] db, XDG)")
    status.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    status.set_defaults(handler=Lazy("secscan.cli.daemon", "cmd_status"))


def fleet_commands(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``fleet migrate|worker|scan-now|status`` (:mod:`.fleet`; needs the ``fleet`` extra)."""
    module = "secscan.cli.fleet"
    fleet = sub.add_parser(
        "fleet", parents=[common], help="scan many repositories with workers on several hosts"
    )
    fleet_sub = fleet.add_subparsers(dest="fleet_command", required=True, parser_class=type(fleet))
    db_help = "the fleet's PostgreSQL database (postgresql://...; env SECSCAN_DB)"
    migrate = fleet_sub.add_parser("migrate", parents=[common], help="create or upgrade the fleet's schema")
    migrate.add_argument("--db", metavar="URL", help=db_help)
    migrate.add_argument("--config", type=Path, help="the trusted secscan.toml (optional)")
    migrate.set_defaults(handler=Lazy(module, "cmd_migrate"))
    worker = fleet_sub.add_parser("worker", parents=[common], help="run one worker process (until SIGTERM)")
    worker.add_argument("--config", type=Path, help="the trusted secscan.toml: [daemon] targets, [fleet]")
    worker.add_argument("--db", metavar="URL", help=db_help)
    worker.add_argument("--concurrency", type=int, default=1, metavar="N", help="scans at a time (default 1)")
    worker.add_argument(
        "--queue", action="append", default=[], metavar="NAME",
        help="take scans from this queue of [fleet] queues (repeatable; default: all)",
    )  # fmt: skip
    worker.add_argument("--log-format", choices=LOG_FORMATS, default="text", help="stderr log format")
    worker.set_defaults(handler=Lazy(module, "cmd_worker"))
    scan_now = fleet_sub.add_parser("scan-now", parents=[common], help="enqueue a round and return")
    scan_now.add_argument("--config", type=Path, help="the trusted secscan.toml with [daemon] targets")
    scan_now.add_argument("--db", metavar="URL", help=db_help)
    scan_now.add_argument("--round", dest="round_key", metavar="KEY",
                          help="the round's key (default: the current minute, ISO UTC); the same key "
                          "again scans nothing")  # fmt: skip
    scan_now.add_argument("--target", dest="targets", action="append", default=[], metavar="NAME",
                          help="only this target (repeatable; default: every target)")  # fmt: skip
    scan_now.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    scan_now.set_defaults(handler=Lazy(module, "cmd_scan_now"))
    status = fleet_sub.add_parser("status", parents=[common], help="jobs per target, the last round, workers")
    status.add_argument("--db", metavar="URL", help=db_help)
    status.add_argument("--config", type=Path, help="secscan.toml with [fleet] (for stalled_after)")
    status.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    status.set_defaults(handler=Lazy(module, "cmd_status"))
