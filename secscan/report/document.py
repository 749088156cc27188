"""The report as a JSON document: the figures the HTML and Markdown show, machine-readable.

Durations are seconds, times ISO 8601 UTC, severities worst first. ``metrics`` has the shape of
``secscan stats --format json`` (:func:`secscan.app.lifecycle_json.stats_document`) for the keys both
have. Free text from the store (reasons, errors) goes through the redactor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from secscan.core import score
from secscan.core.model import Severity
from secscan.core.ports.report_model import DecisionRecord, ExpiringDecision, PackageFacts, RankedGroup
from secscan.core.redact import Redactor
from secscan.report import coverage
from secscan.report.figures import DashboardReport, FindingRow
from secscan.report.metrics_json import metrics_fields
from secscan.report.palette import WORST_FIRST
from secscan.report.period import PeriodReport
from secscan.report.scores import TargetRow, TriageSummary

SCHEMA = "secscan-report/1"


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _s(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def _sev(counts: Mapping[Severity, int]) -> dict[str, int]:
    return {s.value: counts.get(s, 0) for s in WORST_FIRST}


def _package(p: PackageFacts | None) -> dict[str, Any] | None:
    return (
        None
        if p is None
        else {"ecosystem": p.ecosystem, "name": p.name, "version": p.version, "fixed": list(p.fixed)}
    )


def _row(row: FindingRow, redact: Any) -> dict[str, Any]:
    f = row.finding
    return {
        "id": f.fingerprint[:16],
        "fingerprint": f.fingerprint,
        "target": f.target,
        "tool": f.tool,
        "rule": f.rule_id,
        "rule_name": None if f.rule_name is None else redact(f.rule_name),
        "severity": f.severity.value,
        "state": f.state.value,
        "path": f.path,
        "line": f.line,
        "url": row.link,
        "age_s": _s(row.age),
        "sla": f.sla.value,
        "due_at": _ts(f.due_at),
        "owners": list(row.owners),
        "package": _package(f.package),
    }


def _expiring(e: ExpiringDecision, redact: Any) -> dict[str, Any]:
    return {
        "id": e.fingerprint[:16],
        "target": e.target,
        "tool": e.tool,
        "rule": e.rule_id,
        "rule_name": None if e.rule_name is None else redact(e.rule_name),
        "severity": e.severity.value,
        "path": e.path,
        "line": e.line,
        "findings": e.count,
        "until": _ts(e.until),
        "actor": e.actor,
        "reason": redact(e.reason),
    }


def _triage(t: TriageSummary, redact: Any) -> dict[str, Any]:
    return {
        "triaged": t.triaged,
        "false_positive": t.false_positive,
        "accepted_risk": t.accepted_risk,
        "suppressed": t.suppressed,
        "expiring_within_s": _s(t.within),
        "expiring_total": t.expiring_total,
        "expiring": [_expiring(e, redact) for e in t.expiring],
    }


def score_document(r: DashboardReport) -> dict[str, Any]:
    """The score overall and per area, against the baseline, with its definition."""
    return {
        "overall": r.metrics.score,
        "baseline": r.baseline,
        "meets_baseline": r.metrics.score >= r.baseline,
        "definition": list(score.definition(r.baseline)),
        "areas": [
            {
                "area": a.area.value,
                "open": _sev(a.open),
                "breached": a.breached,
                "score": a.score,
                "meets_baseline": a.meets,
            }
            for a in r.areas
        ],
    }


def _target(t: TargetRow) -> dict[str, Any]:
    return {
        "name": t.name,
        "open": _sev(t.open),
        "breached": t.breached,
        "last_complete_scan_at": _ts(t.last_complete_at),
        "last_complete_scan_age_s": _s(t.last_complete_age),
        "stale": t.stale,
        "score": t.score,
        "meets_baseline": t.meets,
    }


def _group(g: RankedGroup) -> dict[str, Any]:
    return {"name": g.name, "tool": g.tool, "label": g.label, "total": g.total, "by_severity": _sev(g.counts)}


def metrics_document(r: DashboardReport) -> dict[str, Any]:
    """The keys of ``secscan stats --format json``, with MTTD as mean, median and count."""
    return metrics_fields(r.metrics, r.total, r.open, r.baseline)


def dashboard_document(r: DashboardReport) -> dict[str, Any]:
    """The JSON document of the dashboard."""
    d = r.dashboard
    redact = Redactor().text
    return {
        "schema": SCHEMA,
        "kind": "dashboard",
        "generated_at": _ts(r.generated_at),
        "since_s": _s(r.since),
        "targets": [t.name for t in d.targets],
        "empty": r.empty,
        "summary": {
            "findings": r.total,
            "open": r.open,
            "open_by_severity": _sev(r.open_by_severity),
            "sla_breached": r.breached,
            "sla_due_soon": r.due_soon,
            "mttd_mean_s": _s(r.mttd_mean),
        },
        "metrics": metrics_document(r),
        "urgent_total": r.urgent,
        "urgent": [_row(x, redact) for x in r.urgent_rows],
        "score": score_document(r),
        "target_summary": [_target(t) for t in r.target_rows],
        "stale_after_s": _s(r.stale_after),
        "triage": _triage(r.triage, redact),
        "tracked_since": _ts(r.tracked_since),
        "goals": [{"name": g.name, "target": g.target, "actual": g.actual, "met": g.met} for g in r.goals],
        "trend": [
            {"at": _ts(p.at), "open": _sev(p.open), "sla_counted": p.sla_counted, "sla_ok": p.sla_ok}
            for p in d.trend
        ],
        "coverage": coverage.document(r.coverage),  # issue 14
        "top_rules": [_group(g) for g in d.top_rules],
        "top_targets": [_group(g) for g in d.top_targets],
        "breached": [_row(x, redact) for x in r.breached_rows],
        "due_soon": [_row(x, redact) for x in r.due_soon_rows],
        "runs": [
            {
                "run_id": run.run_id,
                "target": run.target,
                "status": run.status.value,
                "started_at": _ts(run.started_at),
                "finished_at": _ts(run.finished_at),
                "new": run.new,
                "fixed": run.fixed,
                "uploads": [{"category": c, "status": st} for c, st in r.run_uploads.get(run.run_id, ())],
                "scanners": [
                    {
                        "name": s.tool,
                        "status": s.status,
                        "reason": None if s.reason is None else redact(s.reason),
                    }
                    for s in run.scanners
                ],
            }
            for run in d.runs
        ],
        "uploads": {
            "by_status": dict(d.uploads.by_status),
            "last_delivered_at": _ts(d.uploads.last_delivered_at),
            "problems": [
                {
                    "key": p.key,
                    "status": p.status,
                    "attempts": p.attempts,
                    "created_at": _ts(p.created_at),
                    "last_error": None if p.last_error is None else redact(p.last_error),
                }
                for p in d.uploads.problems
            ],
        },
    }


def _decision(x: DecisionRecord, redact: Any) -> dict[str, Any]:
    return {
        "id": x.fingerprint[:16],
        "target": x.target,
        "tool": x.tool,
        "rule": x.rule_id,
        "path": x.path,
        "severity": x.severity.value,
        "decision": x.status,
        "reason": redact(x.reason),
        "actor": x.actor,
        "decided_at": _ts(x.decided_at),
        "until": _ts(x.until),
        "expired_at": _ts(x.expired_at),
    }


def period_document(p: PeriodReport) -> dict[str, Any]:
    """The JSON document of a period's compliance evidence."""
    e = p.evidence
    redact = Redactor().text
    return {
        "schema": SCHEMA,
        "kind": "period",
        "period": p.period.label,
        "start": _ts(e.start),
        "end": _ts(e.end),
        "generated_at": _ts(p.generated_at),
        "targets": [t.name for t in e.targets],
        "scans": [
            {
                "target": t.target,
                "by_status": dict(t.by_status),
                "with_failures": t.with_failures,
                "expected": t.expected,
                "missed": t.missed,
            }
            for t in p.runs
        ],
        "findings": {ev.value: {**_sev(counts), "total": p.total(ev)} for ev, counts in p.events.items()},
        "open_at_end": _sev(e.open_at_end),
        "triage_decisions": [_decision(x, redact) for x in e.decisions],
        "expired_decisions": [_decision(x, redact) for x in e.expired],
        "truncated": e.truncated,
    }
