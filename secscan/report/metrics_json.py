"""The metrics' keys in JSON, one writing for both documents that carry them: ``secscan stats
--format json`` (:func:`secscan.app.lifecycle_json.stats_document`) and the report's ``metrics``
(:func:`secscan.report.document.metrics_document`). Durations are seconds, rounded to the
millisecond. Pure, and light to import: ``secscan stats`` loads nothing else of the report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from secscan.core.metrics import DetectionTime, Metrics
from secscan.core.model import Severity


def seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def metrics_fields(m: Metrics, total: int, open_: int, baseline: float) -> dict[str, Any]:
    """``findings``, ``open``, MTTR, SLA compliance, open findings by age, the score against its
    baseline, and MTTD as mean, median and count, per severity."""
    return {
        "findings": total,
        "open": open_,
        "mttr_s": {s.value: seconds(m.mttr.get(s)) for s in Severity},
        "sla_compliance_pct": None if m.sla_compliance is None else round(m.sla_compliance, 1),
        "open_by_age": [
            {"severity": c.severity.value, "age": c.bucket, "count": c.count} for c in m.open_by_age
        ],
        "score": m.score,
        "score_baseline": baseline,
        "score_meets_baseline": m.score >= baseline,
        "mttd_s": {s.value: _detection(m.mttd.get(s)) for s in Severity},
    }


def _detection(t: DetectionTime | None) -> dict[str, Any] | None:
    return None if t is None else {"mean": seconds(t.mean), "median": seconds(t.median), "count": t.count}
