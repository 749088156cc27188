"""Which literal strings every match of a regular expression contains: a cheap test before a search.

:func:`required` reads a pattern's parse tree (the standard library's ``re._parser``, the parser
``re.compile`` itself uses) and returns a set of strings such that every match contains one of
them, or None when it cannot tell. The rules are the textbook ones, each sound on its own:

- consecutive literal characters of a sequence are matched one after the other, so the run is
  in every match of the sequence; so is what any one element of a sequence requires;
- a repeat of at least one requires what its body requires; a group, what its content does;
- an alternation requires one of what its branches require (none known if one branch has none);
- a small character class of plain characters (``['"]``) requires one of them;
- everything else (lookarounds, anchors, classes, back-references, conditionals, atomic groups)
  contributes nothing, and a sequence keeps the best of what its elements give.

Case-insensitive parts give lower-case ASCII strings (flag True): with ``re.IGNORECASE`` an ASCII
letter also matches a few non-ASCII letters (``k`` the Kelvin sign, ``s`` the long s), so those
strings only decide for ASCII lines, compared with ``line.lower()``; a non-ASCII literal under
``re.IGNORECASE`` contributes nothing.

:class:`AnySearch` uses this to answer ``any(p.search(line) for p in patterns)`` with the same
truth value: one search of all required strings (a look-ahead alternation, longest first, finds
at every position the longest one that starts there; the shorter ones starting there are its
prefixes) picks the patterns that may match, and only those are searched. Patterns whose
requirement is unknown or a single character (found on most lines anyway) are always searched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Requirement = frozenset[tuple[str, bool]]
"""(string, case-insensitive) pairs, one of which is in every match."""

SMALL_CLASS = 3
"""A character class of at most this many plain characters counts as their alternation."""


def _parse(pattern: re.Pattern[str]) -> Any:
    try:
        from re import _parser  # type: ignore[attr-defined]

        return _parser.parse(pattern.pattern, pattern.flags), _parser
    except Exception:  # another interpreter, or a changed parser: nothing is required
        return None, None


def required(pattern: re.Pattern[str]) -> Requirement | None:
    """Strings one of which every match of ``pattern`` contains, or None when unknown."""
    tree, parser = _parse(pattern)
    if tree is None:
        return None
    try:
        return _sequence(parser, tree.data, bool(pattern.flags & re.IGNORECASE))
    except Exception:  # an unexpected tree shape
        return None


def _best(candidates: list[Requirement]) -> Requirement | None:
    """The most selective requirement: the longest shortest string, then the fewest strings."""
    if not candidates:
        return None
    return max(candidates, key=lambda r: (min(len(s) for s, _ in r), -len(r)))


def _sequence(parser: Any, items: Iterable[tuple[Any, Any]], icase: bool) -> Requirement | None:
    c = parser  # the op codes (LITERAL, IN, ...) are re-exported by the parser module
    candidates: list[Requirement] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset({("".join(run), icase)}))
            run.clear()

    for op, av in items:
        if op is c.LITERAL and (not icase or av < 128):
            run.append(chr(av).lower() if icase else chr(av))
            continue
        flush()
        found: Requirement | None = None
        if op is c.SUBPATTERN:
            _group, add, remove, body = av
            inner = (icase or bool(add & re.IGNORECASE)) and not remove & re.IGNORECASE
            found = _sequence(c, body.data, inner)
        elif op is c.BRANCH:
            branches = [_sequence(c, branch.data, icase) for branch in av[1]]
            if branches and all(b is not None for b in branches):
                found = frozenset().union(*(b for b in branches if b is not None))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)) and av[0] >= 1:
            found = _sequence(c, av[2].data, icase)
        elif op is c.IN and not icase and 0 < len(av) <= SMALL_CLASS and all(o is c.LITERAL for o, _ in av):
            found = frozenset((chr(a), False) for _, a in av)
        if found:
            candidates.append(found)
    flush()
    return _best(candidates)


Search = Callable[[str], "re.Match[str] | None"]


class AnySearch:
    """``any(p.search(line) for p in patterns)``, searching only the patterns that may match."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self._all: tuple[Search, ...] = tuple(p.search for p in patterns)
        always: list[Search] = []
        by_string: dict[tuple[str, bool], set[int]] = {}
        for index, pattern in enumerate(patterns):
            need = required(pattern)
            if need is None or min(len(s) for s, _ in need) < 2:
                always.append(pattern.search)
                continue
            for key in need:
                by_string.setdefault(key, set()).add(index)
        self._always = tuple(always)
        # A string found also stands for every required string it starts with.
        self._chosen: dict[tuple[str, bool], tuple[Search, ...]] = {}
        for key in by_string:
            text, folded = key
            ids = set().union(*(i for (s, f), i in by_string.items() if f == folded and text.startswith(s)))
            self._chosen[key] = tuple(patterns[i].search for i in sorted(ids))
        self._exact = self._finder(s for s, folded in by_string if not folded)
        self._folded = self._finder(s for s, folded in by_string if folded)

    @staticmethod
    def _finder(strings: Iterable[str]) -> Callable[[str], list[str]]:
        ordered = sorted(set(strings), key=lambda s: (-len(s), s))
        if not ordered:
            return lambda line: []
        return re.compile("(?=(" + "|".join(map(re.escape, ordered)) + "))").findall

    def __call__(self, line: str) -> bool:
        if not line.isascii():
            return self._search(self._all, line)
        if self._search(self._always, line):
            return True
        chosen: set[Search] = set()
        for found in self._exact(line):
            chosen.update(self._chosen[(found, False)])
        for found in self._folded(line.lower()):
            chosen.update(self._chosen[(found, True)])
        return self._search(chosen, line)

    @staticmethod
    def _search(searches: Iterable[Search], line: str) -> bool:
        for search in searches:  # noqa: SIM110 - a loop: any() over a generator costs more here
            if search(line) is not None:
                return True
        return False
