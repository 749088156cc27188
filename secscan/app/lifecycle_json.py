"""The JSON documents of the lifecycle commands (``findings``, ``show``, ``sla``, ``stats``,
``triage`` and ``ingest`` with ``--format json``): plain dicts of the application layer's results,
times in ISO 8601 and durations in seconds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from secscan.app.lifecycle import FindingDetail, FindingRow, Stats
from secscan.core.model import ScanRun
from secscan.core.ports.store import HistoryEntry, RunOutcome
from secscan.report.metrics_json import metrics_fields


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def finding_json(row: FindingRow) -> dict[str, Any]:
    t = row.finding
    triage = t.triage
    return {
        "id": t.id,
        "fingerprint": t.fingerprint,
        "target": t.target,
        "tool": t.tool,
        "rule": t.rule_id,
        "severity": t.severity.value,
        "state": t.state.value,
        "path": t.path,
        "line": t.line,
        "message": t.message,
        "first_seen": _ts(t.first_seen),
        "last_seen": _ts(t.last_seen),
        "fixed_at": _ts(t.fixed_at),
        "sla": {"status": row.sla.status.value, "due_at": _ts(row.sla.due_at), "paused": row.sla.paused},
        "triage": None
        if triage is None
        else {
            "status": triage.status.value,
            "reason": triage.reason,
            "actor": triage.actor,
            "decided_at": _ts(triage.decided_at),
            "until": _ts(triage.until),
        },
    }


def findings_document(rows: Iterable[FindingRow]) -> dict[str, Any]:
    return {"findings": [finding_json(r) for r in rows]}


def history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "at": _ts(entry.at),
        "event": entry.event.value,
        "from": None if entry.from_state is None else entry.from_state.value,
        "to": entry.to_state.value,
        "actor": entry.actor,
        "reason": entry.reason,
        "run_id": entry.run_id,
    }


def detail_document(detail: FindingDetail) -> dict[str, Any]:
    return {
        "finding": finding_json(FindingRow(detail.finding, detail.sla)),
        "history": [history_json(e) for e in detail.history],
    }


def stats_document(s: Stats) -> dict[str, Any]:
    return {"target": s.target, "at": _ts(s.at), **metrics_fields(s.metrics, s.total, s.open, s.baseline)}


def ingest_document(run: ScanRun, outcome: RunOutcome) -> dict[str, Any]:
    """What ``secscan ingest --format json`` prints: the recorded run and what it changed."""
    summary = outcome.run
    return {
        "run_id": summary.run_id,
        "target": summary.target,
        "status": summary.status.value,
        "new": [f.id for f in outcome.new],
        "unchanged": [f.id for f in outcome.unchanged],
        "reopened": [f.id for f in outcome.reopened],
        "fixed": [f.id for f in outcome.fixed],
        "scanners": [
            {
                "name": s.name,
                "version": s.version,
                "status": s.status.value,
                "findings": len(s.findings),
                "reason": s.reason,
            }
            for s in run.scanners
        ],
        "notifications": [
            {"tool": s.name, "level": n.level.value, "message": n.message, "path": n.path, "line": n.line}
            for s in run.scanners
            for n in s.notifications
        ],
    }
