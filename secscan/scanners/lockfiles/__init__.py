"""Lockfile parsers: each reads one format as data and returns the registry packages it pins.

Nothing is executed, resolved or fetched: a lockfile is only read. Each format has one small
module returning a frozen :class:`~secscan.scanners.lockfiles.model.Lockfile`; a file that is
not its format raises :class:`~secscan.scanners.lockfiles.model.LockfileError` (one line).
:func:`recognise` says, from a file's name alone, which format it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum

from secscan.scanners.lockfiles import (
    npm_lock,
    pipfile_lock,
    pnpm_lock,
    poetry_lock,
    pylock,
    uv_lock,
    yarn_lock,
)
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

_PARSERS: Mapping[LockfileKind, Callable[[bytes, str], Lockfile]] = {
    LockfileKind.PACKAGE_LOCK: npm_lock.parse,
    LockfileKind.NPM_SHRINKWRAP: npm_lock.parse,
    LockfileKind.YARN: yarn_lock.parse,
    LockfileKind.PNPM: pnpm_lock.parse,
    LockfileKind.POETRY: poetry_lock.parse,
    LockfileKind.UV: uv_lock.parse,
    LockfileKind.PIPFILE: pipfile_lock.parse,
    LockfileKind.PYLOCK: pylock.parse,
}


def recognise(filename: str) -> LockfileKind | None:
    """The format of a file from its base name (case-sensitive, as the tools write them)."""
    try:
        return LockfileKind(filename)
    except ValueError:
        return LockfileKind.PYLOCK if _NAMED_PYLOCK.fullmatch(filename) else None


def parse_lockfile(kind: LockfileKind, data: bytes) -> Lockfile:
    """The registry packages ``data`` pins, read as ``kind``. Raises LockfileError."""
    try:
        return _PARSERS[kind](data, kind.value)
    except RecursionError:
        raise LockfileError("is nested too deeply") from None
