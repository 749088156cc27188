"""The text of a SARIF log, decoded chunk by chunk and walked: the incremental JSON reader under
:mod:`secscan.scanners.sarif_load`.

:class:`DepthGuard` checks the nesting depth of the bytes as they arrive (at C speed, before
``json`` recurses into them); :class:`Window` decodes them as UTF-8 into a window of text and walks
the objects and arrays it is told to walk (``members``, ``items``, ``values``), decoding every
other value whole with the standard library's C decoder (``raw_decode``'s scanner). Every problem
is one :class:`~secscan.core.errors.InputError`.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate
from typing import Any

from secscan.core.errors import InputError

MAX_DEPTH = 100
CHUNK_BYTES = 1024 * 1024

_NOT_SYNTAX = bytes(c for c in range(256) if c not in b'[]{}"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SPACE = re.compile(r"[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,")
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""(text, index) -> (value, end): the C scanner behind ``raw_decode``, without its Python frame."""
_SCALARS = (int, float, bool, type(None))


class DepthGuard:
    """How deeply the arrays and objects of a JSON text nest, fed its UTF-8 bytes in any chunks.

    Escaped backslashes and then escaped quotes are dropped (left to right, as JSON reads its
    escapes), everything but quotes and brackets is deleted, adjacent quote pairs (strings without
    brackets, most of them) go, and brackets still between quotes are inside strings. The state
    between chunks is the depth, whether the text is inside a string, and whether a backslash
    ends the chunk. UTF-8 never uses ASCII bytes inside a multi-byte character, so the bytes can
    be scanned as they are.
    """

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self.deepest = 0
        self._in_string = False
        self._escaped = False

    def feed(self, data: bytes) -> None:
        """Account for the next bytes. Raises InputError once the nesting exceeds ``limit``."""
        if self._escaped and data:
            data, self._escaped = data[1:], False
        if b"\\" in data:
            data = data.replace(b"\\\\", b"")
            if data.endswith(b"\\"):
                data, self._escaped = data[:-1], True
            data = data.replace(b'\\"', b"")
        syntax = data.translate(None, _NOT_SYNTAX)
        if self._in_string:
            syntax = b'"' + syntax
        syntax = syntax.replace(b'""', b"")
        if b'"' in syntax:  # strings holding brackets: keep what is outside them
            parts = syntax.split(b'"')
            self._in_string = len(parts) % 2 == 0
            syntax = b"".join(parts[::2])
        else:
            self._in_string = False
        if syntax:
            levels = list(accumulate(map(_STEP.__getitem__, syntax), initial=self.depth))
            self.depth = levels[-1]
            self.deepest = max(self.deepest, max(levels))
        if self.deepest > self.limit:
            raise InputError(f"SARIF log nests deeper than {self.limit} levels; refusing to read it")


class Window:
    """A JSON text decoded chunk by chunk: a window of text, a position in it, and the walk."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._guard = DepthGuard()
        self._bytes = 0
        self._dropped = 0  # characters before the window
        self.text = ""
        self.pos = 0
        self.eof = False

    def _more(self, wanted: int = 1) -> bool:
        """Decode at least ``wanted`` more characters into the window (fewer at the end of the
        text); False when nothing more came."""
        before = len(self.text) - self.pos
        parts = [self.text[self.pos :]]
        added = 0
        while added < wanted and not self.eof:
            chunk = next(self._chunks, None)
            try:
                if chunk is None:
                    self.eof = True
                    piece = self._decoder.decode(b"", final=True)
                else:
                    self._guard.feed(chunk)
                    piece = self._decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = self._bytes + exc.start
                raise InputError(f"SARIF log is not UTF-8 (byte {at}); SARIF must be UTF-8 encoded") from None
            self._bytes += len(chunk or b"")
            parts.append(piece)
            added += len(piece)
        self._dropped += self.pos
        self.text, self.pos = "".join(parts), 0
        return len(self.text) > before

    def error(self, what: str) -> InputError:
        return InputError(f"SARIF log is not valid JSON: {what} (character {self._dropped + self.pos})")

    def peek(self) -> str:
        """The next character that is not white space ('' at the end), not consumed."""
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._more():
                return ""

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}")
        self.pos += 1

    def value(self) -> Any:
        """Decode the next value whole (C speed), growing the window until it holds it."""
        self.peek()
        while True:
            try:
                value, end = _scan(self.text, self.pos)
            except (json.JSONDecodeError, StopIteration) as exc:
                if self.eof:
                    raise self.error(getattr(exc, "msg", "expected a value")) from None
                self._more(max(len(self.text) - self.pos, CHUNK_BYTES))  # doubles: linear overall
                continue
            except RecursionError:  # not reached: the depth guard saw these bytes first
                raise self.error("nested too deeply") from None
            if end == len(self.text) and isinstance(value, _SCALARS) and not self.eof:
                self._more()  # a number or literal at the window's end may go on in the next chunk
                continue
            self.pos = end
            return value

    def values(self) -> Iterator[Any]:
        """The items of the array starting here, each decoded whole: the loop over a run's
        results, so the usual case (an object, then a comma) takes no detour."""
        if not self._opened("[", "]"):
            return
        while True:
            text = self.text
            pos = _SPACE.match(text, self.pos).end()  # type: ignore[union-attr]
            try:
                value, end = _scan(text, pos)
            except (json.JSONDecodeError, StopIteration, RecursionError):
                value, end = None, -1
            if end < 0 or end >= len(text) - 1 or type(value) is not dict:
                yield self.value()  # a chunk boundary, a scalar, an error: the slow path
            else:
                self.pos = end
                yield value
            comma = _COMMA.match(self.text, self.pos)
            if comma is not None:
                self.pos = comma.end()
                continue
            if not self._next("]"):
                return

    def members(self) -> Iterator[str]:
        """The keys of the object starting here; the caller consumes each key's value."""
        if not self._opened("{", "}"):
            return
        while True:
            if self.peek() != '"':
                raise self.error("expected a key")
            key = self.value()
            self.take(":")
            yield key
            if not self._next("}"):
                return

    def items(self) -> Iterator[int]:
        """The indexes of the array starting here; the caller consumes each item."""
        if not self._opened("[", "]"):
            return
        index = 0
        while True:
            yield index
            index += 1
            if not self._next("]"):
                return

    def _opened(self, opening: str, closing: str) -> bool:
        """Consume ``opening``; False when the container is empty (its ``closing`` consumed too)."""
        self.take(opening)
        if self.peek() == closing:
            self.pos += 1
            return False
        return True

    def _next(self, closing: str) -> bool:
        """After an item: True at a comma, False at ``closing`` (either consumed); anything else
        is an error, reported at that character."""
        following = self.peek()
        self.pos += 1
        if following == closing:
            return False
        if following != ",":
            self.pos -= 1
            raise self.error(f"expected ',' or {closing!r}")
        return True

    def finish(self) -> None:
        if self.peek() != "":
            raise self.error("extra data after the log")
