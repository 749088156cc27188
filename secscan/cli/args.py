"""Argument types shared by the sub-commands, in a module that imports nothing heavy: ``secscan
report`` must not load the scanners to parse ``--since 30d`` (it takes well under a second)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from secscan.core.errors import ConfigError

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
