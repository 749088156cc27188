"""Which of a target's files are pip requirement files: globs matched from the right against
repo-relative paths, as ``PurePosixPath(path).match(glob)`` decides, compiled once.

Split from :mod:`secscan.scanners.requirements` (which reads and classifies their lines): the
coverage map asks only this question, for every file of the target.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable

DEFAULT_REQUIREMENT_GLOBS: tuple[str, ...] = (
    "requirements*.txt",
    "requirements/*.txt",
    "*requirements*.txt",
)
"""Globs matched from the right against repo-relative paths, so they apply in any directory."""


def find_requirement_files(
    files: Iterable[str], globs: Iterable[str] = DEFAULT_REQUIREMENT_GLOBS
) -> list[str]:
    """The repo-relative paths among ``files`` that match any glob (sorted), as
    ``PurePosixPath(path).match(glob)`` decides (see :class:`_RightGlobs`)."""
    matches = _right_globs(tuple(globs))
    return sorted(f for f in files if matches(f))


def requirement_file_matcher(globs: Iterable[str] = DEFAULT_REQUIREMENT_GLOBS) -> Callable[[str], bool]:
    """``path -> bool``: what :func:`find_requirement_files` decides for one path. Raises
    ValueError for an empty glob."""
    return _right_globs(tuple(globs))


class _RightGlobs:
    """``PurePosixPath(path).match(glob)`` for any of several globs, compiled once.

    A relative glob matches the last components of the path one by one (``fnmatchcase``), and
    has at most as many components as the path; an absolute glob never matches a relative path.
    Empty and ``.`` components are dropped on both sides, as pathlib parses them. Compiled, the
    file name is tried against one regex first: a large tree has thousands of files and few
    requirement files, and ``PurePath`` objects cost more than the matching.
    """

    def __init__(self, globs: tuple[str, ...]) -> None:
        if any(is_empty_glob(g) for g in globs):
            raise ValueError("empty pattern")
        relative = [_parts(g) for g in globs if not g.startswith("/")]
        self._globs = [tuple(re.compile(fnmatch.translate(p)) for p in parts) for parts in relative]
        names = {parts[-1] for parts in relative}
        self._names = re.compile("|".join(fnmatch.translate(n) for n in sorted(names))) if names else None

    def __call__(self, path: str) -> bool:
        if self._names is None:
            return False
        parts = _parts(path)
        if not parts or not self._names.match(parts[-1]):
            return False
        for glob in self._globs:
            if len(glob) <= len(parts) and all(
                pat.match(part) for pat, part in zip(reversed(glob), reversed(parts), strict=False)
            ):
                return True
        return False


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def is_empty_glob(glob: str) -> bool:
    """Whether ``glob`` has no component to match (``""``, ``.``, ``./``): pathlib refuses it."""
    return not glob.startswith("/") and not _parts(glob)


@functools.lru_cache(maxsize=16)
def _right_globs(globs: tuple[str, ...]) -> _RightGlobs:
    return _RightGlobs(globs)
