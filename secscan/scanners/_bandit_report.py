"""bandit's JSON report read into findings, rules and notifications (the parsing half of
:mod:`secscan.scanners.bandit`): every field is type-checked, and a malformed report is a
:class:`~secscan.core.errors.ScannerError` naming where it went wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from secscan.core.clip import clip
from secscan.core.errors import ScannerError
from secscan.core.model import Finding, Location, Notification, NotificationLevel, Rule, ToolName
from secscan.core.redact import redact_quoted
from secscan.scanners._output import load_json_object
from secscan.scanners.interface import ScanJob

NAME = ToolName("bandit")

_T = TypeVar("_T")


def load_report(path: Path) -> dict[str, Any]:
    return load_json_object(path, "bandit", "report", "run bandit by hand to see why")


def _malformed(where: str, what: str) -> ScannerError:
    return ScannerError(
        f"bandit report {where} is malformed: {what}; secscan reads bandit 1.x JSON, check the bandit version"
    )


def field(item: Mapping[str, Any], key: str, kind: type[_T], where: str) -> _T:
    value = item.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _malformed(where, f"{key!r} is missing or not a {kind.__name__}")
    return value


def _opt(item: Mapping[str, Any], key: str, kind: type[_T], where: str) -> _T | None:
    return None if item.get(key) is None else field(item, key, kind, where)


def objects(report: Mapping[str, Any], key: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    items = field(report, key, list, where)
    out = []
    for index, item in enumerate(items):
        at = f"{where} {key}[{index}]"
        if not isinstance(item, dict):
            raise _malformed(at, "not an object")
        out.append((at, item))
    return out


def relative_path(name: str, root: Path) -> str:
    """bandit's file name (``./a/b.py`` or absolute) as a repo-relative POSIX path."""
    path = Path(name)
    if path.is_absolute():
        try:
            path = path.relative_to(root.absolute())
        except ValueError:
            return path.as_posix()
    return path.as_posix().removeprefix("./")


def _rule_name(test_name: str, more_info: str | None) -> str:
    """bandit's test name; the blacklist checks share one (``blacklist``), so use their anchor.

    ``.../blacklist_imports.html#b404-import-subprocess`` -> ``import_subprocess``.
    """
    if test_name == "blacklist" and more_info and "#" in more_info:
        anchor = more_info.rsplit("#", 1)[1]
        words = anchor.split("-")[1:] if re.fullmatch(r"b\d+", anchor.split("-")[0]) else anchor.split("-")
        if words:
            return "_".join(words)
    return test_name


def _humanise(test_name: str) -> str:
    words = test_name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "bandit check"


def error_notification(path: str, reason: str) -> Notification:
    short = clip(" ".join(reason.split()), 200)  # redacted later: a cut keeps no part of a secret
    return Notification(
        level=NotificationLevel.WARNING,
        message=f"bandit could not scan {path} ({short}); the file is not covered by this run",
        path=path,
    )


def findings_and_rules(
    job: ScanJob, raw: Sequence[tuple[str, dict[str, Any]]], redact: frozenset[str]
) -> tuple[tuple[Finding, ...], tuple[Rule, ...]]:
    """Findings in order, and each rule described from its first finding in that order (so the
    description does not depend on how files were sharded)."""
    pairs: list[tuple[Finding, str, dict[str, Any]]] = []
    for where, item in raw:
        test_id = field(item, "test_id", str, where)
        text = field(item, "issue_text", str, where)
        message = redact_quoted(text) if test_id in redact else text
        severity = field(item, "issue_severity", str, where)
        confidence = field(item, "issue_confidence", str, where)
        finding = Finding(
            tool=NAME,
            rule_id=test_id,
            message=message,
            location=_location(item, where, job.root),
            severity=job.policy.bandit(test_id, severity, confidence),
            tool_severity=f"{severity}/{confidence}",
        )
        pairs.append((finding, where, item))
    pairs.sort(key=lambda pair: _order(pair[0]))
    rules: dict[str, Rule] = {}
    for finding, where, item in pairs:
        if finding.rule_id not in rules:
            rules[finding.rule_id] = _rule(item, where, finding.rule_id, finding.message)
    return tuple(f for f, _, _ in pairs), tuple(rules[key] for key in sorted(rules))


def _order(finding: Finding) -> tuple[str, int, int, str]:
    where = finding.location
    return (where.path, where.start_line, where.start_column or 0, finding.rule_id)


def _location(item: dict[str, Any], where: str, root: Path) -> Location:
    line = field(item, "line_number", int, where)
    col = _opt(item, "col_offset", int, where)
    end_col = _opt(item, "end_col_offset", int, where)
    line_range = _opt(item, "line_range", list, where) or [line]
    end_line = line_range[-1] if isinstance(line_range[-1], int) and line_range[-1] >= line else line
    start_column = col + 1 if col is not None else None
    end_column = end_col + 1 if end_col is not None and col is not None and end_col > col else None
    return Location(
        path=relative_path(field(item, "filename", str, where), root),
        start_line=line,
        start_column=start_column,
        end_line=end_line,
        end_column=end_column,
    )


def _rule(item: dict[str, Any], where: str, test_id: str, message: str) -> Rule:
    more_info = _opt(item, "more_info", str, where)
    test_name = _rule_name(_opt(item, "test_name", str, where) or test_id, more_info)
    cwe = _opt(item, "issue_cwe", dict, where) or {}
    cwe_id = cwe.get("id")
    tags = ["security"]
    help_lines = [f"bandit {test_id} ({test_name}): {message}"]
    if isinstance(cwe_id, int) and cwe_id > 0:
        tags.append(f"external/cwe/cwe-{cwe_id}")
        link = cwe.get("link") if isinstance(cwe.get("link"), str) else None
        help_lines.append(f"Weakness: CWE-{cwe_id}" + (f" ({link})" if link else ""))
    if more_info:
        help_lines.append(f"How to fix: {more_info}")
    help_lines.append("Suppress a reviewed false positive with `# nosec " + test_id + "` on the line.")
    return Rule(
        id=test_id,
        name=test_name,
        short_description=_humanise(test_name),
        full_description=message,
        help_text="\n".join(help_lines),
        help_uri=more_info,
        tags=tuple(tags),
    )
