"""semgrep's JSON report (``semgrep scan --json``) -> findings and per-file coverage.

What is read: ``results`` (rule id, path, start and end), ``errors`` (per file: the file is
then not covered) and ``paths.scanned`` (a file that semgrep was given but did not scan, e.g.
over ``--max-target-bytes``, is not covered either). What is never copied: ``extra.lines``,
error messages and spans (they quote the scanned source, secrets included); a finding's message
and its rule come from secscan's own rule pack.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secscan.core.clip import clip
from secscan.core.errors import ScannerError
from secscan.core.model import Finding, Location, Notification, NotificationLevel, Rule, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.scanners._output import load_json_object
from secscan.scanners._semgrep_rules import RulePack, SemgrepRule
from secscan.scanners._tools import ByteColumns

NAME = ToolName("semgrep")
_HINT = "run semgrep by hand on the file to see why"
_LEGACY = {"ERROR": "HIGH", "WARNING": "MEDIUM"}
_NOT_REPEATABLE = ("timeout", "memory", "stack")
"""Error types that depend on the machine's speed or memory: they are reported for the run,
not for the file, which keeps the run out of the result cache (a slow day is not remembered)."""


@dataclass
class Report:
    """One run's reports, accumulated (private, mutable)."""

    findings: list[Finding] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)
    scanned: set[str] = field(default_factory=set)
    errors: dict[str, list[Notification]] = field(default_factory=dict)
    run_notes: list[Notification] = field(default_factory=list)


def _malformed(where: str, what: str) -> ScannerError:
    return ScannerError(
        f"semgrep report {where} is malformed: {what}; "
        "secscan reads semgrep 1.x JSON, check the semgrep version"
    )


