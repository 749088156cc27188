"""Argument types shared by the sub-commands, in a module that imports nothing heavy: ``secscan
report`` must not load the scanners to parse ``--since 30d`` (it takes well under a second). Also the
pieces shared by ``secscan run`` (:mod:`secscan.cli.parser`) and the other commands
(:mod:`secscan.cli.commands`): handlers named by module and imported when their command runs
(:class:`Lazy`, :func:`lazy_type`), and ``--upload-wait``."""

from __future__ import annotations

import argparse
import gc
import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from secscan.core.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

_DURATION = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_TARGET_NAME = 200


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d`` or ``2w``: a positive whole number and one unit, nothing else."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ConfigError(f"duration {text!r} is not like 30m, 24h, 7d or 2w; give a number and a unit")
    return int(match.group(1)) * _UNITS[match.group(2)]


MAX_ID = 2**63 - 1
"""The largest id or limit a database integer holds (SQLite and PostgreSQL ``bigint``)."""


def parse_count(text: str) -> int:
    """An id or a limit: a whole number from 1 to what a database integer holds."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise ConfigError(f"{text!r} must be a whole number from 1 to {MAX_ID}")
    return int(text)


def parse_target_name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > MAX_TARGET_NAME or any(not c.isprintable() for c in name):
        raise ConfigError(f"target name must be 1 to {MAX_TARGET_NAME} printable characters")
    return name


def arg_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type``: the parser's error becomes argparse's (a usage error, exit 2)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__.removeprefix("parse_")
    return convert


DEFAULT_WAIT_S = 120.0
"""``--upload-wait``'s default: :data:`secscan.app.delivery_wait.DEFAULT_WAIT_S` (a test checks it)."""
MAX_WAIT_S = 86_400.0
"""``--upload-wait``'s limit: :data:`secscan.app.delivery_wait.MAX_WAIT_S` (a test checks it)."""


@dataclass(frozen=True)
class Lazy:
    """A command's handler, ``module.function``, imported only when the command runs."""

    module: str
    function: str

    def __call__(self, args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
        if self.module in sys.modules:  # a second command in the same process (tests): loaded already
            return int(getattr(sys.modules[self.module], self.function)(args, stdout, stderr))
        gc.disable()  # importing allocates hundreds of thousands of objects, and none is garbage yet
        try:
            handler = getattr(importlib.import_module(self.module), self.function)
        finally:
            gc.freeze()  # the modules live as long as the process: later collections skip them
            gc.enable()
        return int(handler(args, stdout, stderr))


def lazy_type(module: str, function: str) -> Callable[[str], Any]:
    """An argparse ``type`` (see :func:`arg_type`) whose parser is imported when a value is given."""

    def convert(text: str) -> Any:
        return arg_type(getattr(importlib.import_module(module), function))(text)

    convert.__name__ = function.removeprefix("parse_")  # argparse names it in "invalid X value"
    return convert


def wait_seconds(text: str) -> float:
    """``--upload-wait``: a number of seconds from 0 (one attempt) to a day."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= MAX_WAIT_S:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to {MAX_WAIT_S:.0f}")
    return value


def upload_wait(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--upload-wait SECONDS`` (``secscan run`` and ``secscan upload``)."""
    parser.add_argument(
        "--upload-wait",
        type=wait_seconds,
        default=DEFAULT_WAIT_S,
        metavar="SECONDS",
        help=f"{help_text} (default {DEFAULT_WAIT_S:.0f})",
    )
