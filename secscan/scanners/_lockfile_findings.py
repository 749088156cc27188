"""One lockfile's audit result as secscan's findings, rules and notifications.

A finding is one advisory of one locked (package, version): at the line of the package's entry,
with the advisory's id as its rule, the other ids as aliases, and the package, version and fixed
versions in :attr:`~secscan.core.model.Finding.package`. Its identity is ``package|advisory`` (plus
the lockfile's path, as every identity), so it survives line moves and upgrades to a version
that is still affected; two locked versions of one package are two findings. Severity comes
from the records' CVSS vectors and labels, the highest of the records that name the advisory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from secscan.core.model import (
    Finding,
    Location,
    Notification,
    NotificationLevel,
    Package,
    Rule,
    Severity,
    ToolName,
)
from secscan.core.policy import SeverityPolicy
from secscan.scanners._pip_audit_report import MAX_DESCRIPTION, MAX_MESSAGE, one_line
from secscan.scanners.interface import FileOutput
from secscan.scanners.osv.matching import package_key
from secscan.scanners.osv.severity import record_severity

NAME = ToolName("lockfile-audit")

_SKIP_WORDS = {
    "link": ("link", "links"),
    "workspace": ("workspace package", "workspace packages"),
    "git": ("git dependency", "git dependencies"),
    "file": ("local file or folder", "local files or folders"),
    "url": ("URL dependency", "URL dependencies"),
    "no version": ("entry without a version", "entries without a version"),
    "unreadable": ("unreadable entry", "unreadable entries"),
}


def _text(record: Mapping[str, Any] | None, key: str) -> str:
    value = record.get(key) if record is not None else None
    return value if isinstance(value, str) else ""


def _references(record: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    refs = record.get("references") if record is not None else None
    if not isinstance(refs, list):
        return []
    usable = [r for r in refs if isinstance(r, dict) and isinstance(r.get("url"), str)]
    return [(str(r.get("type", "")), r["url"]) for r in usable]


def _severity(records: Sequence[Mapping[str, Any] | None], policy: SeverityPolicy) -> tuple[Severity, str]:
    best: tuple[Severity, str] | None = None
    for record in records:
        score, label = record_severity(record) if record is not None else (None, None)
        severity = policy.advisory(score, label)
        shown = f"CVSS {score:.1f}" if score is not None else (label or "")
        if best is None or severity.rank > best[0].rank:
            best = (severity, shown)
    return best or (policy.advisory(None, None), "")


def rule(advisory: Mapping[str, Any], record: Mapping[str, Any] | None) -> Rule:
    """The rule of an advisory, from its first record's text."""
    vuln_id, aliases = advisory["id"], advisory["aliases"]
    summary, details = _text(record, "summary"), _text(record, "details")
    short = one_line(summary or details.split(". ")[0] or f"{vuln_id}: a known vulnerability", MAX_MESSAGE)
    refs = _references(record)
    advisory_url = next((url for kind, url in refs if kind == "ADVISORY"), None)
    help_lines = [
        f"{vuln_id} ({', '.join(aliases) or 'no aliases'}) is a known vulnerability of a locked dependency.",
        "Lock a fixed version: upgrade the dependency (or override the transitive one) and re-create "
        "the lockfile with its package manager.",
        *(["References:"] if refs else []),
        *(f"- {url}" for _, url in refs[:10]),
    ]
    database = record.get("database_specific") if record is not None else None
    cwes = database.get("cwe_ids") if isinstance(database, dict) else None
    cwe_tags = [f"external/cwe/{c.lower()}" for c in cwes or [] if isinstance(c, str)][:8]
    return Rule(
        id=vuln_id,
        name=vuln_id,
        short_description=short,
        full_description=(details or summary or short)[:MAX_DESCRIPTION],
        help_text="\n".join(help_lines),
        help_uri=advisory_url
        or (None if vuln_id.startswith("x_") else f"https://osv.dev/vulnerability/{vuln_id}"),
        tags=("security", "dependency", *cwe_tags),
    )


def _message(item: Mapping[str, Any], advisory: Mapping[str, Any], record: Mapping[str, Any] | None) -> str:
    also = f" ({', '.join(advisory['aliases'])})" if advisory["aliases"] else ""
    fixed = f"fixed in {', '.join(advisory['fixed'])}" if advisory["fixed"] else "no fixed version known"
    notes = [f"installed as {item['alias']}"] if item.get("alias") else []
    notes += ["development dependency"] if item.get("dev") else []
    notes += [f"locked at {item['places']} places"] if item.get("places", 1) > 1 else []
    where = f" [{'; '.join(notes)}]" if notes else ""
    summary = _text(record, "summary") or _text(record, "details")
    text = f"{item['name']} {item['version']}{where} is affected by {advisory['id']}{also}; {fixed}"
    return one_line(text + (f": {summary}" if summary else ""), MAX_MESSAGE)


def _skipped_note(path: str, skipped: Mapping[str, int]) -> Notification | None:
    parts = [f"{n} {_SKIP_WORDS.get(reason, (reason, reason))[n != 1]}" for reason, n in skipped.items() if n]
    if not parts:
        return None
    total = sum(skipped.values())
    return Notification(
        NotificationLevel.NOTE,
        f"{total} {'entry' if total == 1 else 'entries'} not audited, not from a package registry: "
        + ", ".join(parts),
        path,
    )


def file_output(
    path: str, result: Mapping[str, Any], records: Mapping[str, Any], policy: SeverityPolicy
) -> FileOutput:
    """The findings, rules and notifications of one lockfile's result."""
    if result["error"] is not None:
        note = Notification(NotificationLevel.WARNING, f"not audited: {result['error']}", path)
        return FileOutput(notifications=(note,), covered=False)
    ecosystem = result["ecosystem"]
    if result["unsupported"] is not None:
        message = (
            f"not audited: {result['unsupported']}; point --osv-db (or [scanners.lockfile-audit] "
            f"osv_db) at a database with {ecosystem} records"
        )
        note = Notification(NotificationLevel.WARNING, message, path)
        return FileOutput(notifications=(note,), covered=False)
    findings: list[Finding] = []
    rules: dict[str, Rule] = {}
    for item in result["vulnerable"]:
        key_name = package_key(ecosystem, item["name"])[1]
        for advisory in item["advisories"]:
            found = [records.get(record_id) for record_id in advisory["records"]]
            first = found[0] if found else None
            severity, shown = _severity(found, policy)
            findings.append(
                Finding(
                    tool=NAME,
                    rule_id=advisory["id"],
                    message=_message(item, advisory, first),
                    location=Location(path=path, start_line=item["line"]),
                    severity=severity,
                    tool_severity=shown,
                    identity=f"{key_name}|{advisory['id']}",
                    aliases=tuple(advisory["aliases"]),
                    package=Package(ecosystem, key_name, item["version"], tuple(advisory["fixed"])),
                )
            )
            rules.setdefault(advisory["id"], rule(advisory, first))
    skipped = _skipped_note(path, result["skipped"])
    return FileOutput(
        findings=tuple(findings),
        rules=tuple(rules[key] for key in sorted(rules)),
        notifications=(skipped,) if skipped else (),
    )
