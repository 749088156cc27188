"""The posture rules' globs, compiled once per glob list (issue 18).

A rule's glob list is tested against every file of the target on every run. Testing the globs one
by one with :func:`fnmatch.fnmatchcase` (or through one regex of ``.*``-led alternatives, which
the regex engine retries from every position) was the largest part of an unchanged re-run's
posture work. So each list is split once, by shape, into what answers without a regex:

* plain names (``.env``, ``id_rsa``): one set lookup;
* ``*`` then plain text (``*.exe``): one :meth:`str.endswith` over all such suffixes;
* plain text then ``*`` (``.env.*``): one :meth:`str.startswith` over all such prefixes;

and everything else (``?``, ``[...]``, more ``*``: ``*.so.*``) goes into one regex of
:func:`fnmatch.translate`'s patterns. The answer is fnmatch's: ``*`` matches any run of
characters, newlines and ``/`` included, and a glob without ``*``, ``?`` or ``[`` matches only
itself. Which glob matched (a finding's message names it) is decided, for the few names that
match at all, by :func:`fnmatch.fnmatchcase` glob by glob, in the rule's order.

Path globs (``.github/workflows/*.yml``) keep their rule that ``*`` stays within one folder: a
path is tested only against the globs with as many ``/`` as it has, through one regex per count.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Sequence

_SPECIAL = frozenset("*?[")


def _plain(text: str) -> bool:
    return _SPECIAL.isdisjoint(text)


def _shape(glob: str) -> tuple[str, str]:
    """A lower-case glob's shape and the text that shape tests (see the module docstring)."""
    if _plain(glob):
        return "name", glob
    if glob.startswith("*") and _plain(glob[1:]):
        return "suffix", glob[1:]
    if glob.endswith("*") and _plain(glob[:-1]):
        return "prefix", glob[:-1]
    return "glob", glob


_TESTS: dict[str, Callable[[str, str], bool]] = {
    "name": str.__eq__,
    "suffix": str.endswith,
    "prefix": str.startswith,
    "glob": fnmatch.fnmatchcase,
}


class NameGlobs:
    """Base-name globs, ignoring case: ``first(name.lower())`` is the first glob that matches."""

    def __init__(self, globs: Sequence[str]) -> None:
        self._each = tuple((glob, *_shape(glob.lower())) for glob in globs)
        shaped = [(shape, text) for _, shape, text in self._each]
        self._names = frozenset(text for shape, text in shaped if shape == "name")
        self._suffixes = tuple(text for shape, text in shaped if shape == "suffix")
        self._prefixes = tuple(text for shape, text in shaped if shape == "prefix")
        rest = [fnmatch.translate(text) for shape, text in shaped if shape == "glob"]
        self._rest: Callable[[str], object] | None = re.compile("|".join(rest)).match if rest else None

    def any(self, lowered: str) -> bool:
        """Whether one of the globs matches ``lowered`` (a lower-case base name)."""
        return (
            lowered in self._names
            or lowered.endswith(self._suffixes)
            or lowered.startswith(self._prefixes)
            or (self._rest is not None and self._rest(lowered) is not None)
        )

    def first(self, lowered: str) -> str | None:
        """The first glob (as the rule spells it) that matches ``lowered``; None: no glob does."""
        if not self.any(lowered):
            return None
        return next((glob for glob, shape, text in self._each if _TESTS[shape](lowered, text)), None)


class PathGlobs:
    """Repo-relative path globs, case-sensitive; ``*`` stays within one folder."""

    def __init__(self, globs: Sequence[str]) -> None:
        by_depth: dict[int, list[str]] = {}
        for glob in globs:
            by_depth.setdefault(glob.count("/"), []).append(fnmatch.translate(glob))
        self._tests = {depth: re.compile("|".join(p)).match for depth, p in by_depth.items()}

    def match(self, path: str) -> bool:
        test = self._tests.get(path.count("/"))
        return test is not None and test(path) is not None


@functools.cache
def name_globs(globs: tuple[str, ...]) -> NameGlobs:
    """The compiled form of a rule's glob list, compiled once per process."""
    return NameGlobs(globs)


@functools.cache
def path_globs(globs: tuple[str, ...]) -> PathGlobs:
    """The compiled form of a rule's path globs, compiled once per process."""
    return PathGlobs(globs)
