"""The values behind detect-secrets' hashes, recovered from the flagged lines.

detect-secrets reports only ``sha1(secret)``. To *remove* a secret from everything else a run
writes, secscan finds the substring of the flagged line whose SHA-1 is that hash. One line is
searched once for all the hashes reported on it, shortest delimiter-bounded spans first, within
a fixed budget of candidates and hashed characters: a 19 KB line with 300 hashes costs one pass
over its tokens, not 300 passes over all its spans (which took 51 s).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from secscan.core.model import Finding
from secscan.fs.source_reader import source_reader
from secscan.scanners.detect_secrets import IDENTITY_PREFIX

FULL_SEARCH_MAX_LINE = 400
"""Lines up to this many characters are searched substring by substring when tokens fail."""

MAX_TOKEN_CANDIDATES = 20_000
"""Delimiter-bounded spans tried per line, at most."""

MAX_HASHED_CHARS = 4_000_000
"""Characters hashed per line for delimiter-bounded spans, at most."""

_DELIMITER = re.compile(r"""[\s'"`=:,;()\[\]{}<>@/]""")
_SHA1_HEX = re.compile(r"[0-9a-f]{40}")


def _sha1_hex(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def _token_spans(line: str) -> Iterator[str]:
    """Substrings that start and end at token delimiters: single tokens first, then spans over
    two tokens, and so on, within :data:`MAX_TOKEN_CANDIDATES` and :data:`MAX_HASHED_CHARS`."""
    cuts = [m.start() for m in _DELIMITER.finditer(line)]
    starts = [0, *(c + 1 for c in cuts)]
    ends = [*cuts, len(line)]
    produced = hashed = 0
    for width in range(len(starts)):
        for first in range(len(starts) - width):
            start, end = starts[first], ends[first + width]
            if end > start:
                yield line[start:end]
                produced += 1
                hashed += end - start
                if produced >= MAX_TOKEN_CANDIDATES or hashed >= MAX_HASHED_CHARS:
                    return


def _all_substrings(line: str) -> Iterator[str]:
    for start in range(len(line)):
        for end in range(start + 1, len(line) + 1):
            yield line[start:end]


def recover_secrets(line: str, hashed_secrets: Iterable[str]) -> dict[str, str]:
    """``{hash: value}`` for each SHA-1 hex in ``hashed_secrets`` whose value is a substring of ``line``.

    Delimiter-bounded spans are tried first (see :func:`_token_spans`); lines of at most
    :data:`FULL_SEARCH_MAX_LINE` characters are then searched exhaustively for the hashes still
    missing. A hash whose value is not on the line (a secret detect-secrets assembled across
    lines) or is malformed is left out. Hashes are returned lower-case.
    """
    wanted = {h.strip().lower() for h in hashed_secrets}
    wanted = {h for h in wanted if _SHA1_HEX.fullmatch(h)}
    found: dict[str, str] = {}
    searches = [_token_spans(line)]
    if len(line) <= FULL_SEARCH_MAX_LINE:
        searches.append(_all_substrings(line))
    for candidates in searches:
        for candidate in candidates:
            if not wanted:
                return found
            digest = _sha1_hex(candidate)
            if digest in wanted:
                found[digest] = candidate
                wanted.discard(digest)
    return found


def recover_secret(line: str, hashed_secret: str) -> str | None:
    """The substring of ``line`` whose SHA-1 hex is ``hashed_secret``, if any (see
    :func:`recover_secrets`)."""
    return recover_secrets(line, [hashed_secret]).get(hashed_secret.strip().lower())


def secret_values(root: Path, findings: Sequence[Finding]) -> set[str]:
    """The values behind the detect-secrets findings among ``findings`` (files under ``root``),
    so that every output can drop them. Each flagged line is searched once for all its hashes."""
    wanted: dict[str, dict[int, set[str]]] = {}
    for f in findings:
        if f.identity and f.identity.startswith(IDENTITY_PREFIX):
            by_line = wanted.setdefault(f.location.path, {})
            by_line.setdefault(f.location.start_line, set()).add(f.identity[len(IDENTITY_PREFIX) :])
    values: set[str] = set()
    read = source_reader(root)
    for path, lines in wanted.items():
        text = read(path)
        if text is None:
            continue
        split = text.splitlines()
        for line_no, digests in lines.items():
            if 1 <= line_no <= len(split):
                values.update(recover_secrets(split[line_no - 1], digests).values())
    return values