def _path(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise _malformed(where, "a path is missing")
    return posixpath.normpath(raw).removeprefix("./")


def _position(item: Mapping[str, Any], key: str, where: str) -> tuple[int, int]:
    point = item.get(key)
    line = point.get("line") if isinstance(point, dict) else None
    col = point.get("col") if isinstance(point, dict) else None
    if not isinstance(line, int) or not isinstance(col, int) or line < 1 or col < 1:
        raise _malformed(where, f"'{key}' is not a line and column")
    return line, col


def rule_model(rule: SemgrepRule) -> Rule:
    """The SARIF rule of a pack rule."""
    number = rule.cwe.removeprefix("CWE-")
    return Rule(
        id=rule.id,
        name=rule.id.split(".", 1)[-1],
        short_description=rule.title,
        full_description=rule.description,
        help_text=(
            f"{rule.description}\n\nHow to fix: {rule.remediation}\n\nWeakness: {rule.cwe} "
            f"(https://cwe.mitre.org/data/definitions/{number}.html)\n\nA reviewed false positive can "
            f"be marked with a `nosemgrep: {rule.id}` comment on the line."
        ),
        help_uri=f"https://cwe.mitre.org/data/definitions/{number}.html",
        tags=("security", f"external/cwe/cwe-{number}"),
    )


def _foreign_rule(rule_id: str) -> Rule:
    """A rule that is not in secscan's packs (added through ``args``): described by its id."""
    return Rule(
        id=rule_id,
        name=rule_id,
        short_description=f"semgrep rule {rule_id}",
        full_description=f"semgrep rule {rule_id} (not one of secscan's rule packs)",
        help_text=f"semgrep rule {rule_id}, added by the scanner's arguments.",
        tags=("security",),
    )


class ReportReader:
    """Reads the reports of one run into a :class:`Report`."""

    def __init__(self, pack: RulePack, policy: SeverityPolicy, root: Path, given: Sequence[str]) -> None:
        self.pack = pack
        self.policy = policy
        self.given = set(given)
        self.columns = ByteColumns(root)
        self.report = Report()

    def read(self, path: Path) -> None:
        doc = load_json_object(path, "semgrep", "report", _HINT)
        where = str(path)
        results, errors, paths = doc.get("results"), doc.get("errors"), doc.get("paths")
        if not isinstance(results, list) or not isinstance(errors, list) or not isinstance(paths, dict):
            raise _malformed(where, "'results', 'errors' or 'paths' is missing")
        scanned = paths.get("scanned")
        if not isinstance(scanned, list):
            raise _malformed(where, "'paths.scanned' is missing")
        self.report.scanned.update(_path(p, where) for p in scanned)
        for index, item in enumerate(results):
            self._result(item, f"{where} results[{index}]")
        for index, item in enumerate(errors):
            self._error(item, f"{where} errors[{index}]")

    def _result(self, item: object, where: str) -> None:
        if not isinstance(item, dict):
            raise _malformed(where, "not an object")
        rule_id, extra = item.get("check_id"), item.get("extra")
        if not isinstance(rule_id, str) or not rule_id or not isinstance(extra, dict):
            raise _malformed(where, "'check_id' or 'extra' is missing")
        path = _path(item.get("path"), where)
        if path not in self.given:
            return  # not a file of this job (cannot happen with explicit targets)
        (line, col), (end_line, end_col) = _position(item, "start", where), _position(item, "end", where)
        rule = self.pack.by_id.get(rule_id)
        if rule is not None:
            severity, confidence, message = rule.severity, rule.confidence, rule.message
            self.report.rules.setdefault(rule_id, rule_model(rule))
        else:
            metadata = extra.get("metadata")
            metadata = metadata if isinstance(metadata, dict) else {}
            severity = str(extra.get("severity", "")).upper()
            confidence = str(metadata.get("confidence", "")).upper()
            message = clip(str(extra.get("message") or f"semgrep rule {rule_id}"), 1024)
            self.report.rules.setdefault(rule_id, _foreign_rule(rule_id))
        severity = _LEGACY.get(severity, severity)
        start_column = self.columns.column(path, line, col)
        end_column = self.columns.column(path, end_line, end_col)
        if end_line == line and end_column is not None and end_column <= (start_column or 0):
            end_column = None
        self.report.findings.append(
            Finding(
                tool=NAME,
                rule_id=rule_id,
                message=message,
                location=Location(path, line, start_column, max(end_line, line), end_column),
                severity=self.policy.matrix("semgrep", rule_id, severity, confidence),
                tool_severity=f"{severity}/{confidence}",
            )
        )

    def _error(self, item: object, where: str) -> None:
        if not isinstance(item, dict):
            raise _malformed(where, "not an object")
        raw_type = item.get("type")
        kind = raw_type[0] if isinstance(raw_type, list) and raw_type else raw_type
        kind = str(kind or "error")[:60]
        raw_path = item.get("path")
        path = _path(raw_path, where) if isinstance(raw_path, str) and raw_path else None
        if path is None or path not in self.given:
            level = NotificationLevel.ERROR if item.get("level") == "error" else NotificationLevel.WARNING
            self.report.run_notes.append(Notification(level, f"semgrep reported an error: {kind}"))
            return
        if any(word in kind.lower() for word in _NOT_REPEATABLE):
            self.report.errors.setdefault(path, [])
            self.report.run_notes.append(
                Notification(
                    NotificationLevel.WARNING,
                    f"semgrep gave up on {path} ({kind}); the file is not covered by this run: "
                    "raise [scanners.semgrep] rule_timeout or split the file",
                )
            )
            return
        self.report.errors.setdefault(path, []).append(
            Notification(
                NotificationLevel.WARNING,
                f"semgrep could not fully parse {path} ({kind}); the file is not covered by this run",
                path,
                _first_line(item.get("spans")),
            )
        )


def _first_line(spans: object) -> int | None:
    first = spans[0] if isinstance(spans, list) and spans else None
    start = first.get("start") if isinstance(first, dict) else None
    line = start.get("line") if isinstance(start, dict) else None
    return line if isinstance(line, int) and not isinstance(line, bool) and line >= 1 else None
