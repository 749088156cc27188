"""The ``secscan`` argument parser: every command and option, built without loading any of them.

Building the parser imports nothing but the standard library and :mod:`secscan.cli.args`:
``secscan --version``, ``secscan --help`` and ``secscan <cmd> --help`` answer in the time the
interpreter takes to start (issue 18). A command's handler, and the values only it can check
(finding states, periods), are named here by module and function and imported when that command
runs (:class:`Lazy`, :func:`lazy_type`); a test keeps ``--help`` free of heavy modules, and
checks that the choices and defaults written out here equal the ones of the modules they mirror.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from secscan import __version__
from secscan.cli.args import (
    DEFAULT_WAIT_S,
    MAX_WAIT_S,
    Lazy,
    arg_type,
    lazy_type,
    parse_target_name,
    upload_wait,
    wait_seconds,
)
from secscan.core.errors import ConfigError

if TYPE_CHECKING:
    from secscan.cli.commands_service import Sub


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


class Parser(argparse.ArgumentParser):
    """secscan's parser class: sub-commands keep earlier options; bad usage is a UsageError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _Subcommands)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; see '{self.prog} --help'")


FAIL_ON = ("critical", "high", "medium", "low", "none")
""":data:`secscan.config.settings.FailOn`'s values."""
ENVIRONMENT: dict[str, str] = {
    "db": "SECSCAN_DB",
    "config": "SECSCAN_CONFIG",
    "osv_db": "SECSCAN_OSV_DB",
    "fail_on": "SECSCAN_FAIL_ON",
}
"""The option (its ``dest``) each environment variable stands for, in every command that has it."""


def from_environment(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    """Fill the common options not given on the command line from ``SECSCAN_*`` variables: a flag
    wins over the environment, the environment over the configuration."""
    for dest, name in ENVIRONMENT.items():
        value = environ.get(name, "")
        if not value or getattr(args, dest, "absent") is not None:
            continue  # unset, or given as a flag, or not an option of this command
        if dest == "fail_on" and value not in FAIL_ON:
            raise UsageError(f"{name}={value!r} is not one of {', '.join(FAIL_ON)}; fix the variable")
        setattr(args, dest, Path(value) if dest in ("config", "osv_db") else value)


def command_word(words: Sequence[str]) -> str | None:
    """The word argparse takes for the command: the first that is not an option (the top level
    has no option that takes a value)."""
    return next((word for word in words if not word.startswith("-")), None)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line: ``secscan run`` here, the other commands from :mod:`.commands`.
    With ``only`` (the first word of the command line), only that command's parser is built;
    the others are named (:func:`.commands.register`)."""
    from secscan.cli import commands  # the same light imports; the run options stay in this module

    parser = Parser(prog="secscan", description="Run security scanners and keep one trustworthy record.")
    parser.add_argument("-V", "--version", action="version", version=f"secscan {__version__}")
    common = Parser(add_help=False)
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output on stderr (-vv: debug)"
    )
    loudness.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress or log lines, only errors; the exit code tells",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    if only is None or only == "run":
        _run(sub, common)
    else:
        commands.name_only(sub, ("run",))
    commands.register(sub, common, only)
    return parser


def _run(sub: Sub, common: argparse.ArgumentParser) -> None:
    """``secscan run``'s options."""
    run = sub.add_parser("run", parents=[common], help="scan a repository and write one SARIF log")
    run.set_defaults(handler=Lazy("secscan.cli.run", "cmd_run"))
    run.add_argument("path", type=Path, help="the repository (folder) to scan")
    run.add_argument("--config", type=Path, help="secscan.toml to use (default: PATH/secscan.toml)")
    run.add_argument(
        "-o", "--output", "--sarif", dest="sarif", type=Path, metavar="FILE",
        help="where to write the SARIF log ('-': stdout; default ./secscan.sarif, none with --format sarif)",
    )  # fmt: skip
    run.add_argument(
        "--format", choices=("table", "json", "sarif"), help="stdout: table (default), json or the SARIF log"
    )
    run.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help="exit 1 when a finding is at or above this severity (default: high; env SECSCAN_FAIL_ON)",
    )
    run.add_argument(
        "--fail-on-new", "--new-only", dest="new_only", action="store_true",
        help="--fail-on counts only findings new since the last complete run of the target "
        "(or of --baseline-target): gate a pull request on what it adds",
    )  # fmt: skip
    run.add_argument(
        "--baseline-target", metavar="NAME", type=arg_type(parse_target_name),
        help="with --fail-on-new: compare with this target's last complete run (the target branch's)",
    )  # fmt: skip
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
        type=arg_type(parse_target_name),  # the same names every other command accepts
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
    upload_wait(run, "retry this run's uploads and alerts for up to this long, then exit 3 naming those "
                "still waiting")  # fmt: skip
    run.add_argument("--no-notify", action="store_true", help="queue alerts but do not deliver them now")
    run.add_argument("--no-cache", action="store_true", help="a cold run: ignore and bypass the result cache")


__all__ = [
    "DEFAULT_WAIT_S", "FAIL_ON", "MAX_WAIT_S", "Lazy", "Parser", "UsageError", "build_parser", "command_word",
    "from_environment", "lazy_type", "upload_wait", "wait_seconds",
]  # fmt: skip
