"""pip-audit's JSON report and the audit cache's answers, parsed into frozen values.

A report is validated as it is read: anything pip-audit 2.x would not write is a ScannerError
naming the place, never a crash or a silently missing finding.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from secscan.core.clip import clip
from secscan.core.errors import ScannerError
from secscan.scanners._audit_cache import audit_cache, record_excerpt
from secscan.scanners.interface import ScanJob
from secscan.scanners.requirements import RequirementLine, canonicalize_name

logger = logging.getLogger(__name__)

MAX_MESSAGE = 300
MAX_DESCRIPTION = 1024


@dataclass(frozen=True)
class Vuln:
    id: str
    fix_versions: tuple[str, ...]
    aliases: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Audit:
    """What one pip-audit report says: vulns per (name, version) and skipped names."""

    resolved: Mapping[tuple[str, str], tuple[Vuln, ...]]
    skipped: Mapping[str, str]


def norm_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def one_line(text: str, limit: int) -> str:
    return clip(" ".join(text.split()), limit)  # redacted later: a cut keeps no part of a secret


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScannerError(f"pip-audit report {where} is not a list of strings; is pip-audit 2.x installed?")
    return tuple(value)


def parse_vuln(raw: object, where: str) -> Vuln:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ScannerError(
            f"pip-audit report {where}: a vulnerability has no id; is pip-audit 2.x installed?"
        )
    description = raw.get("description", "")
    return Vuln(
        id=raw["id"],
        fix_versions=_strings(raw.get("fix_versions", []), f"{where} fix_versions"),
        aliases=tuple(sorted(_strings(raw.get("aliases", []), f"{where} aliases"))),
        description=description if isinstance(description, str) else "",
    )


def parse_report(data: bytes, where: str) -> Audit:
    """Validate one ``pip-audit -f json`` report. Raises ScannerError when it is malformed."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ScannerError(f"pip-audit report {where} is not valid JSON ({exc}); rerun with -v") from None
    deps = doc.get("dependencies") if isinstance(doc, dict) else None
    if not isinstance(deps, list):
        raise ScannerError(
            f"pip-audit report {where} has no 'dependencies' list; is pip-audit 2.x installed?"
        )
    resolved: dict[tuple[str, str], tuple[Vuln, ...]] = {}
    skipped: dict[str, str] = {}
    for dep in deps:
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise ScannerError(f"pip-audit report {where} has a dependency without a name")
        name = canonicalize_name(dep["name"])
        if isinstance(dep.get("skip_reason"), str):
            skipped[name] = dep["skip_reason"]
        elif isinstance(dep.get("version"), str) and isinstance(dep.get("vulns"), list):
            vulns = tuple(parse_vuln(v, f"{where} ({name})") for v in dep["vulns"])
            resolved[(name, norm_version(dep["version"]))] = vulns
        else:
            raise ScannerError(
                f"pip-audit report {where}: dependency {name} has neither vulns nor skip_reason"
            )
    return Audit(resolved, skipped)


Answer = tuple[tuple[Vuln, Mapping[str, Any] | None], ...]
"""A pin's vulnerabilities, each with the excerpt of its OSV record."""


def cached_answers(job: ScanJob, pinned: Sequence[RequirementLine]) -> dict[tuple[str, str], Answer]:
    """The pins whose vulnerabilities the audit cache knows (a malformed entry is ignored)."""
    cache = audit_cache(job.options)
    found: dict[tuple[str, str], Answer] = {}
    if cache is None:
        return found
    for req in pinned:
        if req.name is None or req.version is None or (req.name, req.version) in found:
            continue
        vulns = cache.get(req.name, req.version)
        if vulns is None:
            continue
        try:
            found[(req.name, req.version)] = tuple((parse_vuln(v, "cache"), _record(v)) for v in vulns)
        except ScannerError:
            logger.warning("ignoring a malformed cached audit of %s %s", req.name, req.version)
    return found


def _record(cached: Mapping[str, Any]) -> Mapping[str, Any] | None:
    record = cached.get("record")
    if record is not None and not isinstance(record, dict):
        raise ScannerError("cached OSV record excerpt is not an object")
    return record


def as_json(vuln: Vuln, record: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "id": vuln.id,
        "fix_versions": list(vuln.fix_versions),
        "aliases": list(vuln.aliases),
        "description": vuln.description,
        "record": record_excerpt(record),
    }
