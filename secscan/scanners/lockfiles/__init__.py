"""Lockfile parsers: each reads one format as data and returns the registry packages it pins.

Nothing is executed, resolved or fetched: a lockfile is only read. Each format has one small
module returning a frozen :class:`~secscan.scanners.lockfiles.model.Lockfile`; a file that is
not its format raises :class:`~secscan.scanners.lockfiles.model.LockfileError` (one line).
:func:`recognise` says, from a file's name alone, which format it is.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from enum import StrEnum

from secscan.scanners.lockfiles.model import (
    NPM,
    PYPI,
    LockedPackage,
    Lockfile,
    LockfileError,
    SkipReason,
)

__all__ = [
    "NPM",
    "PYPI",
    "LockedPackage",
    "Lockfile",
    "LockfileError",
    "LockfileKind",
    "SkipReason",
    "parse_lockfile",
    "recognise",
]


class LockfileKind(StrEnum):
    """The lockfile formats ``lockfile-audit`` reads, named by their file name."""

    PACKAGE_LOCK = "package-lock.json"
    NPM_SHRINKWRAP = "npm-shrinkwrap.json"
    YARN = "yarn.lock"
    PNPM = "pnpm-lock.yaml"
    POETRY = "poetry.lock"
    UV = "uv.lock"
    PIPFILE = "Pipfile.lock"
    PYLOCK = "pylock.toml"

    @property
    def ecosystem(self) -> str:
        return NPM if self in _NPM_KINDS else PYPI


_NPM_KINDS = frozenset(
    {LockfileKind.PACKAGE_LOCK, LockfileKind.NPM_SHRINKWRAP, LockfileKind.YARN, LockfileKind.PNPM}
)
_NAMED_PYLOCK = re.compile(r"pylock\.[^.]+\.toml")
"""PEP 751: ``pylock.toml``, or ``pylock.<name>.toml`` for a named lock."""
_BY_NAME: Mapping[str, LockfileKind] = {kind.value: kind for kind in LockfileKind}

_PARSERS: Mapping[LockfileKind, str] = {
    LockfileKind.PACKAGE_LOCK: "npm_lock",
    LockfileKind.NPM_SHRINKWRAP: "npm_lock",
    LockfileKind.YARN: "yarn_lock",
    LockfileKind.PNPM: "pnpm_lock",
    LockfileKind.POETRY: "poetry_lock",
    LockfileKind.UV: "uv_lock",
    LockfileKind.PIPFILE: "pipfile_lock",
    LockfileKind.PYLOCK: "pylock",
}
"""The module (of this package) whose ``parse`` reads each format, imported when a file of that
format is read: recognising lockfiles (every run's coverage map) loads no parser, nor YAML."""


def _parser(kind: LockfileKind) -> Callable[[bytes, str], Lockfile]:
    parse: Callable[[bytes, str], Lockfile] = importlib.import_module(f"{__name__}.{_PARSERS[kind]}").parse
    return parse


def recognise(filename: str) -> LockfileKind | None:
    """The format of a file from its base name (case-sensitive, as the tools write them)."""
    kind = _BY_NAME.get(filename)  # a look-up: every file of the tree is asked (an enum's ValueError costs)
    if kind is None and _NAMED_PYLOCK.fullmatch(filename):
        return LockfileKind.PYLOCK
    return kind


def parse_lockfile(kind: LockfileKind, data: bytes) -> Lockfile:
    """The registry packages ``data`` pins, read as ``kind``. Raises LockfileError."""
    try:
        return _parser(kind)(data, kind.value)
    except RecursionError:
        raise LockfileError("is nested too deeply") from None
