"""An advisory of a pinned requirement as secscan's Rule and Finding (severity from its OSV record)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secscan.core.model import Finding, Location, Package, Rule, ToolName
from secscan.scanners._pip_audit_report import MAX_DESCRIPTION, MAX_MESSAGE, Vuln, one_line
from secscan.scanners.interface import ScanJob
from secscan.scanners.osv.severity import remembered_severity
from secscan.scanners.requirements import RequirementLine

NAME = ToolName("pip-audit")


def lookup(job: ScanJob, vuln: Vuln) -> Mapping[str, Any] | None:
    lookup = job.options.get("advisory_lookup")
    if not callable(lookup):
        return None
    for vuln_id in (vuln.id, *vuln.aliases):
        record = lookup(vuln_id)
        if isinstance(record, Mapping):
            return record
    return None


def _text(record: Mapping[str, Any] | None, key: str) -> str:
    value = record.get(key) if record is not None else None
    return value if isinstance(value, str) else ""


def _references(record: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    refs = record.get("references") if record is not None else None
    if not isinstance(refs, list):
        return []
    return [
        (str(r.get("type", "")), r["url"])
        for r in refs
        if isinstance(r, dict) and isinstance(r.get("url"), str)
    ]


def rule(package: str, vuln: Vuln, record: Mapping[str, Any] | None) -> Rule:
    summary = _text(record, "summary") or vuln.description
    details = _text(record, "details")
    short = one_line(summary or details.split(". ")[0] or f"{vuln.id} affects {package}", MAX_MESSAGE)
    refs = _references(record)
    advisory = next((url for kind, url in refs if kind == "ADVISORY"), None)
    fixed = ", ".join(vuln.fix_versions) or "no fixed version is known"
    help_lines = [
        f"{vuln.id} ({', '.join(vuln.aliases) or 'no aliases'}) affects {package}.",
        f"Fixed in: {fixed}. Upgrade the pin in the requirements file to a fixed version.",
        *(["References:"] if refs else []),
        *(f"- {url}" for _, url in refs[:10]),
    ]
    database = record.get("database_specific") if record is not None else None
    cwes = database.get("cwe_ids") if isinstance(database, dict) else None
    cwe_tags = [f"external/cwe/{c.lower()}" for c in cwes or [] if isinstance(c, str)][:8]
    return Rule(
        id=vuln.id,
        name=vuln.id,
        short_description=short,
        full_description=(details or summary or short)[:MAX_DESCRIPTION],
        help_text="\n".join(help_lines),
        help_uri=advisory
        or (None if vuln.id.startswith("x_") else f"https://osv.dev/vulnerability/{vuln.id}"),
        tags=("security", "dependency", *cwe_tags),
    )


def finding(job: ScanJob, req: RequirementLine, vuln: Vuln, record: Mapping[str, Any] | None) -> Finding:
    score, label = remembered_severity(record) if record is not None else (None, None)
    also = f" ({', '.join(vuln.aliases)})" if vuln.aliases else ""
    fixed = f"fixed in {', '.join(vuln.fix_versions)}" if vuln.fix_versions else "no fixed version known"
    summary = _text(record, "summary") or vuln.description
    message = f"{req.name} {req.version} is affected by {vuln.id}{also}; {fixed}" + (
        f": {summary}" if summary else ""
    )
    return Finding(
        tool=NAME,
        rule_id=vuln.id,
        message=one_line(message, MAX_MESSAGE),
        location=Location(path=req.path, start_line=req.line),
        severity=job.policy.advisory(score, label),
        tool_severity=f"CVSS {score:.1f}" if score is not None else (label or ""),
        identity=f"{req.name}|{vuln.id}",
        aliases=vuln.aliases,
        package=Package("PyPI", req.name or req.text, req.version or "", vuln.fix_versions),
    )
