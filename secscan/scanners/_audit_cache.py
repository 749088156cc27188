"""What pip-audit's adapter keeps in, and reads from, the result cache (``secscan.scanners.cache``).

Per pinned (package, version): each vulnerability in pip-audit's JSON form, plus the excerpt of
its OSV record that the findings and rules are built from (summary, details, references, CWE ids,
severity). With the excerpt a cached answer needs neither pip-audit nor the OSV database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class AuditCache(Protocol):
    """``job.options["audit_cache"]``: earlier answers per pinned (package, version).

    ``get`` answers the same within one run; ``put`` offers a fresh answer, which the owner keeps
    only if the run completes.
    """

    def get(self, name: str, version: str) -> Sequence[Mapping[str, Any]] | None: ...

    def put(self, name: str, version: str, vulns: Sequence[Mapping[str, Any]]) -> None: ...


RECORD_KEYS = ("summary", "details", "references", "severity")
SPECIFIC_KEYS = ("cwe_ids", "severity")


def record_excerpt(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The parts of an OSV record the adapter reads (see ``_pip_audit_advisory.rule``, ``finding``,
    ``secscan.scanners.osv.severity.record_severity``), JSON-safe."""
    if record is None:
        return None
    out: dict[str, Any] = {k: record[k] for k in RECORD_KEYS if k in record}
    specific = record.get("database_specific")
    if isinstance(specific, Mapping):
        out["database_specific"] = {k: specific[k] for k in SPECIFIC_KEYS if k in specific}
    affected = record.get("affected")
    if isinstance(affected, list):
        out["affected"] = [
            {"severity": a["severity"]} for a in affected if isinstance(a, Mapping) and "severity" in a
        ]
    from secscan.scanners.osv.severity import SCORED, record_severity  # cvss: scored once, when stored

    out[SCORED] = list(record_severity(record))
    return out


def audit_cache(options: Mapping[str, object]) -> AuditCache | None:
    cache = options.get("audit_cache")
    return cache if isinstance(cache, AuditCache) else None
