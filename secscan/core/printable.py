"""Text from a scanned repository made safe for a terminal or a log line.

File names, scanner messages and rule texts come from the target and may hold terminal escape
sequences (``ESC [ 2 J``), C1 controls, line breaks that forge a log line, bidirectional
overrides, or bytes that are not UTF-8. :func:`printable` escapes every character that is not
printable, rather than dropping it, so two different names stay two different texts:

* an ASCII control (and DEL) as ``\\xNN``, a byte that was not UTF-8 (a surrogate escape, see
  :mod:`secscan.fs.names`) as ``\\xNN`` too (``NN`` is then 80..ff, which no ASCII control is);
* any other non-printable character (C1 controls, format and bidi controls, line and paragraph
  separators, other lone surrogates, non-breaking spaces) as ``\\uNNNN`` or ``\\UNNNNNNNN``;
* a backslash as ``\\\\``, so an escape can never be forged by a name that spells one.
"""

from __future__ import annotations

import re

__all__ = ["printable", "surrogates_escaped"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\\":
        return "\\\\"
    if code < 0x80 or 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code & 0xFF:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every non-printable character (and the backslash) escaped; see the module."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(char if char.isprintable() and char != "\\" else _escape(char) for char in text)


def surrogates_escaped(text: str) -> str:
    """``text`` with only its lone surrogates escaped as :func:`printable` does: for a document
    (HTML, Markdown) whose own line breaks must stay, that may quote a name that is not UTF-8."""
    return _SURROGATE.sub(lambda m: _escape(m[0]), text) if not text.isascii() else text
