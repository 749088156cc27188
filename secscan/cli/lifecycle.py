"""The lifecycle subcommands: ``findings``, ``show``, ``sla``, ``stats``, ``triage``, ``ingest``.

:mod:`secscan.cli.commands` declares their options; each handler parses nothing itself, calls
one application function (:mod:`secscan.app.lifecycle`, :mod:`secscan.app.ingest`), renders the result
(:mod:`secscan.cli.lifecycle_console`, or JSON) and returns the exit code. Errors propagate to
``cli.main``, which prints them as one line with their exit code.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from secscan.app import lifecycle, lifecycle_json
from secscan.cli import lifecycle_console
from secscan.cli.args import parse_duration
from secscan.config.policy import load_policy, load_sla_policy
from secscan.core.errors import ConfigError, ExitCode
from secscan.core.model import FindingState, ScannerStatus, Severity, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.core.ports.store import OPEN_STATES
from secscan.core.sla import SlaPolicy
from secscan.fs.inventory import check_target
from secscan.fs.names import json_dumps
from secscan.fs.paths import existing_database
from secscan.store import FindingQuery, Store, TriageStatus, open_store

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

_TOOL = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
FALLBACK_ACTOR = "cli"

# -- value parsers (each raises ConfigError with one line saying what to type) -------------------


def parse_states(text: str) -> frozenset[FindingState]:
    """Comma-separated states; ``open`` means new, unchanged and reopened, ``all`` every state."""
    states: set[FindingState] = set()
    for word in (w.strip().lower() for w in text.split(",")):
        if word == "open":
            states |= OPEN_STATES
        elif word == "all":
            states |= set(FindingState)
        else:
            try:
                states.add(FindingState(word))
            except ValueError:
                allowed = ", ".join(["open", "all", *(s.value for s in FindingState)])
                raise ConfigError(f"state {word!r} is not one of {allowed}") from None
    return frozenset(states)


def parse_day(text: str) -> date:
    """A calendar date ``YYYY-MM-DD``."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ConfigError(f"date {text!r} is not a date like 2025-12-31 (YYYY-MM-DD)")


def parse_tool(text: str) -> ToolName:
    if _TOOL.fullmatch(text) is None:
        raise ConfigError(f"tool name {text!r} must be lower-case letters, digits, '.', '_' or '-'")
    return ToolName(text)


# -- shared plumbing ---------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _actor() -> str:
    """The OS user who makes a triage decision (``cli`` when the system cannot tell)."""
    try:
        import getpass

        return getpass.getuser() or FALLBACK_ACTOR
    except (OSError, KeyError, ImportError):
        return FALLBACK_ACTOR


def _policies(args: argparse.Namespace) -> tuple[SeverityPolicy, SlaPolicy]:
    """The bundled policies, or those named in ``--config``'s ``[policy]`` table."""
    if args.config is None:
        return load_policy(), load_sla_policy()
    from secscan.config.memo import load_settings_memo  # reads the --config file

    settings = load_settings_memo(args.config)
    return load_policy(settings.policy.severity), load_sla_policy(settings.policy.sla)


@contextmanager
def _store(args: argparse.Namespace, *, create: bool = False) -> Iterator[Store]:
    """The store of ``--db``. Reading commands refuse a database file that does not exist yet."""
    if not create:
        existing_database(args.db)
    with open_store(args.db) as store:
        yield store


def _print_json(console: Console, document: Any) -> None:
    console.out(json_dumps(document), highlight=False)


# -- handlers ------------------------------------------------------------------------------------------


def cmd_findings(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    query = FindingQuery(
        target=args.target,
        states=args.state if args.state is not None else OPEN_STATES,
        min_severity=None if args.severity is None else Severity(args.severity),
        tool=args.tool,
        limit=args.limit,
    )
    now = _now()
    _, sla_policy = _policies(args)
    with _store(args) as store:
        rows = lifecycle.list_findings(store, query, now, sla_policy)
    if args.format == "json":
        _print_json(stdout, lifecycle_json.findings_document(rows))
    else:
        lifecycle_console.findings_table(rows, stdout, now)
    return int(ExitCode.OK)


def cmd_show(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    now = _now()
    _, sla_policy = _policies(args)
    with _store(args) as store:
        detail = lifecycle.show_finding(store, args.id, now, sla_policy, args.target)
    if args.format == "json":
        _print_json(stdout, lifecycle_json.detail_document(detail))
    else:
        lifecycle_console.finding_detail(detail, stdout, now)
    return int(ExitCode.OK)


def cmd_sla(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    now = _now()
    _, sla_policy = _policies(args)
    with _store(args) as store:
        rows = lifecycle.sla_report(
            store, now, sla_policy, breached=args.breached, due_within=args.due_within, target=args.target
        )
    if args.format == "json":
        _print_json(stdout, lifecycle_json.findings_document(rows))
    else:
        lifecycle_console.sla_table(rows, stdout, now)
    return int(ExitCode.OK)


def cmd_stats(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    now = _now()
    _, sla_policy = _policies(args)
    with _store(args) as store:
        result = lifecycle.stats(store, now, sla_policy, args.target)
    if args.format == "json":
        _print_json(stdout, lifecycle_json.stats_document(result))
    else:
        lifecycle_console.stats_tables(result, stdout)
    return int(ExitCode.OK)


def cmd_triage(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    now = _now()
    status = TriageStatus(args.status)
    _, sla_policy = _policies(args)
    with _store(args) as store:
        finding = lifecycle.triage_finding(
            store, args.id, status, args.reason, args.until, _actor(), now, args.target
        )
    if args.format == "json":
        row = lifecycle.FindingRow(finding, lifecycle.sla_view(finding, sla_policy, now))
        _print_json(stdout, lifecycle_json.finding_json(row))
    else:
        lifecycle_console.triage_done(finding, stdout)
    return int(ExitCode.OK)


def cmd_ingest(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.app import ingest  # the SARIF reader and identities: the other commands only read the store

    now = _now()
    severity_policy, sla_policy = _policies(args)
    root = None if args.root is None else check_target(args.root)
    request = ingest.IngestRequest(path=args.file, target_name=args.target, tool=args.tool, root=root)
    run = ingest.build_run(request, now, severity_policy)  # every input check before the DB is opened
    with _store(args, create=True) as store:
        outcome = ingest.record(store, run, now, sla_policy, root)
    if args.format == "json":
        _print_json(stdout, lifecycle_json.ingest_document(run, outcome))
    elif not args.quiet:  # as `secscan run -q`: no table, the exit code tells
        lifecycle_console.ingest_summary(run, outcome, stdout)
    failed = any(s.status is not ScannerStatus.OK for s in run.scanners)
    return int(ExitCode.SCANNER_FAILED if failed else ExitCode.OK)


__all__ = [
    "cmd_findings",
    "cmd_ingest",
    "cmd_show",
    "cmd_sla",
    "cmd_stats",
    "cmd_triage",
    "parse_day",
    "parse_duration",
    "parse_states",
]
