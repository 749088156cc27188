"""What a run writes besides the store: the ``--format json`` document, and :func:`scrub`, the
last line of redaction over it and the SARIF log (pure functions over the run's values)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from secscan.core.model import CoverageEntry, Finding, ScanRun
from secscan.core.purl import package_json
from secscan.core.redact import Redactor

FREE_TEXT_KEYS = frozenset({"text", "markdown", "message", "reason"})
"""Keys of free text in the SARIF log and the JSON document: where scanners quote code."""

TOOL_KEYS = frozenset({"tool"})
"""Keys whose subtree the tool wrote itself (SARIF ``runs[].tool``: driver, rules, descriptors)."""


def scrub(value: Any, redactor: Redactor, *, free_text: bool = False, tool_text: bool = False) -> Any:
    """Apply the redactor to every free-text string of a JSON-ready tree (the last line of defence).

    Identifiers (tool names, rule ids, paths, fingerprints) are never rewritten. Texts under a
    ``tool`` key are the tool's own (rule descriptions and help) and get
    :meth:`~secscan.core.redact.Redactor.rule_text`: a short secret such as ``secret`` must not turn
    ``detect-secrets`` into ``detect-[REDACTED]s``. Messages and reasons get
    :meth:`~secscan.core.redact.Redactor.text`.
    """
    if isinstance(value, str):
        if not free_text:
            return value
        return redactor.rule_text(value) if tool_text else redactor.text(value)
    return _Scrub(redactor).tree(value, free_text, tool_text)


class _Scrub:
    """:func:`scrub` over lists and dicts, with the strings that are not free text (most of a
    SARIF log: keys, ids, paths, hashes) passed over without a call each."""

    def __init__(self, redactor: Redactor) -> None:
        self.text, self.rule_text = redactor.text, redactor.rule_text

    def tree(self, value: Any, free_text: bool, tool_text: bool) -> Any:
        if isinstance(value, list):
            if free_text:
                redact = self.rule_text if tool_text else self.text
                return [redact(v) if isinstance(v, str) else self.tree(v, True, tool_text) for v in value]
            return [v if isinstance(v, str) else self.tree(v, False, tool_text) for v in value]
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if isinstance(v, str):
                    if k in FREE_TEXT_KEYS:
                        v = self.rule_text(v) if tool_text else self.text(v)
                    out[k] = v
                else:
                    out[k] = self.tree(v, k in FREE_TEXT_KEYS, tool_text or k in TOOL_KEYS)
            return out
        return value


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "tool": f.tool,
        "rule": f.rule_id,
        "severity": f.severity.value,
        "path": f.location.path,
        "line": f.location.start_line,
        "message": f.message,
        "state": f.state.value,
        "aliases": list(f.aliases),
        "package": package_json(f.package) if f.package is not None else None,
    }


def json_document(run: ScanRun, sarif_path: Path | None) -> dict[str, Any]:
    """The ``--format json`` contract (README, "JSON output")."""
    notes = [
        {"tool": s.name, "level": n.level.value, "message": n.message, "path": n.path, "line": n.line}
        for s in run.scanners
        for n in s.notifications
    ] + [
        {"tool": None, "level": n.level.value, "message": n.message, "path": n.path, "line": n.line}
        for n in run.notifications
    ]
    findings = sorted(
        run.findings,
        key=lambda f: (-f.severity.rank, f.tool, f.location.path, f.location.start_line, f.rule_id),
    )
    return {
        "run_id": run.run_id,
        "status": "complete" if run.complete else "incomplete",
        "target": run.target,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "scanners": [
            {
                "name": s.name,
                "version": s.version,
                "status": s.status.value,
                "duration_s": round(s.duration_s, 3),
                "exit_code": s.exit_code,
                "findings": len(s.findings),
                "reason": s.reason,
            }
            for s in run.scanners
        ],
        "findings": [_finding_json(f) for f in findings],
        "fixed": [
            {"id": f.id, "tool": f.tool, "rule": f.rule_id, "path": f.location.path} for f in run.fixed
        ],
        "notifications": notes,
        "coverage": [coverage_json(c) for c in run.coverage],  # issue 14
        "sarif": str(sarif_path) if sarif_path else None,
    }


def coverage_json(entry: CoverageEntry) -> dict[str, Any]:
    """One line of the coverage map in the ``--format json`` contract (README, "Coverage map")."""
    return {
        "kind": entry.kind,
        "unit": entry.unit,
        "files": entry.files,
        "covered": entry.covered,
        "scanners": list(entry.scanners),
        "reason": entry.reason,
    }
