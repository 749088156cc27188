"""Every ``secscan`` command besides ``run``: its options, and its handler named, not imported.

Each group's handlers live in their own module (:mod:`.lifecycle`, :mod:`.daemon`, :mod:`.upload`,
:mod:`.alerts`, :mod:`.cache`, :mod:`.report`, :mod:`.db`) with the application code they call; this module
(with :mod:`.commands_service` for ``daemon``, ``status`` and ``fleet``) only describes the command
line, so that ``--help`` loads none of them (see :mod:`.parser`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.cli.args import (
    Lazy,
    arg_type,
    lazy_type,
    parse_count,
    parse_duration,
    parse_target_name,
    upload_wait,
)
from secscan.cli.commands_service import LOG_FORMATS, daemon_commands, fleet_commands

SEVERITIES = ("critical", "high", "medium", "low", "info")
""":class:`secscan.core.model.Severity`'s values (a test checks they agree)."""
TRIAGE_STATUSES = ("false-positive", "accepted-risk", "open")
""":class:`secscan.core.records.TriageStatus`'s values (a test checks they agree)."""

if TYPE_CHECKING:
    from secscan.cli.commands_service import Sub


def register(sub: Sub, common: argparse.ArgumentParser, only: str | None = None) -> None:
    """Add every command but ``run`` to ``sub``, in the order ``secscan --help`` lists them. With
    ``only`` (the first word of the command line) a command of another group is only named: its
    parser is not built, as nothing of it can be used (issue 18)."""
    for group, names in GROUPS:
        if only is None or only in names:
            group(sub, common)
        else:
            name_only(sub, names)


def name_only(sub: Sub, names: tuple[str, ...]) -> None:
    """Commands that are named (an unknown command's error lists them) but not built."""
    unused = argparse.ArgumentParser(add_help=False)
    for name in names:
        sub.choices[name] = unused


def _completion(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``completion SHELL`` (:mod:`.completion`)."""
    completion = sub.add_parser("completion", parents=[common], help="print a shell completion script")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete in")
    completion.set_defaults(handler=Lazy("secscan.cli.completion", "cmd_completion"))


def _lifecycle(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``findings``, ``show``, ``sla``, ``stats``, ``triage``, ``ingest`` (:mod:`.lifecycle`)."""
    db = type(common)(add_help=False)  # the caller's parser class: bad usage stays a UsageError
    db.add_argument("--db", metavar="PATH_OR_URL", help="the lifecycle database (default: XDG state dir)")
    db.add_argument("--config", type=Path, help="secscan.toml whose [policy] severity/sla files to use")
    db.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    parents = [common, db]
    module = "secscan.cli.lifecycle"

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, parents=parents, help=help_text)
        parser.set_defaults(handler=Lazy(module, f"cmd_{name}"))
        return parser

    def target(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--target", type=arg_type(parse_target_name), help="only this target (by name)")

    findings = add("findings", "list tracked findings")
    findings.add_argument("--state", type=lazy_type(module, "parse_states"),
                          help="comma-separated: new, unchanged, reopened, triaged, fixed, open, all "
                               "(default: open)")  # fmt: skip
    findings.add_argument("--severity", choices=list(SEVERITIES), help="minimum severity")
    findings.add_argument("--tool", type=lazy_type(module, "parse_tool"), help="only this tool's findings")
    findings.add_argument("--limit", type=arg_type(parse_count), help="at most this many findings")
    target(findings)

    show = add("show", "one finding: location, SLA, triage and history")
    show.add_argument("id", help="finding id (at least 4 hex digits of it)")
    target(show)

    sla = add("sla", "open findings by SLA due time")
    sla.add_argument("--breached", action="store_true", help="only breached findings")
    sla.add_argument("--due-within", type=arg_type(parse_duration), metavar="DURATION",
                     help="only findings due within this time (30m, 24h, 7d, 2w)")  # fmt: skip
    target(sla)

    stats = add("stats", "MTTR, SLA compliance, open findings by age, security score")
    target(stats)

    triage = add("triage", "record a triage decision about a finding")
    triage.add_argument("id", help="finding id (at least 4 hex digits of it)")
    triage.add_argument("--as", dest="status", required=True, choices=list(TRIAGE_STATUSES))
    triage.add_argument("--reason", required=True, help="why (recorded in the finding's history)")
    triage.add_argument("--until", type=lazy_type(module, "parse_day"), metavar="YYYY-MM-DD",
                        help="accepted-risk only: the decision holds through this UTC day")  # fmt: skip
    target(triage)

    ing = add("ingest", "record a third-party SARIF 2.1.0 log (.sarif or .sarif.gz)")
    ing.add_argument("file", type=Path, metavar="FILE.sarif", help="the SARIF log (gzip accepted)")
    ing.add_argument("--target", type=arg_type(parse_target_name), required=True, help="the target's name")
    ing.add_argument("--tool", type=lazy_type(module, "parse_tool"),
                     help="tool name (default: from the log's driver)")  # fmt: skip
    ing.add_argument("--root", type=Path, help="the checkout the log describes (for stable identities)")


def _upload_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="the trusted secscan.toml with the [github] section")
    parser.add_argument("--db", metavar="PATH_OR_URL", help="lifecycle database (default: XDG state dir)")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")


