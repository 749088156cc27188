"""The ``secscan`` command: parse -> settings -> app function -> exit code. Nothing else.

Errors become one line on stderr and an exit code here, and only here:
0 ok, 1 findings at or above --fail-on, 2 usage/config/target error,
3 a scanner failed or timed out, 70 an internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from secscan import __version__
from secscan.app import deliver as run_delivery
from secscan.app.cancel import sigterm_interrupts
from secscan.config.settings import load_settings
from secscan.core.errors import ConfigError, ExitCode, SecscanError
from secscan.core.logsecrets import held_secrets_filter
from secscan.core.printable import printable
from secscan.daemon import logfmt
from secscan.fs.names import json_dumps

INTERNAL_ERROR = 70
log = logging.getLogger("secscan")


COMMAND_MODULES: Mapping[str, str] = {
    **dict.fromkeys(("findings", "show", "sla", "stats", "triage", "ingest"), "cli.lifecycle"),
    **dict.fromkeys(("daemon", "status"), "cli.daemon"),
    **dict.fromkeys(("upload", "github"), "cli.upload"),
    **dict.fromkeys(("alerts", "notify"), "cli.alerts"),
    "cache": "cli.cache",
    "report": "cli.report",
}
"""Which ``secscan.cli.*`` module defines each subcommand besides ``run`` (a test checks it).

Only the module of the command being run is imported: the others pull in the report's
plotting, the daemon's scheduler and the channels' clients, which ``secscan run`` must not pay
for at every start (a warm, fully cached run takes well under a second)."""


def _modules_for(command: str | None) -> tuple[str, ...]:
    """The CLI modules to load: one for a known command, none for ``run``, all otherwise
    (help, a typo: argparse then lists every command)."""
    if command == "run":
        return ()
    module = COMMAND_MODULES.get(command or "")
    return (module,) if module else tuple(dict.fromkeys(COMMAND_MODULES.values()))


class UsageError(ConfigError):
    """Bad command-line usage."""


class _Subcommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-commands that keep the options given before them (``secscan alerts --db X retry 1``).

    argparse parses a sub-command into a fresh namespace and copies it over the parent's, so an
    option that both levels define is reset to its default when it was given before the
    sub-command: the database of ``--db X`` would silently be the default one. Here an option
    given before the sub-command keeps its value unless it is given again after it, and an
    option of the parent that the sub-command does not take is refused (exit 2).
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        before = dict(vars(namespace))
        super().__call__(parser, namespace, values, option_string)
        chosen = self._name_parser_map[values[0]]  # super() refused an unknown name
        own = {a.dest: a for a in chosen._actions}
        for action in parser._actions:
            given = action.dest in before and before[action.dest] != action.default
            if not action.option_strings or not given or action.dest == "help":
                continue
            if action.dest not in own:
                raise argparse.ArgumentError(action, f"belongs to '{parser.prog}', not to '{chosen.prog}'")
            if getattr(namespace, action.dest, None) == own[action.dest].default:
                setattr(namespace, action.dest, before[action.dest])  # not given again after it


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _Subcommands)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; see '{self.prog} --help'")


def wait_seconds(text: str) -> float:
    """``--upload-wait``: a number of seconds from 0 (one attempt) to a day."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= run_delivery.MAX_WAIT_S:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from 0 to {run_delivery.MAX_WAIT_S:.0f}"
        )
    return value


