"""Cache values: one file's results in a path-free form, and a pin's vulnerabilities.

A value is compact JSON (zlib-compressed when that pays), with the file's path, the tool's name
and everything the pipeline adds later (fingerprints, line hashes, states) left out: the path
and tool are supplied again when the value is read, so one entry can serve a renamed, moved or
copied file. Decoding is strict; any surprise raises :class:`ValueError` and the caller treats
the entry as missing.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from secscan.core.model import (
    Finding,
    FindingState,
    Location,
    Notification,
    NotificationLevel,
    Package,
    Rule,
    Severity,
    ToolName,
)
from secscan.fs.names import json_dumps
from secscan.scanners.interface import FileOutput

Redact = Callable[[str], str]

_COMPRESS_OVER = 256


def pack(document: object) -> bytes:
    raw = json_dumps(document, separators=(",", ":")).encode()  # a path's surrogates as \u escapes
    return b"z" + zlib.compress(raw, 6) if len(raw) > _COMPRESS_OVER else b"j" + raw


def unpack(value: bytes) -> Any:
    try:
        if value[:1] == b"z":
            return json.loads(zlib.decompress(value[1:]))
        if value[:1] == b"j":
            return json.loads(value[1:])
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"undecodable cache value: {exc}") from None
    raise ValueError("unknown cache value format")


def texts(output: FileOutput) -> list[str]:
    """Every free text of a file's results (where a tool could quote the file's name)."""
    out = [f.message for f in output.findings] + [n.message for n in output.notifications]
    for r in output.rules:
        out += [r.short_description, r.full_description, r.help_text]
    return out


def mentions(output: FileOutput, path: str) -> bool:
    """Whether any free text names the file (its path or its base name)."""
    name = PurePosixPath(path).name
    return any(path in text or (name and name in text) for text in texts(output))


def portable(output: FileOutput, tool: str, path: str) -> bool:
    """Whether the results can be stored path-free: they are about ``path`` only, as the adapter made them."""
    return all(
        f.tool == tool
        and f.location.path == path
        and not f.fingerprint
        and f.line_hash is None
        and f.state is FindingState.NEW
        for f in output.findings
    ) and all(n.path == path for n in output.notifications)


def encode_file(output: FileOutput, redact: Redact, redact_rule: Redact | None = None) -> bytes:
    """A file's results as a cache value, free texts passed through ``redact`` (rule texts,
    which the tool wrote, through ``redact_rule`` when given)."""
    rule = redact_rule or redact
    return pack(
        {
            "c": output.covered,
            "f": [finding_row(f, redact) for f in output.findings],
            "r": [rule_row(r, rule) for r in output.rules],
            "n": [[n.level.value, redact(n.message), n.line] for n in output.notifications],
        }
    )


def finding_row(f: Finding, redact: Redact) -> list[object]:
    """A finding without its tool and path, as :func:`finding_of` reads it back."""
    where = [f.location.start_line, f.location.start_column, f.location.end_line, f.location.end_column]
    return [f.rule_id, redact(f.message), *where, f.severity.value, f.tool_severity, f.identity,
            list(f.aliases), *_package(f.package)]


def rule_row(r: Rule, redact: Redact) -> list[object]:
    return [r.id, r.name, redact(r.short_description), redact(r.full_description), redact(r.help_text),
            r.help_uri, list(r.tags)]


def _package(package: Package | None) -> list[list[object]]:
    """A finding's package as an optional last element (rows without one keep their old shape)."""
    if package is None:
        return []
    return [[package.ecosystem, package.name, package.version, list(package.fixed)]]


def _decode_package(value: object) -> Package:
    if not isinstance(value, list) or len(value) != 4:
        raise ValueError("malformed package")
    ecosystem, name, version, fixed = value
    return Package(str_of(ecosystem), str_of(name), str_of(version), _strs(fixed))


def str_of(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def opt_int(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("expected an integer")
    return value


def _strs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return tuple(str_of(v) for v in value)


def finding_of(row: Sequence[Any], tool: ToolName, path: str) -> Finding:
    """The finding of a :func:`finding_row`, placed at ``path``."""
    rule_id, message, line, col, end_line, end_col, severity, tool_severity, identity, aliases = row[:10]
    if len(row) not in (10, 11):
        raise ValueError("malformed finding")
    start = opt_int(line)
    return Finding(
        tool=tool,
        rule_id=str_of(rule_id),
        message=str_of(message),
        location=Location(path, start if start is not None else 1, opt_int(col), opt_int(end_line),
                          opt_int(end_col)),
        severity=Severity(severity),
        tool_severity=str_of(tool_severity),
        identity=None if identity is None else str_of(identity),
        aliases=_strs(aliases),
        package=_decode_package(row[10]) if len(row) == 11 else None,
    )


def rule_of(row: Sequence[Any]) -> Rule:
    rule_id, name, short, full, help_text, uri, tags = row
    return Rule(str_of(rule_id), str_of(name), str_of(short), str_of(full), str_of(help_text),
                None if uri is None else str_of(uri), _strs(tags))


def decode_file(value: bytes, tool: ToolName, path: str) -> FileOutput:
    """The results stored in ``value``, placed at ``path``. Raises ValueError when malformed."""
    empty = _EMPTY.get(value)
    if empty is not None:  # most files have no results: their value is one of two constants
        return empty
    doc = unpack(value)
    try:
        covered = doc["c"]
        if not isinstance(covered, bool):
            raise ValueError("'c' is not a boolean")
        return FileOutput(
            findings=tuple(finding_of(row, tool, path) for row in doc["f"]),
            rules=tuple(rule_of(row) for row in doc["r"]),
            notifications=tuple(
                Notification(NotificationLevel(level), str_of(message), path, opt_int(line))
                for level, message, line in doc["n"]
            ),
            covered=covered,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed cache value: {exc!r}") from None


_EMPTY = {encode_file(FileOutput(covered=c), str): FileOutput(covered=c) for c in (True, False)}
"""The values of files without results, and their (path-free, shared) decoding (issue 18)."""


def encode_vulns(vulns: Sequence[Mapping[str, Any]]) -> bytes:
    return pack([dict(v) for v in vulns])


def decode_vulns(value: bytes) -> list[Mapping[str, Any]]:
    doc = unpack(value)
    if not isinstance(doc, list) or not all(isinstance(v, dict) for v in doc):
        raise ValueError("cached audit is not a list of objects")
    return doc
