"""The memo of :func:`secscan.core.identity.assign_identities` (issue 18): what a path's answer is
keyed by, where it is kept, and how a remembered answer is checked before it is used.

A path's answer (each finding's fingerprint and line hash) depends on the path, the file's text
and some fields of its findings, and on nothing else; :func:`memo_key` hashes exactly those, so an
answer is only given back for the same question. The memo itself is an adapter (the result cache).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Protocol

from secscan.core.model import Finding


class IdentityMemo(Protocol):
    """Earlier answers of :func:`~secscan.core.identity.assign_identities` (the result cache, issue 18): one
    per slot (a tool's findings in one path), given back only while the slot's key is the one
    asked for."""

    def recall(self, questions: Sequence[tuple[str, bytes]]) -> Mapping[str, str]: ...

    def remember(self, answers: Sequence[tuple[str, bytes, str]]) -> None: ...


_MEMO = "secscan-identity-memo/1"
"""Bump when what a path's identities depend on changes without a change to FINGERPRINT_VERSION."""
Answer = list[tuple[str, str | None]]
"""Per finding of one path: its fingerprint and its line hash."""


def memo_key(
    path: str, members: Sequence[Finding], text: str | None, line_hashes: bool, version: str
) -> bytes:
    """The key of one path's answer: everything it is worked out from, the file's text hashed, and
    the ``version`` of the fingerprints (:data:`secscan.core.identity.FINGERPRINT_VERSION`).

    That is the path, the text, and of each finding (in order) what the context, the order of
    equal contexts and the line hash come from; anything else about a finding never changes it.
    """
    return memo_key_of(path, members, text_digest(text), line_hashes, version)


def text_digest(text: str | None) -> str:
    """How :func:`memo_key` names a file's text: its UTF-8's SHA-256 (hex; ``-``: no text). For a
    file that is valid UTF-8 that is the SHA-256 of the file's bytes (a digest the caller may
    already know without reading the file, see :func:`memo_key_of`)."""
    return "-" if text is None else hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def memo_key_of(path: str, members: Sequence[Finding], digest: str, line_hashes: bool, version: str) -> bytes:
    """:func:`memo_key` from the text's :func:`text_digest`."""
    rows = [
        [f.tool, f.rule_id, f.location.start_line, f.location.start_column, f.location.end_line,
         f.location.end_column, f.identity, f.message, f.tool_severity, f.severity.value, list(f.aliases),
         f.line_hash]
        for f in members
    ]  # fmt: skip
    material = json.dumps([_MEMO, version, line_hashes, path, digest, rows], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).digest()


def memo_slot(path: str, members: Sequence[Finding]) -> str:
    """Where one path's answer is kept: its tools and its path (a newer answer replaces it). ASCII:
    a path that is not UTF-8 (its undecodable bytes as surrogates) is escaped."""
    return json.dumps([sorted({f.tool for f in members}), path])


def recall(value: str | None, count: int) -> Answer | None:
    """A remembered answer for ``count`` findings, or None when there is none or it is malformed."""
    if value is None:
        return None
    try:
        answer = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, list) or len(answer) != count:
        return None
    for item in answer:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and (item[1] is None or isinstance(item[1], str))):  # fmt: skip
            return None
    return [(fp, line_hash) for fp, line_hash in answer]
