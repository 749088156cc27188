"""The ``secscan`` command: parse -> settings -> app function -> exit code. Nothing else.

Errors become one line on stderr and an exit code here, and only here:
0 ok, 1 findings at or above --fail-on, 2 usage/config/target error,
3 a scanner failed or timed out, 70 an internal error (a bug: please report it).
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from secscan import __version__
from secscan.core.errors import ExitCode, SecscanError
from secscan.core.printable import printable

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

INTERNAL_ERROR = 70
Handler = Callable[["argparse.Namespace", "Console", "Console"], int]


def _setup_logging(verbosity: int, log_format: str = "text", *, quiet: bool = False) -> None:
    import logging

    from secscan.core.logsecrets import held_secrets_filter
    from secscan.daemon import logfmt

    level = logging.ERROR if quiet else logging.WARNING - 10 * min(verbosity, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logfmt.formatter(log_format))  # text, or json for log shippers (daemon)
    handler.addFilter(held_secrets_filter())  # channel secrets and the GitHub token, never logged
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(logging.WARNING)  # its debug lines name webhook URL paths
    # a new database is created through every migration: one line of ours says so, not Alembic's
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)


class _Deferred:
    """A rich console built on first use: a command that writes only plain lines
    (:mod:`secscan.cli.plain`) never loads rich."""

    def __init__(self, build: Callable[[], Console]) -> None:
        self._build = build
        self._console: Console | None = None

    def __call__(self) -> Console:
        if self._console is None:
            self._console = self._build()
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self(), name)

    def __enter__(self) -> Console:
        return self().__enter__()

    def __exit__(self, *exc: object) -> None:
        self().__exit__(*exc)


def _stdout_console() -> Console:
    from rich.console import Console

    stdout = Console()
    if not stdout.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        stdout = Console(width=160)  # CI logs: wide enough for the findings table; rich honours COLUMNS
    return stdout


def _consoles(*, quiet: bool = False) -> tuple[Console, Console]:
    """stdout and stderr for a command's output, each built when first used (rich loads only
    when a command writes through it); with ``quiet`` stderr prints nothing (errors are written
    by :func:`main`, not through it)."""

    def stderr() -> Console:
        from rich.console import Console

        return Console(stderr=True, quiet=quiet)

    return cast("Console", _Deferred(_stdout_console)), cast("Console", _Deferred(stderr))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``secscan`` console script."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        if words in (["--version"], ["-V"]):  # what argparse would print, without building the parser
            sys.stdout.write(f"secscan {__version__}\n")
            sys.stdout.flush()
            return 0
        from secscan.cli.parser import build_parser, command_word, from_environment

        only = command_word(words)  # only its parser is built
        args = build_parser(only).parse_args(words)  # --help and usage errors: no command module loaded
        from_environment(args, os.environ)  # SECSCAN_DB and co., where no flag was given
        quiet = bool(getattr(args, "quiet", False))
        stdout, stderr = _consoles(quiet=quiet)
        _setup_logging(args.verbose, getattr(args, "log_format", "text"), quiet=quiet)
        handler: Handler = args.handler
        return handler(args, stdout, stderr)
    except SecscanError as exc:
        from secscan.core.logsecrets import redacted  # the line may quote a setting: no token in it

        sys.stderr.write(f"secscan: error: {printable(redacted(str(exc)))}\n")  # it may quote the target
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("secscan: interrupted\n")
        return 130
    except BrokenPipeError:  # `secscan findings | head`: as a writer killed by SIGPIPE, never 0
        _silence_stdout()
        return 128 + 13
    except OSError as exc:
        if exc.errno not in _FULL:
            return _internal(exc)
        _silence_stdout()  # what is still buffered cannot be written either
        sys.stderr.write(
            f"secscan: error: cannot write the output ({exc.strerror}); free space and run again\n"
        )
        return int(ExitCode.USAGE)
    except Exception as exc:
        return _internal(exc)


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""Errors of a write to a full device or past a quota: the output, not secscan, is at fault."""


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's flush at exit fails no more."""
    import contextlib

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _internal(exc: Exception) -> int:
    if os.environ.get("SECSCAN_DEBUG"):
        raise exc
    sys.stderr.write(
        f"secscan: internal error: {type(exc).__name__}; this is a bug, please report it "
        "(rerun with SECSCAN_DEBUG=1 for a traceback)\n"
    )
    return INTERNAL_ERROR


__all__ = ["ExitCode", "main"]
