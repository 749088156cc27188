"""Read an untrusted SARIF log as a stream of runs, with memory bounded by a per-run result cap.

A SARIF log from a third-party tool or from ``secscan ingest`` is untrusted input, and may be
large (a 158 MB log of a million results took 3 GB as one ``json.loads``). It is read chunk by
chunk and never held whole:

* the bytes are decoded as UTF-8 incrementally and their nesting depth is checked as they arrive
  (:class:`DepthGuard`, at C speed, before ``json`` recurses into them);
* the top-level object, the ``runs`` array, each run object and its ``results`` array are walked
  by :class:`_Window`; every other value (a result, a run's ``tool``, ...) is decoded whole by the
  standard library's C decoder (``raw_decode``) from a window of the text;
* of each run's ``results``, the first ``max_results`` are kept and the rest are counted
  (:attr:`StreamedRun.total_results`), so a reader can tell a truncated run from a complete one.

A run is yielded when its object ends, whatever the order of its keys (``results`` may come
before ``tool``). The log's own checks (``version`` is ``2.1.0``, a ``runs`` list, at most
:data:`MAX_RUNS` runs) can only be complete at the end, so a caller must consume the whole stream
before it acts on what it read. Every problem is one :class:`~secscan.core.errors.InputError`.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from secscan.core.errors import InputError

MAX_SARIF_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 100
MAX_RUNS = 100
CHUNK_BYTES = 1024 * 1024

_NOT_SYNTAX = bytes(c for c in range(256) if c not in b'[]{}"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SPACE = re.compile(r"[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,")
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""(text, index) -> (value, end): the C scanner behind ``raw_decode``, without its Python frame."""
_SCALARS = (int, float, bool, type(None))

OnResult = Callable[[Any], None]


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


@dataclass(frozen=True)
class StreamedRun:
    """One run object. ``run["results"]`` (when the run has a results array) holds its first
    results only; ``total_results`` counts them all."""

    run: Any
    total_results: int = 0

    @property
    def kept_results(self) -> int:
        results = self.run.get("results") if isinstance(self.run, dict) else None
        return len(results) if isinstance(results, list) else 0

    @property
    def truncated(self) -> bool:
        """Whether results were left out (the run is then not a whole analysis)."""
        return self.total_results > self.kept_results


class _Window:
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
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
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
            following = self.peek()
            self.pos += 1
            if following == "]":
                return
            if following != ",":
                self.pos -= 1
                raise self.error("expected ',' or ']'")

    def members(self) -> Iterator[str]:
        """The keys of the object starting here; the caller consumes each key's value."""
        self.take("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            if self.peek() != '"':
                raise self.error("expected a key")
            key = self.value()
            self.take(":")
            yield key
            following = self.peek()
            self.pos += 1
            if following == "}":
                return
            if following != ",":
                self.pos -= 1
                raise self.error("expected ',' or '}'")

    def items(self) -> Iterator[int]:
        """The indexes of the array starting here; the caller consumes each item."""
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            following = self.peek()
            self.pos += 1
            if following == "]":
                return
            if following != ",":
                self.pos -= 1
                raise self.error("expected ',' or ']'")

    def finish(self) -> None:
        if self.peek() != "":
            raise self.error("extra data after the log")


def _run(window: _Window, max_results: int, on_result: OnResult | None) -> StreamedRun:
    if window.peek() != "{":
        return StreamedRun(window.value())  # not an object: the reader says so
    run: dict[str, Any] = {}
    total = 0
    for key in window.members():
        if key != "results" or window.peek() != "[":
            run[key] = window.value()
            continue
        kept: list[Any] = []
        total = 0
        for result in window.values():
            total += 1
            if on_result is not None:
                on_result(result)
            if total <= max_results:
                kept.append(result)
        run[key] = kept
    return StreamedRun(run, total)


def stream_runs(
    chunks: Iterable[bytes], *, max_results: int, on_result: OnResult | None = None
) -> Iterator[StreamedRun]:
    """The runs of a SARIF log given as byte chunks, each with at most ``max_results`` results.

    ``on_result`` sees every result, the ones beyond the cap too. Raises InputError (possibly
    after the last run: consume the whole stream before acting on it).
    """
    window = _Window(chunks)
    if window.peek() != "{":
        if window.peek() == "":
            raise InputError("SARIF log is empty; is it a SARIF 2.1.0 file?")
        raise InputError("SARIF log has no 'runs' list; is it a SARIF 2.1.0 file?")
    version: object = None
    runs_seen = False
    for key in window.members():
        if key == "runs" and window.peek() == "[" and not runs_seen:
            runs_seen = True
            for index in window.items():
                if index >= MAX_RUNS:
                    raise InputError(f"SARIF log has more than {MAX_RUNS} runs; split it")
                yield _run(window, max_results, on_result)
        elif key == "runs":
            raise InputError("SARIF log has no 'runs' list (or more than one); is it a SARIF 2.1.0 file?")
        elif key == "version":
            version = window.value()
        else:
            window.value()
    window.finish()
    if not runs_seen:
        raise InputError("SARIF log has no 'runs' list; is it a SARIF 2.1.0 file?")
    if version != "2.1.0":
        raise InputError(f"SARIF version {version!r} is not supported; produce SARIF 2.1.0")


def chunked(data: bytes, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """``data`` in chunks of ``size`` bytes (a log already in memory, for :func:`stream_runs`)."""
    if len(data) > MAX_SARIF_BYTES:
        raise InputError(f"SARIF log is larger than {MAX_SARIF_BYTES} bytes; split it or filter its results")
    for start in range(0, len(data), size):
        yield data[start : start + size]


__all__ = ["MAX_DEPTH", "MAX_RUNS", "MAX_SARIF_BYTES", "DepthGuard", "StreamedRun", "chunked", "stream_runs"]
