"""Stable finding identity: secscan's fingerprint and GitHub's ``primaryLocationLineHash``.

A finding's identity is (tool, rule, repo-relative path, normalised code context, occurrence
index), never a line number, a message or a scanner version (STYLE.md, "Identity is not a line
number"). So moving code, re-wording a message or upgrading a scanner keeps every fingerprint,
and the same code twice in one file gives two findings told apart by their occurrence index.

The fingerprint is persisted and uploaded: :data:`FINGERPRINT_VERSION` is part of the hashed
material, and any change to what is hashed must bump it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence

from secscan.core import identity_memo
from secscan.core.identity_memo import Answer, IdentityMemo, memo_key_of, memo_slot, recall, text_digest
from secscan.core.linehash import hashes_for_lines
from secscan.core.model import Finding, Location

logger = logging.getLogger(__name__)

FINGERPRINT_VERSION = "secscan/v1"

ReadText = Callable[[str], str | None]
"""Returns a repo-relative file's text, or ``None`` when it cannot be read."""
TextDigests = Callable[[Sequence[str]], Mapping[str, str]]
"""Of repo-relative paths, the :func:`~secscan.core.identity_memo.text_digest` of those whose
current text ``ReadText`` would give is known without reading it (the others are left out)."""


def split_lines(text: str) -> list[str]:
    """Lines as GitHub and Python's tokenizer count them: ``\\n``, ``\\r\\n`` and ``\\r`` end a line."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def normalise_line(line: str) -> str:
    """A line stripped, with each run of internal whitespace collapsed to one space."""
    return " ".join(line.split())


def code_context(lines: Sequence[str], location: Location) -> str:
    """The normalised source lines ``start_line..end_line`` of a location (1-based, inclusive).

    Lines outside the file contribute nothing, so a missing line gives the empty context.
    """
    start = max(location.start_line, 1)
    end = max(location.end_line if location.end_line is not None else start, start)
    return "\n".join(normalise_line(line) for line in lines[start - 1 : end])


def fingerprint(tool: str, rule_id: str, path: str, context: str, occurrence: int) -> str:
    """SHA-256 hex of an unambiguous, versioned encoding of a finding's identity material.

    The material is ``json.dumps([FINGERPRINT_VERSION, tool, rule_id, path, context, occurrence])``.
    """
    return _fingerprint(_material_prefix(tool, rule_id, path), context, occurrence)


def _material_prefix(tool: str, rule_id: str, path: str) -> str:
    """The JSON material up to the context: shared by every finding of a tool, rule and path."""
    return json.dumps([FINGERPRINT_VERSION, tool, rule_id, path])[:-1] + ", "


class _Prefixes:
    """:func:`_material_prefix` from pieces JSON-encoded once each (a JSON list is "[", then the
    items joined by ", ", then "]": the items can be encoded apart)."""

    def __init__(self) -> None:
        self.heads: dict[tuple[str, str], str] = {}

    def prefix(self, tool: str, rule_id: str, path_json: str) -> str:
        head = self.heads.get((tool, rule_id))
        if head is None:
            head = self.heads[(tool, rule_id)] = json.dumps([FINGERPRINT_VERSION, tool, rule_id])[:-1]
        return f"{head}, {path_json}, "


def _fingerprint(prefix: str, context: str, occurrence: int) -> str:
    # The rest of the JSON list, with json.dumps' default separators: the same bytes.
    material = f"{prefix}{json.dumps(context)}, {occurrence:d}]"
    return hashlib.sha256(material.encode("ascii")).hexdigest()


class _Source:
    """One file's lines, each normalised once however many findings share it."""

    def __init__(self, text: str | None) -> None:
        self.lines = split_lines(text) if text is not None else []
        self.normalised: dict[int, str] = {}

    def line(self, index: int) -> str:
        done = self.normalised.get(index)
        if done is None:
            done = self.normalised[index] = normalise_line(self.lines[index])
        return done

    def context(self, location: Location) -> str:
        """:func:`code_context` of ``location`` in this file."""
        start = max(location.start_line, 1)
        end = max(location.end_line if location.end_line is not None else start, start)
        return "\n".join(map(self.line, range(start - 1, min(end, len(self.lines)))))


def _order_key(finding: Finding) -> tuple[object, ...]:
    """Order of equal-context findings: position first, then content, never input order."""
    loc = finding.location
    return (
        loc.start_line,
        loc.start_column or 0,
        loc.end_line if loc.end_line is not None else loc.start_line,
        loc.end_column or 0,
        finding.message,
        finding.tool_severity,
        finding.severity.value,
        finding.aliases,
    )


def _safe_read(read_text: ReadText, path: str) -> str | None:
    try:
        return read_text(path)
    except (OSError, UnicodeError) as exc:
        logger.debug("cannot read %s for finding identity: %s", path, exc)
        return None


def _identified(finding: Finding, fingerprint_: str, line_hash: str | None) -> Finding:
    """``replace(finding, fingerprint=..., line_hash=...)``, built without ``__init__``.

    This runs once per finding (100k for a large log); a frozen dataclass's ``__init__`` sets
    each of the 11 fields through ``object.__setattr__`` and costs several times a dict copy.
    """
    fields = dict(finding.__dict__, fingerprint=fingerprint_, line_hash=line_hash)
    identified = object.__new__(Finding)
    identified.__dict__.update(fields)
    return identified


_MEMO_CHUNK = 256
"""Paths read (and their texts held) at a time when a memo is used: one look-up per chunk..."""
_MEMO_CHUNK_CHARS = 16 * 1024 * 1024
"""... and no more text than this (a chunk ends with the path that passes it)."""



