"""JSON lockfiles: the document, and the line of every object-valued key below chosen roots.

``json.loads`` gives no positions, so a second pass tokenises the text with one regular
expression (strings and the six structural characters; numbers and literals need no token)
and follows the nesting, recording where each object value's key starts. Linear in the text,
however it is formatted (pretty-printed or on one line).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from secscan.scanners.lockfiles.model import LockfileError

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')
_MAX_DEPTH = 256

KeyPath = tuple[str, ...]


def load(data: bytes) -> Any:
    """The decoded document. Raises LockfileError naming the line of a syntax error."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise LockfileError(f"is not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise LockfileError(f"is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise LockfileError(f"is nested deeper than {_MAX_DEPTH} levels") from None


def _key(token: str) -> str:
    return str(json.loads(token)) if "\\" in token else token[1:-1]


def key_lines(text: str, roots: Collection[str]) -> dict[KeyPath, int]:
    """1-based line of each key whose value is an object, by its path of keys from the top
    (``("packages", "node_modules/a")``), for paths that start with one of ``roots``.

    Call it on a text ``json.loads`` accepted: the tokens are then well nested.
    """
    lines: dict[KeyPath, int] = {}
    # Each open container: (is an object, its key path; None when it is not recorded).
    stack: list[tuple[bool, KeyPath | None]] = []
    pending: str | None = None  # the key whose value comes next, in the innermost object
    pending_line = 0
    line, counted = 1, 0
    expect_key = False
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if piece[0] == '"':
            if expect_key:
                pending = _key(piece)
                line += text.count("\n", counted, match.start())
                counted = match.start()
                pending_line = line
                expect_key = False
        elif piece == "{":
            path: KeyPath | None = () if not stack else None
            if stack and stack[-1][0] and stack[-1][1] is not None and pending is not None:
                candidate = (*stack[-1][1], pending)
                if candidate[0] in roots:
                    path = candidate
                    lines[path] = pending_line
            stack.append((True, path))
            if len(stack) > _MAX_DEPTH:
                raise LockfileError(f"is nested deeper than {_MAX_DEPTH} levels")
            pending, expect_key = None, True
        elif piece == "[":
            stack.append((False, None))
            pending, expect_key = None, False
        elif piece in "}]":
            stack.pop()
            pending, expect_key = None, False
        elif piece == ",":
            pending, expect_key = None, bool(stack) and stack[-1][0]
        # ":" needs nothing: the key stays pending until its value is read
    return lines
