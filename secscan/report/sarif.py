"""Build secscan's SARIF 2.1.0 log with ``sarif-om``. Pure: no I/O.

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

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import sarif_om as om

from secscan import __version__
from secscan.core.model import (
    CoverageEntry,
    Finding,
    Notification,
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


def _bag(**props: Any) -> om.PropertyBag:
    bag = om.PropertyBag()
    for key, value in props.items():
        setattr(bag, key.replace("_", "-"), value)
    return bag


def _rule(rule: Rule, severity: Severity, policy: SeverityPolicy) -> om.ReportingDescriptor:
    tags = list(dict.fromkeys(("security", *rule.tags)))[:10]
    bag = _bag(tags=tags, security_severity=policy.security_severity_of(severity))
    return om.ReportingDescriptor(
        id=rule.id,
        name=rule.name[:255] or None,
        short_description=om.MultiformatMessageString(text=_text(rule.short_description)),
        full_description=om.MultiformatMessageString(text=_text(rule.full_description)),
        help=om.MultiformatMessageString(text=rule.help_text.strip() or _text(rule.full_description)),
        help_uri=rule.help_uri,
        default_configuration=om.ReportingConfiguration(level=_LEVELS[severity]),
        properties=bag,
    )


def _location(finding: Finding) -> om.Location:
    loc = finding.location
    region = om.Region(start_line=max(loc.start_line, 1))
    if loc.start_column is not None and loc.start_column >= 1:
        region.start_column = loc.start_column
    if loc.end_line is not None and loc.end_line >= region.start_line:
        region.end_line = loc.end_line
    if (
        loc.end_column is not None
        and region.start_column is not None
        and (region.end_line in (None, region.start_line))
        and loc.end_column > region.start_column
    ):
        region.end_column = loc.end_column
    return om.Location(
        physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=to_uri(loc.path), uri_base_id=SRCROOT),
            region=region,
        )
    )


def _result(
    finding: Finding, rule_index: int, baseline: BaselineStates | None
) -> om.Result:
    fingerprints = {FINGERPRINT_KEY: finding.fingerprint}
    if finding.line_hash:
        fingerprints["primaryLocationLineHash"] = finding.line_hash
    props: dict[str, Any] = {"secscan_id": finding.id, "severity": finding.severity.value}
    if finding.tool_severity:
        props["tool_severity"] = finding.tool_severity
    if finding.aliases:
        props["aliases"] = list(finding.aliases)
    if finding.package is not None:
        props["package"] = package_json(finding.package)
    result = om.Result(
        message=om.Message(text=_text(finding.message, 4096)),
        rule_id=finding.rule_id,
        rule_index=rule_index,
        level=_LEVELS[finding.severity],
        locations=[_location(finding)],
        partial_fingerprints=fingerprints,
        properties=_bag(**props),
    )
    if baseline is not None:
        result.baseline_state = baseline.get(finding.fingerprint, "new")
    return result


def _notification(note: Notification) -> om.Notification:
    n = om.Notification(message=om.Message(text=_text(note.message, 2048)), level=note.level.value)
    if note.path:
        region = om.Region(start_line=note.line) if note.line else None
        artifact = om.ArtifactLocation(uri=to_uri(note.path), uri_base_id=SRCROOT)
        physical = om.PhysicalLocation(artifact_location=artifact, region=region)
        n.locations = [om.Location(physical_location=physical)]
    return n


def _coverage_notes(scanner: ScannerResult, coverage: Sequence[CoverageEntry]) -> list[om.Notification]:
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
            notes.append(om.Notification(message=om.Message(text=_text(text, 2048)), level="warning",
                                         properties=bag))  # fmt: skip
    return notes


def _run(
    scanner: ScannerResult,
    scan: ScanRun,
    policy: SeverityPolicy,
    root_uri: str,
    baseline: BaselineStates | None,
    absent: Sequence[Finding] = (),
) -> om.Run:
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
    notes = [_notification(n) for n in scanner.notifications] + _coverage_notes(scanner, scan.coverage)
    if scanner.status is not ScannerStatus.OK:
        level = "note" if scanner.status is ScannerStatus.SKIPPED else "error"
        notes.insert(0, om.Notification(
            message=om.Message(text=_text(f"{scanner.name} {scanner.status.value}: {scanner.reason or ''}")),
            level=level,
        ))
    invocation = om.Invocation(
        execution_successful=scanner.status in (ScannerStatus.OK, ScannerStatus.SKIPPED),
        start_time_utc=_utc(scan.started_at),
        end_time_utc=_utc(scan.finished_at),
        tool_execution_notifications=notes or None,
    )
    if scanner.exit_code is not None:
        invocation.exit_code = scanner.exit_code
    driver = om.ToolComponent(
        name=scanner.name,
        version=scanner.version or None,
        information_uri=_TOOL_URIS.get(scanner.name),
        rules=[_rule(r, worst[r.id], policy) for r in rules],
    )
    findings = sorted(
        scanner.findings, key=lambda f: (f.location.path, f.location.start_line, f.rule_id, f.fingerprint)
    )
    gone = sorted(absent, key=lambda f: (f.location.path, f.location.start_line, f.rule_id, f.fingerprint))
    return om.Run(
        tool=om.Tool(driver=driver),
        results=[_result(f, index[f.rule_id], baseline) for f in findings]
        + [_result(f, index[f.rule_id], {f.fingerprint: "absent"}) for f in gone],
        invocations=[invocation],
        automation_details=om.RunAutomationDetails(id=f"{scanner.category}/{scan.run_id}"),
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=root_uri)},
        column_kind="utf16CodeUnits",
        properties=_bag(secscan_version=__version__, secscan_status=scanner.status.value,
                        duration_s=round(scanner.duration_s, 3)),
    )


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
    log = om.SarifLog(
        version="2.1.0",
        schema_uri=SCHEMA_URI,
        runs=[
            _run(s, scan, policy, root_uri, baseline, [f for f in absent if f.tool == s.name])
            for s in scan.scanners
        ],
    )
    out: dict[str, Any] = _to_json(log)
    return out


_PLAIN = frozenset({str, int, float, bool})


@functools.cache
def _schema(cls: type) -> tuple[tuple[tuple[str, str, Any], ...], frozenset[str]]:
    """A sarif-om class's fields as (attribute, schema property, default), and their names."""
    fields = attrs.fields(cls)
    return (
        tuple((f.name, f.metadata.get("schema_property_name", f.name), f.default) for f in fields),
        frozenset(f.name for f in fields),
    )


def _to_json(obj: Any) -> Any:
    """Serialise sarif-om objects by their schema property names, dropping defaults."""
    cls = type(obj)
    if cls in _PLAIN:
        return obj
    if attrs.has(cls):
        fields, declared = _schema(cls)
        out: dict[str, Any] = {}
        for name, key, default in fields:
            value = getattr(obj, name)
            if value is None or (default is not attrs.NOTHING and value == default):
                continue
            out[key] = _to_json(value)
        for key, value in vars(obj).items():
            if key not in declared and value is not None:
                out[key] = _to_json(value)
        return out
    if isinstance(obj, list | tuple):
        return [_to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _to_json(v) for k, v in obj.items()}
    return obj
