"""Shortening a text that is redacted only later, without leaving part of a secret behind.

Scanner adapters bound the texts they keep (a requirement line, a tool's message, the last line
of its stderr) before the run's redactor has seen them. A plain cut at the limit can fall inside
a secret: ``... token=ghp_Qz9xW8...`` keeps a prefix of the token that neither the token formats
nor the known values match any more, so the prefix reaches every output. :func:`clip` therefore
never keeps part of a word: the word the limit falls in is dropped whole, and so is a quoted span
the cut leaves open (a quoted value may hold spaces). What is kept is a prefix of the text made
of whole words and closed quotes, which the redactor sees as it would in the whole text.
"""

from __future__ import annotations

import re

from secscan.core.quotes import quoted_spans

ELLIPSIS = "..."

_PARTIAL_WORD = re.compile(r"\S+\Z")


def clip(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """``text`` when it has at most ``limit`` characters, else its longest prefix of whole words
    and closed quotes that fits with ``ellipsis`` after it (see the module docstring)."""
    if len(text) <= limit:
        return text
    room = max(limit - len(ellipsis), 0)
    kept = text[:room]
    if not text[room].isspace():
        kept = _PARTIAL_WORD.sub("", kept)  # the limit fell inside a word: none of it is kept
    spans = quoted_spans(kept)
    if spans and spans[-1][1] == len(kept):
        kept = kept[: spans[-1][0] - 1]  # an open quote: its content may be a value cut in two
    return kept.rstrip() + ellipsis