def memo_key(path: str, members: Sequence[Finding], text: str | None, line_hashes: bool) -> bytes:
    """:func:`secscan.core.identity_memo.memo_key` for this version of the fingerprints."""
    return identity_memo.memo_key(path, members, text, line_hashes, FINGERPRINT_VERSION)


def _identify(path: str, members: Sequence[Finding], text: str | None, prefixes: _Prefixes,
              line_hashes: bool) -> Answer:  # fmt: skip
    """The fingerprint and line hash of each of one path's findings."""
    source = _Source(text)
    groups: dict[tuple[str, str, str], list[int]] = {}
    for index, finding in enumerate(members):
        context = finding.identity
        if context is None:
            context = source.context(finding.location)
        groups.setdefault((finding.tool, finding.rule_id, context), []).append(index)
    path_json = json.dumps(path)
    fingerprints = [""] * len(members)
    for (tool, rule_id, context), group in groups.items():
        if len(group) > 1:
            group.sort(key=lambda i: _order_key(members[i]))
        prefix = prefixes.prefix(tool, rule_id, path_json)
        for occurrence, index in enumerate(group):
            fingerprints[index] = _fingerprint(prefix, context, occurrence)
    hashes: dict[int, str] = {}
    if text is not None and line_hashes:
        hashes = hashes_for_lines(text, {f.location.start_line for f in members})
    # one the scanner set is kept (as codeql-action never overwrites one)
    return [
        (fp, f.line_hash or hashes.get(f.location.start_line))
        for fp, f in zip(fingerprints, members, strict=True)
    ]


Entry = tuple[str, list[Finding], str | None, str | None]
"""A path, its findings, and its text, or (not read: the memo may know the answer) its text's digest."""


def _answers(
    chunk: Sequence[Entry],
    prefixes: _Prefixes,
    line_hashes: bool,
    memo: IdentityMemo | None,
    read_text: ReadText,
) -> list[Answer]:
    """Each path's answer: remembered by ``memo`` (looked up once for the chunk), else worked out
    (and then given to ``memo``, keyed by the text it was worked out from)."""
    if memo is None:
        return [_identify(path, group, text, prefixes, line_hashes) for path, group, text, _ in chunk]
    questions = [
        (memo_slot(path, group), memo_key_of(path, group, text_digest(text) if digest is None else digest,
                                             line_hashes, FINGERPRINT_VERSION))
        for path, group, text, digest in chunk
    ]  # fmt: skip
    known = memo.recall(questions)
    answers: list[Answer] = []
    learnt: list[tuple[str, bytes, str]] = []
    for (path, group, text, digest), (slot, key) in zip(chunk, questions, strict=True):
        answer = recall(known.get(slot), len(group))
        if answer is None:
            if digest is not None:  # read now, and keyed by what was read
                text = _safe_read(read_text, path)
                key = memo_key(path, group, text, line_hashes)
            answer = _identify(path, group, text, prefixes, line_hashes)
            learnt.append((slot, key, json.dumps(answer)))
        answers.append(answer)
    if learnt:
        memo.remember(learnt)
    return answers


def _chunks(
    paths: Sequence[tuple[str, list[int]]],
    findings: Sequence[Finding],
    read_text: ReadText,
    memo: bool,
    digests: TextDigests | None,
) -> Iterator[list[Entry]]:
    """The paths with their findings and texts (or digests), a path at a time, or (``memo``) a
    chunk at a time; only texts count towards a chunk's size."""
    for start in range(0, len(paths), _MEMO_CHUNK if memo else 1):
        batch = paths[start : start + (_MEMO_CHUNK if memo else 1)]
        known = digests([path for path, _ in batch]) if memo and digests is not None else {}
        chunk: list[Entry] = []
        chars = 0
        for path, members in batch:
            group = [findings[i] for i in members]
            if path in known:
                chunk.append((path, group, None, known[path]))
                continue
            text = _safe_read(read_text, path)
            chunk.append((path, group, text, None))
            chars += len(text or "")
            if chars >= _MEMO_CHUNK_CHARS:
                yield chunk
                chunk, chars = [], 0
        if chunk:
            yield chunk


def assign_identities(
    findings: Sequence[Finding],
    read_text: ReadText,
    *,
    line_hashes: bool = True,
    memo: IdentityMemo | None = None,
    digests: TextDigests | None = None,
) -> tuple[Finding, ...]:
    """The findings, in the same order, with ``fingerprint`` and ``line_hash`` filled.

    Each distinct path is read once through ``read_text`` and dropped once its findings are
    done. ``line_hash`` is GitHub's hash of ``location.start_line`` and is ``None`` when the
    file cannot be read or the line is outside it, or when ``line_hashes`` is false (it is
    only needed for a SARIF upload, and costs about a third of the work). A ``line_hash`` the
    scanner set itself (git-history and posture, whose lines are not the current file's) is kept.
    With a ``memo``, a path whose text and findings are as they were when it was last answered
    (:func:`memo_key`) gets that answer back instead of being worked out again; a path whose text's
    digest ``digests`` knows is then not even read.
    """
    by_path: dict[str, list[int]] = {}
    for index, finding in enumerate(findings):
        by_path.setdefault(finding.location.path, []).append(index)
    fingerprints = [""] * len(findings)
    hashes_of: list[str | None] = [None] * len(findings)
    prefixes = _Prefixes()
    paths = iter(by_path.items())
    for chunk in _chunks(list(by_path.items()), findings, read_text, memo is not None, digests):
        answers = _answers(chunk, prefixes, line_hashes, memo, read_text)
        for (_, members), answer in zip(itertools.islice(paths, len(chunk)), answers, strict=True):
            for index, (fp, line_hash) in zip(members, answer, strict=True):
                fingerprints[index], hashes_of[index] = fp, line_hash
    return tuple(map(_identified, findings, fingerprints, hashes_of))
