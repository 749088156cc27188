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
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from secscan.linehash import hashes_for_lines
from secscan.model import Finding, Location

logger = logging.getLogger(__name__)

FINGERPRINT_VERSION = "secscan/v1"

ReadText = Callable[[str], str | None]
"""Returns a repo-relative file's text, or ``None`` when it cannot be read."""


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
    """SHA-256 hex of an unambiguous, versioned encoding of a finding's identity material."""
    material = json.dumps([FINGERPRINT_VERSION, tool, rule_id, path, context, occurrence])
    return hashlib.sha256(material.encode("ascii")).hexdigest()


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


def assign_identities(findings: Sequence[Finding], read_text: ReadText) -> tuple[Finding, ...]:
    """The findings, in the same order, with ``fingerprint`` and ``line_hash`` filled.

    Each distinct path is read once through ``read_text``. ``line_hash`` is GitHub's hash of
    ``location.start_line`` and is ``None`` when the file cannot be read or the line is outside it.
    """
    texts = {path: _safe_read(read_text, path) for path in dict.fromkeys(f.location.path for f in findings)}
    lines = {path: split_lines(text) for path, text in texts.items() if text is not None}

    contexts: list[str] = []
    for finding in findings:
        if finding.identity is not None:
            contexts.append(finding.identity)
        else:
            contexts.append(code_context(lines.get(finding.location.path, ()), finding.location))

    groups: defaultdict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for index, (finding, context) in enumerate(zip(findings, contexts, strict=True)):
        groups[(finding.tool, finding.rule_id, finding.location.path, context)].append(index)
    fingerprints: dict[int, str] = {}
    for (tool, rule_id, path, context), members in groups.items():
        ordered = sorted(members, key=lambda i: _order_key(findings[i]))
        for occurrence, index in enumerate(ordered):
            fingerprints[index] = fingerprint(tool, rule_id, path, context, occurrence)

    wanted: defaultdict[str, set[int]] = defaultdict(set)
    for finding in findings:
        wanted[finding.location.path].add(finding.location.start_line)
    line_hashes: dict[str, dict[int, str]] = {
        path: hashes_for_lines(text, wanted[path]) for path, text in texts.items() if text is not None
    }

    return tuple(
        replace(
            finding,
            fingerprint=fingerprints[index],
            line_hash=line_hashes.get(finding.location.path, {}).get(finding.location.start_line),
        )
        for index, finding in enumerate(findings)
    )


def source_reader(root: Path) -> ReadText:
    """A ``read_text`` over files under ``root``, decoded as GitHub does (UTF-8, BOM and CRs kept).

    Invalid UTF-8 becomes U+FFFD. Paths that are missing, not regular files or that resolve
    outside ``root`` give ``None``.
    """
    base = root.resolve()

    def read(path: str) -> str | None:
        candidate = (base / path).resolve()
        if not candidate.is_relative_to(base) or not candidate.is_file():
            return None
        try:
            return candidate.read_bytes().decode("utf-8", "replace")
        except OSError as exc:
            logger.debug("cannot read %s for finding identity: %s", candidate, exc)
            return None

    return read
