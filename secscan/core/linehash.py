"""GitHub code scanning's ``primaryLocationLineHash``, computed exactly as github/codeql-action does.

The algorithm (``src/fingerprints.ts`` of github/codeql-action) walks the file's UTF-16 code units,
skips spaces, tabs and an LF directly after a CR, turns CR into LF, appends one EOF unit (65535)
and 100 zero units, and keeps a rolling polynomial hash over the last 100 processed units
(base 37, 64-bit wrap-around). The hash of line *k* is the hash of the 100 processed units that
start at line *k*'s first processed unit, written as ``"<hex>:<n>"`` where ``n`` counts how often
that hex value has been seen so far in the file (1-based).

Two implementations live here:

* :func:`line_hashes` is a direct port of the reference loop (one Python step per code unit).
  It is the oracle for the tests; it is far too slow for a whole tree.
* :func:`hashes_for_lines` is what production uses. It builds the processed unit stream once
  with C-level string and bytes operations, slices every line's 100-unit window from it,
  evaluates the polynomial only for the requested lines and counts earlier identical windows
  (byte strings, hashed by a dict) instead of earlier identical hash values.

Both number lines the way GitHub does: a line break is ``\\n``, ``\\r`` or ``\\r\\n``; a file always
has ``number of line breaks + 1`` lines (so a trailing newline adds a last, empty line).
Lines outside ``1..line_count`` get no hash: GitHub never emits one for them either.

One documented difference: the fast path counts ``n`` by equality of the 100-unit windows,
the reference by equality of the 64-bit hash. They differ only when two different windows of one
file collide in the 64-bit hash, which natural source text does not produce in practice.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Collection, Iterable
from itertools import accumulate, repeat
from operator import add, methodcaller, mul

BLOCK_SIZE = 100
MOD = 37
_MASK = (1 << 64) - 1
_EOF = 0xFFFF
_TAB = 0x09
_SPACE = 0x20
_LF = 0x0A
_CR = 0x0D

_FIRST_MOD = pow(MOD, BLOCK_SIZE, 1 << 64)
# Weight of the i-th unit of a window: MOD ** (BLOCK_SIZE - 1 - i), mod 2**64.
_WEIGHTS = tuple(pow(MOD, BLOCK_SIZE - 1 - i, 1 << 64) for i in range(BLOCK_SIZE))
_UNIT = 2  # bytes per UTF-16 code unit
_PADDING = b"\xff\xff" + b"\x00\x00" * BLOCK_SIZE  # EOF, then the zeros that flush the last lines


def _code_units(text: str) -> array[int]:
    """The UTF-16 code units of ``text`` (what JavaScript's ``charCodeAt`` sees)."""
    units = array("H")
    # surrogatepass: a lone surrogate in a Python str is one code unit, as in a JavaScript string.
    units.frombytes(text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":  # pragma: no cover - the platforms we run on are little-endian
        units.byteswap()
    return units


def line_hashes(text: str) -> list[str]:
    """Every line's hash, in line order: the reference port of codeql-action's ``hash()``.

    One Python step per code unit; use :func:`hashes_for_lines` for real files.
    """
    window = [0] * BLOCK_SIZE
    line_numbers = [-1] * BLOCK_SIZE
    hash_raw = 0
    index = 0
    line_number = 0
    line_start = True
    prev_cr = False
    counts: dict[str, int] = {}
    out: list[str] = []

    def output() -> None:
        hex_value = format(hash_raw, "x")
        counts[hex_value] = counts.get(hex_value, 0) + 1
        out.append(f"{hex_value}:{counts[hex_value]}")
        line_numbers[index] = -1

    def update(current: int) -> None:
        nonlocal hash_raw, index
        begin = window[index]
        window[index] = current
        hash_raw = (MOD * hash_raw + current - _FIRST_MOD * begin) & _MASK
        index = (index + 1) % BLOCK_SIZE

    def process(current: int) -> None:
        nonlocal prev_cr, line_start, line_number
        if current in (_SPACE, _TAB) or (prev_cr and current == _LF):
            prev_cr = False
            return
        if current == _CR:
            current = _LF
            prev_cr = True
        else:
            prev_cr = False
        if line_numbers[index] != -1:
            output()
        if line_start:
            line_start = False
            line_number += 1
            line_numbers[index] = line_number
        if current == _LF:
            line_start = True
        update(current)

    for unit in _code_units(text):
        process(unit)
    process(_EOF)
    for _ in range(BLOCK_SIZE):
        if line_numbers[index] != -1:
            output()
        update(0)
    return out


def _normalise(text: str) -> str:
    """The processed characters (before UTF-16 encoding), EOF and padding excluded.

    Equivalent to the reference loop's filtering: every LF that directly follows a CR in the
    input is dropped, every CR becomes LF, spaces and tabs are dropped, in that order (a space
    between CR and LF makes that LF a line break of its own, as in the reference).
    """
    # Work on UTF-8 bytes: these four characters are single bytes there, never part of a
    # multi-byte sequence, and bytes.translate deletes them about twice as fast as str.replace.
    data = text.encode("utf-8", "surrogatepass").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data.translate(None, b" \t").decode("utf-8", "surrogatepass")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // _UNIT


def _window_hash(window: bytes) -> int:
    """The polynomial of 100 processed units (UTF-16-LE bytes): what the rolling hash holds."""
    units = array("H")
    units.frombytes(window)
    if sys.byteorder == "big":  # pragma: no cover
        units.byteswap()
    total: int = sum(map(mul, units, _WEIGHTS))
    return total & _MASK


def _line_windows(normalised: str, stream: bytes, last_line: int) -> list[bytes]:
    """The 100-unit window (UTF-16-LE bytes) of each line 1..``last_line``, built at C level."""
    parts = normalised.split("\n", last_line - 1)[: last_line - 1]
    if _utf16_len(normalised) == len(normalised):  # no astral characters: one unit per character
        byte_lengths: Iterable[int] = map(_UNIT.__mul__, map(len, parts))
    else:
        byte_lengths = map(len, map(methodcaller("encode", "utf-16-le", "surrogatepass"), parts))
    # Line k starts after the k-1 earlier lines and their k-1 LFs.
    prefix = accumulate(byte_lengths, initial=0)
    starts = list(map(add, prefix, range(0, last_line * _UNIT, _UNIT)))
    ends = map(add, starts, repeat(BLOCK_SIZE * _UNIT))
    return list(map(stream.__getitem__, map(slice, starts, ends)))


def _occurrences(windows: list[bytes], wanted: list[int]) -> dict[int, int]:
    """For each wanted line, how many lines up to it have the same window (1-based count)."""
    totals = Counter(windows)
    counts = {line: 1 for line in wanted if totals[windows[line - 1]] == 1}
    repeated = [line for line in wanted if line not in counts]
    if repeated:  # one pass over the lines before the last repeated one
        needed = {windows[line - 1] for line in repeated}
        targets = set(repeated)
        running: Counter[bytes] = Counter()
        for line, window in enumerate(windows[: repeated[-1]], start=1):
            if window in needed:
                running[window] += 1
                if line in targets:
                    counts[line] = running[window]
    return counts


def hashes_for_lines(text: str, lines: Collection[int]) -> dict[int, str]:
    """The hashes of the requested 1-based ``lines`` of ``text``, equal to :func:`line_hashes`.

    Lines below 1 or above the file's line count (line breaks + 1) are left out of the result,
    as GitHub computes no hash for them.
    """
    normalised = _normalise(text)
    line_count = normalised.count("\n") + 1
    wanted = sorted({line for line in lines if 1 <= line <= line_count})
    if not wanted:
        return {}
    stream = normalised.encode("utf-16-le", "surrogatepass") + _PADDING
    windows = _line_windows(normalised, stream, wanted[-1])
    counts = _occurrences(windows, wanted)
    return {line: f"{_window_hash(windows[line - 1]):x}:{counts[line]}" for line in wanted}