def print_undelivered(undelivered: Sequence[run_delivery.Undelivered], stderr: Console) -> None:
    """One line per upload or alert that did not go out (issue 13)."""
    for item in undelivered:
        stderr.print(f"secscan: not delivered: {item.line()}", markup=False, highlight=False, soft_wrap=True)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``command``, only the module that defines it is loaded."""
    parser = _Parser(prog="secscan", description="Run security scanners and keep one trustworthy record.")
    parser.add_argument("--version", action="version", version=f"secscan {__version__}")
    common = _Parser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output on stderr (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", parents=[common], help="scan a repository and write one SARIF log")
    run.set_defaults(handler=_cmd_run)
    run.add_argument("path", type=Path, help="the repository (folder) to scan")
    run.add_argument("--config", type=Path, help="secscan.toml to use (default: PATH/secscan.toml)")
    run.add_argument("--sarif", type=Path, help="SARIF output file (default: ./secscan.report.sarif)")
    run.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    run.add_argument(
        "--fail-on",
        choices=("critical", "high", "medium", "low", "none"),
        help="exit 1 when a finding is at or above this severity (default: high)",
    )
    run.add_argument(
        "--osv-db", type=Path, help="offline OSV database (folder or zip) for pip-audit and lockfile-audit"
    )
    run.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        help="lifecycle database: a file path or SQLAlchemy URL (default: XDG state dir)",
    )
    run.add_argument(
        "--target",
        dest="target_name",
        metavar="NAME",
        help="name of the target in the database (default: the folder's name)",
    )
    run.add_argument(
        "--scanner",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this scanner (repeatable): bandit, detect-secrets, pip-audit, lockfile-audit, a tool",
    )
    run.add_argument(
        "--upload", action="store_true", help="upload the SARIF to GitHub code scanning ([github] config)"
    )
    run.add_argument(
        "--upload-wait",
        type=wait_seconds,
        default=run_delivery.DEFAULT_WAIT_S,
        metavar="SECONDS",
        help="retry this run's uploads and alerts for up to this long, then exit 3 naming those "
        f"still waiting (default {run_delivery.DEFAULT_WAIT_S:.0f})",
    )
    run.add_argument("--no-notify", action="store_true", help="queue alerts but do not deliver them now")
    run.add_argument("--no-cache", action="store_true", help="a cold run: ignore and bypass the result cache")
    for module in _modules_for(command):
        importlib.import_module(f"secscan.{module}").register(sub, common)
    return parser


def _setup_logging(verbosity: int, log_format: str = "text") -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logfmt.formatter(log_format))  # text, or json for log shippers (daemon)
    handler.addFilter(held_secrets_filter())  # channel secrets and the GitHub token, never logged
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its debug lines name webhook URL paths


def _cmd_run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from secscan.app import run as app
    from secscan.cli import console  # the scanners and the pipeline: only `secscan run` pays for them

    overrides: list[tuple[str, Any]] = []
    if args.fail_on:
        overrides.append(("scan.fail_on", args.fail_on))
    target = args.path
    settings = load_settings(args.config, target if target.is_dir() else None, overrides)
    request = app.RunRequest(
        target=target,
        settings=settings,
        sarif_path=app.DEFAULT_SARIF if args.sarif is None else args.sarif,
        only=tuple(args.scanner),
        osv_db=args.osv_db,
        db=args.db,
        target_name=args.target_name,
        upload=args.upload,
        notify=not args.no_notify,
        use_cache=not args.no_cache,
        delivery_wait=run_delivery.DeliveryWait(args.upload_wait),
    )
    with console.progress(stderr) as hooks, sigterm_interrupts():  # SIGTERM: scanners killed, run interrupted
        result = app.run(request, hooks)
    if args.format == "json":
        stdout.out(json_dumps(result.document), highlight=False)
    else:
        console.summary(result.run, result.sarif_path, stdout)
    print_undelivered(result.undelivered, stderr)
    return int(result.exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``secscan`` console script."""
    stderr = Console(stderr=True)
    stdout = Console()
    if not stdout.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        stdout = Console(width=160)  # CI logs: wide enough for the findings table; rich honours COLUMNS
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        args = _parser(words[0] if words else None).parse_args(words)
        _setup_logging(args.verbose, getattr(args, "log_format", "text"))
        handler: Callable[[argparse.Namespace, Console, Console], int] = args.handler
        return handler(args, stdout, stderr)
    except SecscanError as exc:
        sys.stderr.write(f"secscan: error: {printable(str(exc))}\n")  # it may quote the target
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("secscan: interrupted\n")
        return 130
    except Exception as exc:
        if os.environ.get("SECSCAN_DEBUG"):
            raise
        sys.stderr.write(
            f"secscan: internal error: {type(exc).__name__}; this is a bug, please report it "
            "(rerun with SECSCAN_DEBUG=1 for a traceback)\n"
        )
        return INTERNAL_ERROR


__all__ = ["ExitCode", "main"]
