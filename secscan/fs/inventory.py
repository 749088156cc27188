"""The file inventory of a target: which files scanners may see.

The walk never follows a symbolic link (a link could lead out of the target into the host), skips
virtualenvs (any directory holding ``pyvenv.cfg``) and the configured exclude patterns, and skips
files larger than ``max_file_size``. Scanners receive this explicit list, never the raw tree.

Exclude patterns: a pattern without ``/`` matches any single path component (``node_modules``,
``*.min.js``); a pattern with ``/`` matches the repo-relative path from the root, ``*`` crossing
folders (``tests/fixtures/*``), and excluding a folder excludes everything below it.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan.core.errors import TargetError
from secscan.core.model import Notification, NotificationLevel


@dataclass(frozen=True)
class Inventory:
    """Regular files of a target (repo-relative POSIX paths, sorted) and what was left out."""

    root: Path
    files: tuple[str, ...]
    sizes: tuple[int, ...]
    notifications: tuple[Notification, ...] = ()
    too_large: tuple[str, ...] = ()
    """Files left out for being over ``max_file_size`` (the coverage map counts them as gaps)."""
    unreadable: tuple[str, ...] = ()
    """Entries the walk could not read (a path too long for the system, a folder without
    permission, a link loop): left out with a warning, and counted as gaps too."""

    def without(self, patterns: Sequence[str]) -> tuple[str, ...]:
        """The files not matched by ``patterns`` (a scanner's own excludes)."""
        if not patterns:
            return self.files
        excluded = _compiled(tuple(patterns))
        return tuple(f for f in self.files if not excluded(f))


class Excludes:
    """Exclude patterns compiled to two regular expressions (component patterns, path patterns)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        cleaned = [p.strip("/") for p in patterns]
        self._name = _union(p for p in cleaned if p and "/" not in p)
        self._path = _union(p for p in cleaned if "/" in p)

    def entry(self, name: str, relpath: str) -> bool:
        """Whether the walk skips the entry ``name`` at ``relpath``, the folders above it having
        passed already: only its own name and its whole path are left to match."""
        return bool(
            (self._name is not None and self._name.match(name))
            or (self._path is not None and self._path.match(relpath))
        )

    def __call__(self, relpath: str) -> bool:
        """Whether a repo-relative path (or any folder above it) matches an exclude pattern."""
        if self._name is None and self._path is None:
            return False
        parts = relpath.split("/")
        if self._name is not None and any(self._name.match(part) for part in parts):
            return True
        path = self._path
        depths = range(1, len(parts) + 1)
        return path is not None and any(path.match("/".join(parts[:depth])) for depth in depths)


def _union(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching what any of the glob ``patterns`` matches (``fnmatch.fnmatchcase``)."""
    alternatives = [fnmatch.translate(p) for p in dict.fromkeys(patterns)]
    return re.compile("|".join(alternatives)) if alternatives else None


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> Excludes:
    return Excludes(patterns)


def is_excluded(relpath: str, patterns: Iterable[str]) -> bool:
    """Whether a repo-relative path (or any folder above it) matches an exclude pattern."""
    return _compiled(tuple(patterns))(relpath)


def check_target(path: Path) -> Path:
    """Resolve a target path, or raise :class:`TargetError` saying what is wrong with it."""
    if not path.exists():
        if path.is_symlink():
            raise TargetError(
                f"target {path} is a symbolic link that leads nowhere (a loop, or to a missing path); "
                "give the path of a repository to scan"
            )
        raise TargetError(f"target {path} does not exist; give the path of a repository to scan")
    if not path.is_dir():
        raise TargetError(f"target {path} is not a directory; give the repository's root folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise TargetError(f"target {path} is not readable; check its permissions")
    return path.resolve()


def build_inventory(
    root: Path,
    excludes: Sequence[str],
    max_file_size: int,
    skip: Callable[[str, bool], bool] | None = None,
) -> Inventory:
    """Walk ``root`` (already resolved) without following links; see the module docstring.

    ``skip(relpath, is_dir)`` leaves out more entries (secscan's own outputs, what git ignores:
    :mod:`secscan.fs.exclusions`); a skipped folder is not entered."""
    walk = _Walk(_compiled(tuple(excludes)), max_file_size, skip)
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            walk.unreadable(prefix.rstrip("/") or ".", f"unreadable folder ({exc.strerror})")
            continue
        for entry in entries:
            try:
                below = walk.entry(entry, f"{prefix}{entry.name}")
            except OSError as exc:  # a path too long for the system (ENAMETOOLONG), ELOOP, EACCES
                walk.unreadable(f"{prefix}{entry.name}", f"cannot be read ({exc.strerror})")
                continue
            if below is not None:
                stack.append(below)
    walk.files.sort()
    return Inventory(
        root=root,
        files=tuple(f for f, _ in walk.files),
        sizes=tuple(s for _, s in walk.files),
        notifications=tuple(walk.notes),
        too_large=tuple(sorted(walk.too_large)),
        unreadable=tuple(sorted(walk.skipped)),
    )


class _Walk:
    """What :func:`build_inventory` gathers, and what it does with one folder entry."""

    def __init__(
        self, excluded: Excludes, max_file_size: int, skip: Callable[[str, bool], bool] | None
    ) -> None:
        self.excluded = excluded
        self.max_file_size = max_file_size
        self.skip = skip
        self.files: list[tuple[str, int]] = []
        self.notes: list[Notification] = []
        self.too_large: list[str] = []
        self.skipped: list[str] = []

    def unreadable(self, rel: str, why: str) -> None:
        self.notes.append(Notification(NotificationLevel.WARNING, f"not scanned: {why}", rel))
        self.skipped.append(rel)

    def entry(self, entry: os.DirEntry[str], rel: str) -> tuple[str, str] | None:
        """Take in one entry; a folder to walk is returned as (its path, its relative prefix)."""
        if self.excluded.entry(entry.name, rel):
            return None
        if self.skip is not None and self.skip(rel, entry.is_dir(follow_symlinks=False)):
            return None
        if entry.is_symlink():
            return None  # never followed: it could point outside the target
        if entry.is_dir(follow_symlinks=False):
            return None if Path(entry.path, "pyvenv.cfg").exists() else (entry.path, f"{rel}/")
        if entry.is_file(follow_symlinks=False):
            size = entry.stat(follow_symlinks=False).st_size
            if size > self.max_file_size:
                self.notes.append(Notification(
                    NotificationLevel.WARNING,
                    f"not scanned: {size} bytes is over [scan] max_file_size ({self.max_file_size})",
                    rel,
                ))
                self.too_large.append(rel)
                return None
            self.files.append((rel, size))
        return None
