"""Build secscan's SARIF 2.1.0 log as plain JSON-ready mappings. Pure: no I/O.

One run per tool, each with a stable ``automationDetails`` category (``secscan/<tool>/``),
rules carrying everything GitHub code scanning requires (short and full description, help,
``security-severity``), results with a repo-relative location under ``%SRCROOT%`` (its ``uri``
percent-encoded from the path's bytes, so a name that is not UTF-8 survives), a region
and two partial fingerprints: secscan's own identity (``secscan/v1``) and GitHub's
``primaryLocationLineHash``. A failed or timed-out tool's run says so in
``invocations[0].executionSuccessful`` and a notification. Source snippets are never emitted:
they are where scanners quote secrets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from secscan import __version__
from secscan.core.model import (
    CoverageEntry,
    Finding,
    Rule,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
)
from secscan.core.policy import SeverityPolicy
from secscan.core.purl import package_json
from secscan.fs.names import to_uri

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "secscan/v1"

_LEVELS: Mapping[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

_DEFAULT_LEVEL = "warning"
"""SARIF's default ``level`` of a result, a notification and a rule's configuration: left out."""

_TOOL_URIS: Mapping[str, str] = {
    "bandit": "https://bandit.readthedocs.io/",
    "detect-secrets": "https://github.com/Yelp/detect-secrets",
    "pip-audit": "https://pypi.org/project/pip-audit/",
    "zizmor": "https://docs.zizmor.sh/",
    "semgrep": "https://semgrep.dev/",
}

BaselineStates = Mapping[str, str]
"""fingerprint -> SARIF baselineState (new, unchanged, updated, absent)."""


def _utc(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: str, limit: int = 1024) -> str:
    value = " ".join(value.split()) or "-"
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _bag(**props: Any) -> dict[str, Any]:
    """A SARIF property bag: ``tags`` first, then the other properties in the order given,
    their names with dashes (``security_severity`` -> ``security-severity``); None is left out."""
    bag = {key.replace("_", "-"): value for key, value in props.items() if value is not None}
    return {"tags": bag.pop("tags"), **bag} if "tags" in bag else bag


def _rule(rule: Rule, severity: Severity, policy: SeverityPolicy) -> dict[str, Any]:
    tags = list(dict.fromkeys(("security", *rule.tags)))[:10]
    level = _LEVELS[severity]
    out: dict[str, Any] = {"id": rule.id}
    out["defaultConfiguration"] = {"level": level} if level != _DEFAULT_LEVEL else {}
    out["fullDescription"] = {"text": _text(rule.full_description)}
    out["help"] = {"text": rule.help_text.strip() or _text(rule.full_description)}
    if rule.help_uri is not None:
        out["helpUri"] = rule.help_uri
    if rule.name[:255]:
        out["name"] = rule.name[:255]
    out["properties"] = _bag(tags=tags, security_severity=policy.security_severity_of(severity))
    out["shortDescription"] = {"text": _text(rule.short_description)}
    return out


def _artifact(path: str) -> dict[str, Any]:
    return {"uri": to_uri(path), "uriBaseId": SRCROOT}


def _location(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    start_line = max(loc.start_line, 1)
    start_column = loc.start_column if loc.start_column is not None and loc.start_column >= 1 else None
    end_line = loc.end_line if loc.end_line is not None and loc.end_line >= start_line else None
    region: dict[str, Any] = {}  # SARIF's order: endColumn, endLine, startColumn, startLine
    if (
        loc.end_column is not None
        and start_column is not None
        and end_line in (None, start_line)
        and loc.end_column > start_column
    ):
        region["endColumn"] = loc.end_column
    if end_line is not None:
        region["endLine"] = end_line
    if start_column is not None:
        region["startColumn"] = start_column
    region["startLine"] = start_line
    return {"physicalLocation": {"artifactLocation": _artifact(loc.path), "region": region}}


def _result(finding: Finding, rule_index: int, baseline: BaselineStates | None) -> dict[str, Any]:
    fingerprints = {FINGERPRINT_KEY: finding.fingerprint}
    if finding.line_hash:
        fingerprints["primaryLocationLineHash"] = finding.line_hash
    props: dict[str, Any] = {"secscan-id": finding.id, "severity": finding.severity.value}
    if finding.tool_severity:
        props["tool-severity"] = finding.tool_severity
    if finding.aliases:
        props["aliases"] = list(finding.aliases)
    if finding.package is not None:
        props["package"] = package_json(finding.package)
    out: dict[str, Any] = {"message": {"text": _text(finding.message, 4096)}}
    if baseline is not None:
        out["baselineState"] = baseline.get(finding.fingerprint, "new")
    level = _LEVELS[finding.severity]
    if level != _DEFAULT_LEVEL:
        out["level"] = level
    out["locations"] = [_location(finding)]
    out["partialFingerprints"] = fingerprints
    out["properties"] = props
    out["ruleId"] = finding.rule_id
    out["ruleIndex"] = rule_index
    return out


def _notification(
    text: str,
    level: str,
    path: str | None = None,
    line: int | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"message": {"text": text}}
    if level != _DEFAULT_LEVEL:
        out["level"] = level
    if path:
        physical: dict[str, Any] = {"artifactLocation": _artifact(path)}
        if line:
            physical["region"] = {"startLine": line}
        out["locations"] = [{"physicalLocation": physical}]
    if properties is not None:
        out["properties"] = properties
    return out


def _coverage_notes(scanner: ScannerResult, coverage: Sequence[CoverageEntry]) -> list[dict[str, Any]]:
    """The coverage map's gaps of the kinds this scanner is meant for (issue 14), one warning each
    with the numbers in its properties. A gap whose scanner has no run in the log (disabled, not
    chosen) is in the JSON document, the summary and the report only."""
    notes = []
    for entry in coverage:
        if entry.gap and scanner.name in entry.analysers:
            found = "?" if entry.files is None else str(entry.files)
            text = f"coverage: {entry.kind}: {entry.covered} of {found} {entry.unit} covered: {entry.reason}"
            bag = _bag(secscan_coverage={"kind": entry.kind, "unit": entry.unit, "files": entry.files,
                                         "covered": entry.covered})  # fmt: skip
            notes.append(_notification(_text(text, 2048), "warning", properties=bag))
    return notes


def _run(
    scanner: ScannerResult,
    scan: ScanRun,
    policy: SeverityPolicy,
    root_uri: str,
    baseline: BaselineStates | None,
    absent: Sequence[Finding] = (),
) -> dict[str, Any]:
    # A rule's security-severity is the worst severity among its results in this run.
    worst: dict[str, Severity] = {}
    for f in (*scanner.findings, *absent):
        if f.rule_id not in worst or f.severity.rank > worst[f.rule_id].rank:
            worst[f.rule_id] = f.severity
    rules = [r for r in scanner.rules if r.id in worst]
    known = {r.id for r in rules}
    rules += [
        Rule(id=rid, name=rid, short_description=rid, full_description=rid, help_text=rid)
        for rid in sorted(worst) if rid not in known
    ]
    index = {r.id: i for i, r in enumerate(rules)}
    notes = [
        _notification(_text(n.message, 2048), n.level.value, n.path, n.line) for n in scanner.notifications
    ] + _coverage_notes(scanner, scan.coverage)
    if scanner.status is not ScannerStatus.OK:
        level = "note" if scanner.status is ScannerStatus.SKIPPED else "error"
        status = _text(f"{scanner.name} {scanner.status.value}: {scanner.reason or ''}")
        notes.insert(0, _notification(status, level))
    invocation: dict[str, Any] = {
        "executionSuccessful": scanner.status in (ScannerStatus.OK, ScannerStatus.SKIPPED),
        "endTimeUtc": _utc(scan.finished_at),
    }
    if scanner.exit_code is not None:
        invocation["exitCode"] = scanner.exit_code
    invocation["startTimeUtc"] = _utc(scan.started_at)
    if notes:
        invocation["toolExecutionNotifications"] = notes
    driver: dict[str, Any] = {"name": scanner.name, "contents": ["localizedData", "nonLocalizedData"]}
    if scanner.name in _TOOL_URIS:
        driver["informationUri"] = _TOOL_URIS[scanner.name]
    driver["rules"] = [_rule(r, worst[r.id], policy) for r in rules]
    if scanner.version:
        driver["version"] = scanner.version
    findings = sorted(
        scanner.findings, key=lambda f: (f.location.path, f.location.start_line, f.rule_id, f.fingerprint)
    )
    gone = sorted(absent, key=lambda f: (f.location.path, f.location.start_line, f.rule_id, f.fingerprint))
    return {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"{scanner.category}/{scan.run_id}"},
        "columnKind": "utf16CodeUnits",
        "invocations": [invocation],
        "newlineSequences": ["\r\n", "\n"],
        "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
        "properties": _bag(
            secscan_version=__version__,
            secscan_status=scanner.status.value,
            duration_s=round(scanner.duration_s, 3),
        ),
        "results": [_result(f, index[f.rule_id], baseline) for f in findings]
        + [_result(f, index[f.rule_id], {f.fingerprint: "absent"}) for f in gone],
    }


def build_sarif(
    scan: ScanRun,
    policy: SeverityPolicy,
    baseline: BaselineStates | None = None,
    absent: Sequence[Finding] = (),
) -> dict[str, Any]:
    """The SARIF log of one scan as a JSON-ready mapping (one run per tool).

    With a ``baseline`` (from the lifecycle store) every result gets a ``baselineState``, and the
    ``absent`` findings (in the previous complete run, gone now) are listed as ``absent`` results
    of their tool's run. Upload to GitHub drops absent results: they would reopen alerts there.
    """
    root_uri = Path(scan.target).as_uri().rstrip("/") + "/"
    runs = [
        _run(s, scan, policy, root_uri, baseline, [f for f in absent if f.tool == s.name])
        for s in scan.scanners
    ]
    return {"runs": runs, "version": "2.1.0", "$schema": SCHEMA_URI}
