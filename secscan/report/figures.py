"""The dashboard's figures from the store's aggregates. Pure: no I/O, ``now`` comes in.

The arithmetic is that of :mod:`secscan.core.metrics` (same constants, same rounding), applied to
counts and sums instead of findings, so :func:`to_metrics` returns exactly the
:class:`~secscan.core.metrics.Metrics` that ``secscan stats`` computes over the same findings (a
test checks the equality on a database with a known history). Policy goals come from the
security policy secscan serves: score 95 (``[report] score_baseline``), MTTR < 2 h for critical,
remediation < 24 h for vulnerabilities (high), MTTD < 30 min. The scores per area and per target
are in :mod:`secscan.report.scores`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from secscan.core import metrics, sla
from secscan.core import score as scoring
from secscan.core.model import FindingState, Severity
from secscan.core.ports.coverage import RunCoverage
from secscan.core.ports.report_model import (
    Dashboard,
    DashboardQuery,
    FindingCell,
    ListedFinding,
    SpanSum,
    TrendPoint,
)
from secscan.core.ports.store import OPEN_STATES, TriageStatus
from secscan.report.scores import (
    AreaRow,
    TargetRow,
    TriageSummary,
    area_rows,
    loads,
    target_rows,
    triage_summary,
)

AGE_LIMITS = tuple(limit for _, limit in metrics.AGE_BUCKETS[:-1])
TREND_STEPS = tuple(timedelta(hours=h) for h in (1, 6, 24, 7 * 24, 30 * 24, 365 * 24))
MAX_POINTS = 60
_ACCEPTED = TriageStatus.ACCEPTED_RISK.value
_FALSE_POSITIVE = TriageStatus.FALSE_POSITIVE.value


@dataclass(frozen=True)
class Goal:
    """A policy target and where the figures stand against it (``met`` None: no data yet)."""

    name: str
    target: str
    actual: str
    met: bool | None


@dataclass(frozen=True)
class FindingRow:
    """A finding as the report lists it: with its age, a link to its line and its owners."""

    finding: ListedFinding
    age: timedelta
    link: str | None
    owners: tuple[str, ...]


OverdueRow = FindingRow


@dataclass(frozen=True)
class Listed:
    """The findings listed by name, enriched: act on today, breached, due soon."""

    urgent: tuple[FindingRow, ...] = ()
    breached: tuple[FindingRow, ...] = ()
    due_soon: tuple[FindingRow, ...] = ()


@dataclass(frozen=True)
class DashboardReport:
    """Everything a rendering needs: the aggregates, the metrics and the goals."""

    generated_at: datetime
    since: timedelta
    dashboard: Dashboard
    metrics: metrics.Metrics
    total: int
    open: int
    open_by_severity: Mapping[Severity, int]
    breached: int
    due_soon: int
    mttd_mean: timedelta | None  # over every severity
    goals: tuple[Goal, ...]
    breached_rows: tuple[FindingRow, ...]
    due_soon_rows: tuple[FindingRow, ...]
    run_uploads: Mapping[str, tuple[tuple[str, str], ...]] = field(
        default_factory=dict
    )  # run -> (category, status)
    urgent_rows: tuple[FindingRow, ...] = ()  # open critical and high findings (act on today)
    urgent: int = 0  # how many there are
    baseline: float = scoring.BASELINE
    areas: tuple[AreaRow, ...] = ()
    target_rows: tuple[TargetRow, ...] = ()
    triage: TriageSummary = field(default_factory=TriageSummary)
    tracked_since: datetime | None = None  # the first run of the targets in scope
    stale_after: timedelta = timedelta(hours=24)
    coverage: tuple[RunCoverage, ...] = ()  # issue 14: each target's latest coverage map

    @property
    def empty(self) -> bool:
        return self.total == 0 and not self.dashboard.runs


def trend_query(now: datetime, since: timedelta, **kwargs: object) -> DashboardQuery:
    """A :class:`DashboardQuery` whose trend covers ``since`` with at most ``MAX_POINTS`` points."""
    step = next((s for s in TREND_STEPS if since / s <= MAX_POINTS), TREND_STEPS[-1])
    points = min(MAX_POINTS, math.ceil(since / step)) + 1
    return DashboardQuery(now=now, step=step, points=points, age_limits=AGE_LIMITS, **kwargs)  # type: ignore[arg-type]


def _mean(span: SpanSum | None) -> timedelta | None:
    return None if span is None or span.count == 0 else timedelta(seconds=span.total_s) / span.count


def detection(span: SpanSum | None) -> metrics.DetectionTime | None:
    """:func:`secscan.core.metrics.detection_time` from a sum, a count and the median's middle values."""
    if span is None or span.count == 0:
        return None
    middle = [float(v) for v in span.middle_s]
    median = middle[0] if len(middle) == 1 else (middle[0] + middle[1]) / 2
    return metrics.DetectionTime(
        mean=timedelta(seconds=float(span.total_s) / span.count),
        median=timedelta(seconds=median),
        count=span.count,
    )


