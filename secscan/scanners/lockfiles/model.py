"""What a lockfile parser returns: the registry packages it pins, each with its line, and what
it left out. Frozen values; nothing here does I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

NPM = "npm"
PYPI = "PyPI"


class SkipReason(StrEnum):
    """Why a lockfile entry is not audited: it is not a package from a registry."""

    LINK = "link"  # npm/yarn/pnpm link, yarn portal
    WORKSPACE = "workspace"  # a package of the repository itself (workspace member, the project)
    GIT = "git"  # a git dependency (commit, not a registry version)
    FILE = "file"  # a local folder or tarball
    URL = "url"  # a tarball or archive from a URL that is not a registry
    NO_VERSION = "no version"  # the entry names no version (extraneous, virtual, broken)
    UNREADABLE = "unreadable"  # the entry does not have the shape of its format


@dataclass(frozen=True)
class LockedPackage:
    """One registry package pinned by a lockfile.

    ``name`` is the registry name (an npm alias's target; ``alias`` is the name it is installed
    under). ``line`` is the 1-based line of its entry. ``path`` says where it sits in the
    lockfile's tree (``node_modules/a/node_modules/b``, a pnpm key, a ``[[package]]`` index).
    """

    ecosystem: str
    name: str
    version: str
    line: int
    path: str = ""
    dev: bool = False
    optional: bool = False
    alias: str | None = None


@dataclass(frozen=True)
class Lockfile:
    """A parsed lockfile: its format (``package-lock.json v3``, ``yarn.lock v1``, ...), its
    registry packages in file order, and how many entries were left out, by reason."""

    kind: str
    ecosystem: str
    packages: tuple[LockedPackage, ...]
    skipped: Mapping[SkipReason, int] = field(default_factory=dict)


class LockfileError(ValueError):
    """The lockfile cannot be read as its format: one line, naming the line when it is known."""


class Collector:
    """Accumulates a parser's packages and skips (private to the parsers)."""

    def __init__(self, kind: str, ecosystem: str) -> None:
        self.kind = kind
        self.ecosystem = ecosystem
        self.packages: list[LockedPackage] = []
        self.skipped: Counter[SkipReason] = Counter()

    def add(
        self,
        name: str,
        version: str,
        line: int,
        *,
        path: str = "",
        dev: bool = False,
        optional: bool = False,
        alias: str | None = None,
    ) -> None:
        self.packages.append(LockedPackage(self.ecosystem, name, version, line, path, dev, optional, alias))

    def skip(self, reason: SkipReason) -> None:
        self.skipped[reason] += 1

    def result(self) -> Lockfile:
        ordered = {reason: self.skipped[reason] for reason in SkipReason if self.skipped[reason]}
        return Lockfile(self.kind, self.ecosystem, tuple(self.packages), ordered)
