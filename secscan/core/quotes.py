"""The shapes redaction needs to know about: quoted spans of a text, and word-like values.

Tools quote code between quotes or backticks (``Possible hardcoded password: 'x'``, gitleaks'
``api_key = "x"``, semgrep's ```shell=True```). :func:`quoted_spans` finds those spans in one
pass: a quote opens a span that the next quote of the same kind on the same line closes (an
unclosed one runs to the end of the line, as in a truncated message). An apostrophe between two
letters (``don't``) is not a quote, unless the letters before it are a Python string prefix
(``f'...'``, ``rb'...'``).

:func:`is_wordlike` says whether a secret value could also be an ordinary word of a text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

WORDLIKE_MAX = 24
"""Longer runs of letters are not words of ordinary text (the longest English words have ~22)."""

_QUOTE = re.compile("['\"`\u2018\u2019\u201c\u201d\n]")
_CLOSING = {"\u2018": "\u2019", "\u201c": "\u201d"}
_APOSTROPHES = ("'", "\u2019")
_STRING_PREFIXES = frozenset({"f", "b", "r", "u", "fr", "rf", "br", "rb"})


def is_wordlike(value: str) -> bool:
    """Whether ``value`` has the shape of a word: letters only, lower-case, Capitalised or
    UPPER-case, at most :data:`WORDLIKE_MAX` of them (``secret``, ``Password``, ``TOKEN``).

    Such a value can be, or be part of, a word of any text, so its place in a text says what it
    is. Values with a digit, a symbol or mixed case (``hunter2``, ``sk_live_...``, ``XkQwPz``)
    do not occur in ordinary text.
    """
    if not (0 < len(value) <= WORDLIKE_MAX and value.isalpha()):
        return False
    return value.islower() or value.isupper() or (value[0].isupper() and value[1:].islower())


def _apostrophe(text: str, at: int) -> bool:
    """Whether the quote at ``at`` is an apostrophe: a letter on each side, and the letters
    before it are not a Python string prefix."""
    if at == 0 or at + 1 >= len(text) or not (text[at - 1].isalpha() and text[at + 1].isalpha()):
        return False
    start = at - 1
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    return text[start:at].lower() not in _STRING_PREFIXES


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of the content of every quoted span of ``text``, in order."""
    spans: list[tuple[int, int]] = []
    closing: str | None = None
    opened = 0
    for match in _QUOTE.finditer(text):
        char, at = match.group(), match.start()
        if char == "\n":
            if closing is not None:
                spans.append((opened, at))
                closing = None
            continue
        if char in _APOSTROPHES and _apostrophe(text, at):
            continue
        if closing is None:
            closing, opened = _CLOSING.get(char, char), at + 1
        elif char == closing:
            spans.append((opened, at))
            closing = None
    if closing is not None:
        spans.append((opened, len(text)))
    return spans


def enclosing(
    spans: Sequence[tuple[int, int]], starts: Sequence[int], start: int, end: int
) -> tuple[int, int] | None:
    """The span of ``spans`` (sorted, disjoint; ``starts`` their starts) that holds ``[start, end)``."""
    index = bisect_right(starts, start) - 1
    if index >= 0 and spans[index][1] >= end:
        return spans[index]
    return None