def _compliance(cells: tuple[FindingCell, ...], *, fixed_only: bool) -> float | None:
    total = ok = 0
    for c in cells:
        if c.triage == _FALSE_POSITIVE or c.sla is sla.SlaStatus.NONE:
            continue
        if fixed_only and c.state is not FindingState.FIXED:
            continue
        total += c.count
        ok += 0 if c.sla is sla.SlaStatus.BREACHED else c.count
    return None if total == 0 else 100.0 * ok / total


def to_metrics(d: Dashboard) -> metrics.Metrics:
    """The :class:`~secscan.core.metrics.Metrics` of the aggregated findings."""
    return metrics.Metrics(
        mttr={s: _mean(d.mttr.get(s)) for s in Severity},
        sla_compliance=_compliance(d.cells, fixed_only=False),
        open_by_age=tuple(
            metrics.OpenCount(s, name, d.ages.get((s, i), 0))
            for s in Severity
            for i, (name, _) in enumerate(metrics.AGE_BUCKETS)
        ),
        score=scoring.score(loads(d.cells)),
        mttd={s: detection(d.mttd.get(s)) for s in Severity},
    )


def tracked_points(report: DashboardReport) -> tuple[TrendPoint, ...]:
    """The trend's points from the first one at or after tracking began (the last point at least)."""
    trend = report.dashboard.trend
    since = report.tracked_since
    if since is None:
        return trend[-1:]
    kept = tuple(p for p in trend if p.at >= since)
    return kept or trend[-1:]


def short_text(text: str, limit: int = 110) -> str:
    """``text`` on one line, cut at a word before ``limit`` characters (with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:") + "\u2026"


def human(value: timedelta | None) -> str:
    """``3d 4h``, ``2h 5m``, ``45s``; ``n/a`` for None."""
    if value is None:
        return "n/a"
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"


def _goal(name: str, limit: timedelta, value: timedelta | None) -> Goal:
    return Goal(name, f"< {human(limit)}", human(value), None if value is None else value < limit)


def goals(
    m: metrics.Metrics, mttd_mean: timedelta | None, baseline: float = metrics.SCORE_BASELINE
) -> tuple[Goal, ...]:
    """The policy targets: score >= the baseline (95), MTTR critical < 2 h, high < 24 h, MTTD < 30 min."""
    return (
        Goal("Security score", f">= {baseline:g}", f"{m.score:g}", scoring.meets(m.score, baseline)),
        _goal("MTTR critical", timedelta(hours=2), m.mttr.get(Severity.CRITICAL)),
        _goal("MTTR high (vulnerabilities)", timedelta(hours=24), m.mttr.get(Severity.HIGH)),
        _goal("MTTD (mean)", timedelta(minutes=30), mttd_mean),
    )


def summarise(
    d: Dashboard,
    since: timedelta,
    rows: Listed,
    *,
    baseline: float = metrics.SCORE_BASELINE,
    stale_after: timedelta = timedelta(hours=24),
    expiring_within: timedelta = timedelta(days=14),
) -> DashboardReport:
    """The report of the aggregates ``d`` (``rows``: the listed findings, enriched)."""
    m = to_metrics(d)
    open_by: dict[Severity, int] = dict.fromkeys(Severity, 0)
    for c in d.cells:
        if c.state in OPEN_STATES:
            open_by[c.severity] += c.count
    count = sum(s.count for s in d.mttd.values())
    overall = timedelta(seconds=sum(s.total_s for s in d.mttd.values()) / count) if count else None
    open_cells = [c for c in d.cells if c.state in OPEN_STATES]
    firsts = [t.first_run_at for t in d.target_runs if t.first_run_at is not None]
    return DashboardReport(
        generated_at=d.now,
        since=since,
        dashboard=d,
        metrics=m,
        total=sum(c.count for c in d.cells),
        open=sum(open_by.values()),
        open_by_severity=open_by,
        breached=sum(c.count for c in open_cells if c.sla is sla.SlaStatus.BREACHED),
        due_soon=sum(c.count for c in open_cells if c.sla is sla.SlaStatus.DUE_SOON),
        mttd_mean=overall,
        goals=goals(m, overall, baseline),
        breached_rows=rows.breached,
        due_soon_rows=rows.due_soon,
        urgent_rows=rows.urgent,
        urgent=open_by[Severity.CRITICAL] + open_by[Severity.HIGH],
        baseline=baseline,
        areas=area_rows(d.cells, baseline),
        target_rows=target_rows(d, baseline, stale_after),
        triage=triage_summary(d, expiring_within),
        tracked_since=min(firsts) if firsts else None,
        stale_after=stale_after,
    )