def _upload(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``upload`` and ``github sync|status`` (:mod:`.upload`)."""
    module = "secscan.cli.upload"
    up = sub.add_parser("upload", parents=[common], help="upload SARIF to GitHub code scanning")
    _upload_options(up)
    up.add_argument("--run", dest="run_id", metavar="ID", help="(re)send this run's uploads")
    up.add_argument("--sarif", type=Path, metavar="FILE", help="queue the SARIF log a run wrote")
    upload_wait(up, "retry waiting uploads for up to this long, then exit 3")
    up.set_defaults(handler=Lazy(module, "cmd_upload"))
    gh = sub.add_parser("github", parents=[common], help="GitHub code scanning: dismissal sync, status")
    gh_sub = gh.add_subparsers(dest="github_command", required=True, parser_class=type(gh))
    sync = gh_sub.add_parser("sync", parents=[common], help="two-way sync of alert dismissals")
    _upload_options(sync)
    sync.set_defaults(handler=Lazy(module, "cmd_sync"))
    status = gh_sub.add_parser("status", parents=[common], help="upload receipts and dead letters")
    _upload_options(status)
    status.add_argument("--run", dest="run_id", metavar="ID", help="only this run's uploads")
    status.set_defaults(handler=Lazy(module, "cmd_status"))


def _alerts(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``alerts [retry|deliver]`` and ``notify test`` (:mod:`.alerts`)."""
    module = "secscan.cli.alerts"
    opts = type(common)(add_help=False)
    opts.add_argument("--db", metavar="PATH_OR_URL", help="the lifecycle database (default: XDG state dir)")
    opts.add_argument("--config", type=Path, help="secscan.toml with the [notify] channels")
    parents = [common, opts]

    alerts = sub.add_parser("alerts", parents=parents, help="the alerts outbox: queued, delivered, dead")
    alerts.set_defaults(handler=Lazy(module, "cmd_alerts"))
    alerts.add_argument("--dead", action="store_true", help="only dead letters")
    count = arg_type(parse_count)
    alerts.add_argument("--limit", type=count, default=100, help="at most this many (default 100)")
    alerts.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    actions = alerts.add_subparsers(dest="alerts_action", required=False, parser_class=type(common))
    retry = actions.add_parser("retry", parents=parents, help="make a dead or waiting alert due now")
    retry.add_argument("id", type=count, help="the alert's id (see secscan alerts)")
    retry.set_defaults(handler=Lazy(module, "cmd_retry"))
    deliver = actions.add_parser("deliver", parents=parents, help="deliver the due alerts now")
    deliver.set_defaults(handler=Lazy(module, "cmd_deliver"))

    notify = sub.add_parser("notify", parents=[common], help="notification channels")
    tests = notify.add_subparsers(dest="notify_action", required=True, parser_class=type(common))
    test = tests.add_parser("test", parents=parents, help="send a test notice to a configured channel")
    test.add_argument("channel", help="the channel's name ([notify.<name>])")
    test.set_defaults(handler=Lazy(module, "cmd_notify_test"))


def _cache(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``cache stats|clear`` (:mod:`.cache`)."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--config", type=Path, help="secscan.toml with a [cache] section (trusted)")
    where.add_argument(
        "--db", metavar="PATH_OR_URL", help="lifecycle database; the cache lives beside it (default: XDG)"
    )
    cache = sub.add_parser("cache", parents=[common], help="the incremental result cache")
    actions = cache.add_subparsers(dest="cache_command", required=True, parser_class=type(cache))
    stats = actions.add_parser("stats", parents=[common, where], help="entries, size on disk and hit rate")
    stats.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    stats.set_defaults(handler=Lazy("secscan.cli.cache", "cmd_stats"))
    clear = actions.add_parser("clear", parents=[common, where], help="delete every entry (next run is cold)")
    clear.set_defaults(handler=Lazy("secscan.cli.cache", "cmd_clear"))


def _report(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``report`` (:mod:`.report`)."""
    rep = sub.add_parser(
        "report", parents=[common], help="the security dashboard or a period's compliance evidence"
    )
    rep.set_defaults(handler=Lazy("secscan.cli.report", "cmd_report"))
    rep.add_argument(
        "--format", choices=("html", "md", "json"), help="html (default, or [report] format), md or json"
    )
    rep.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE", help="where to write it ('-': stdout)"
    )
    rep.add_argument(
        "--since",
        type=arg_type(parse_duration),
        metavar="DURATION",
        help="trend window: 24h, 30d, 12w (default 30d, or [report] since_days)",
    )
    rep.add_argument(
        "--target",
        type=arg_type(parse_target_name),
        action="append",
        metavar="NAME",
        help="only this target; repeatable (default: every target)",
    )
    rep.add_argument(
        "--period",
        type=lazy_type("secscan.report.period", "parse_period"),
        metavar="PERIOD",
        help="compliance evidence of a month, quarter or year: 2026-11, 2026-Q4, 2026",
    )
    rep.add_argument("--db", metavar="PATH_OR_URL", help="the lifecycle database (default: XDG state dir)")
    rep.add_argument("--config", type=Path, help="trusted secscan.toml ([report] and [policy] sla)")


def _db(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``db migrate|copy`` (:mod:`.db`)."""
    db = sub.add_parser("db", parents=[common], help="the lifecycle database: upgrade it, copy it")
    actions = db.add_subparsers(dest="db_command", required=True, parser_class=type(db))
    migrate = actions.add_parser(
        "migrate", parents=[common], help="create or upgrade the database's schema to this secscan's"
    )
    migrate.add_argument("--db", metavar="PATH_OR_URL", help="the database (default: the XDG state dir)")
    migrate.set_defaults(handler=Lazy("secscan.cli.db", "cmd_migrate"))
    copy = actions.add_parser(
        "copy", parents=[common], help="copy a whole database (findings, history, triage) into an empty one"
    )
    copy.add_argument("--from", dest="source", metavar="PATH_OR_URL", help="the database to copy")
    copy.add_argument("--to", dest="destination", metavar="PATH_OR_URL", help="an empty database")
    copy.set_defaults(handler=Lazy("secscan.cli.db", "cmd_copy"))


GROUPS: tuple[tuple[Callable[[Sub, argparse.ArgumentParser], None], tuple[str, ...]], ...] = (
    (_lifecycle, ("findings", "show", "sla", "stats", "triage", "ingest")),
    (daemon_commands, ("daemon", "status")),
    (fleet_commands, ("fleet",)),
    (_upload, ("upload", "github")),
    (_alerts, ("alerts", "notify")),
    (_cache, ("cache",)),
    (_report, ("report",)),
    (_completion, ("completion",)),
    (_db, ("db",)),
)
"""Each group of commands and the commands it adds (a test checks them against the built parser)."""

__all__ = ["LOG_FORMATS", "SEVERITIES", "TRIAGE_STATUSES", "register"]
