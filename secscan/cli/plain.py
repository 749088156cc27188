"""Plain lines, written without rich where rich would write exactly the same bytes (issue 18).

``secscan run --format json`` in CI writes its progress lines to a log and one JSON document to
stdout: loading rich for that costs more than the rest of the command's output. A line goes
straight to the stream only when rich would, for certain, not treat the stream as a terminal
(no ``TTY_COMPATIBLE``, ``FORCE_COLOR`` or ``TTY_INTERACTIVE`` telling it otherwise, and
``isatty()`` false) and would not change the text (rich expands tabs, drops the control
characters ``\\a \\b \\v \\f \\r`` and, in ``print``, replaces emoji codes such as ``:smile:``); any
other line goes through the rich console as before. A test compares both ways on such lines.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

from secscan.core.model import ScannerResult
from secscan.core.printable import printable

if TYPE_CHECKING:
    from rich.console import Console

_EMOJI = re.compile(r"(:(\S*?)(?:(?:\-)(emoji|text))?:)")
"""rich's pattern of an emoji code (``rich._emoji_replace``): a line it matches goes through rich."""
_CHANGED_BY_RICH = frozenset("\t\a\b\v\f\r")
_TERMINAL_VARIABLES = ("TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE")


def no_terminal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True only when rich would surely treat ``stream`` as no terminal."""
    environ = os.environ if environ is None else environ
    if any(name in environ for name in _TERMINAL_VARIABLES) or "idlelib" in sys.modules:
        return False
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return False  # rich decides


def unchanged_by_rich(text: str, *, emoji: bool) -> bool:
    """Whether rich writes ``text`` as it is (``emoji``: through ``print``, which replaces codes)."""
    if not _CHANGED_BY_RICH.isdisjoint(text):
        return False
    return not (emoji and _EMOJI.search(text))


def write_line(text: str, console: Callable[[], Console], *, stderr: bool, quiet: bool = False) -> None:
    """``console().print(text, markup=False, highlight=False, soft_wrap=True)`` (nothing with
    ``quiet``), without loading rich when it would write the same."""
    stream = sys.stderr if stderr else sys.stdout
    if no_terminal(stream) and unchanged_by_rich(text, emoji=True):
        if not quiet:
            stream.write(text + "\n")
            stream.flush()
        return
    console().print(text, markup=False, highlight=False, soft_wrap=True)


def write_out(text: str, console: Callable[[], Console]) -> None:
    """``console().out(text, highlight=False)`` on stdout (a JSON or SARIF document), without
    loading rich when it would write the same."""
    if no_terminal(sys.stdout) and unchanged_by_rich(text, emoji=False):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    console().out(text, highlight=False)


def done_line(result: ScannerResult) -> str:
    """One plain line (printed without markup) about a scanner that finished."""
    extra = f": {result.reason}" if result.reason else ""
    return printable(
        f"{result.name}: {result.status.value} in {result.duration_s:.1f} s, "
        f"{len(result.findings)} findings{extra}"
    )
