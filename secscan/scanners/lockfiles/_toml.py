"""TOML lockfiles (poetry, uv, pylock): the document, and the line of each array-of-tables entry.

``tomllib`` gives no positions, so the lines come from the ``[[package]]`` headers, in order: the
n-th header opens the n-th entry of the array, and an entry's line is its ``name = ...`` line
(else the header's). A header inside a multi-line string would break that pairing, so when the
counts differ every entry gets line 1 rather than a wrong line.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from secscan.scanners.lockfiles.model import LockfileError

_NAME = re.compile(r"^[ \t]*name[ \t]*=")


def load(data: bytes) -> tuple[dict[str, Any], str]:
    """The decoded document and its text. Raises LockfileError."""
    try:
        text = data.decode("utf-8")
        return tomllib.loads(text), text
    except UnicodeDecodeError as exc:
        raise LockfileError(f"is not UTF-8 ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise LockfileError(f"is not valid TOML ({' '.join(str(exc).split())})") from None
    except RecursionError:
        raise LockfileError("is nested too deeply") from None


def entries(doc: dict[str, Any], text: str, table: str) -> list[tuple[int, Any]]:
    """The entries of the array of tables ``table`` (``[[table]]``), each with its header's line."""
    found = doc.get(table, [])
    if not isinstance(found, list):
        raise LockfileError(f"has a '{table}' that is not an array of tables")
    header = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(table)}[ \t]*\]\][ \t]*(#.*)?$")
    lines: list[int] = []
    named = False  # whether the current entry's name line was seen
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            lines.append(number)
            named = False
        elif lines and not named and _NAME.match(line):
            lines[-1], named = number, True
        elif line.lstrip().startswith("["):
            named = True  # a sub-table: the name comes before it or not at all
    if len(lines) != len(found):
        lines = [1] * len(found)
    return list(zip(lines, found, strict=True))
