"""The dashboard's charts: inline SVG from templates, with geometry from :mod:`secscan.report.svg`.

No plotting library: five small charts are a few hundred lines of templates, render in
milliseconds and keep text as text (searchable, read by screen readers, legible at any width).
Colours are the Okabe-Ito palette, safe for the common colour-vision deficiencies. Each chart is
an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states its data; the page adds
a caption saying how to read it, and the data table.

The trend starts when tracking began (:func:`secscan.report.figures.tracked_points`): days
before it are not drawn as zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from secscan.core.metrics import AGE_BUCKETS
from secscan.core.model import Severity
from secscan.core.ports.report_model import RankedGroup
from secscan.report import svg
from secscan.report.figures import DashboardReport, tracked_points
from secscan.report.palette import OKABE_ITO, WORST_FIRST
from secscan.report.templating import env, ts

_BAND = 26.0  # px: the height of one severity's band
_ROW = 48  # px: one severity row of the trend
_PLOT = 110.0  # px: the SLA chart's plot
_AGE_BAR = 30.0
_AGE_ROW = 68
_RANKED_ROW = 38


@dataclass(frozen=True)
class Chart:
    """One rendered chart: its key, title, how to read it, what it shows, the SVG and its data."""

    key: str
    title: str
    note: str
    description: str
    svg: Markup
    table: dict[str, Any]


def _render(name: str, **values: Any) -> Markup:
    return Markup(env().get_template(f"charts/{name}.svg.j2").render(**values))  # noqa: S704 - autoescaped


def _counts(counts: dict[Severity, int]) -> str:
    parts = [f"{counts[s]} {s.value}" for s in WORST_FIRST if counts.get(s)]
    return ", ".join(parts) if parts else "none"


def open_trend(report: DashboardReport) -> Chart:
    points = tracked_points(report)
    times = [p.at for p in points]
    bands = [svg.band(s.value, OKABE_ITO[s], times, [p.open[s] for p in points], _BAND) for s in WORST_FIRST]
    first, last = points[0], points[-1]
    description = (
        f"From {ts(first.at)} to {ts(last.at)}. Now: {_counts(dict(last.open))}. "
        + "; ".join(f"{b.label} peaked at {b.peak}" for b in bands if b.peak)
        + "."
    )
    key, title = "open-trend", "Open findings over time"
    return Chart(
        key,
        title,
        "One row per severity, each on its own scale; the number is the open count now. "
        "The chart starts when tracking began.",
        description,
        _render(
            "multiples",
            key=key,
            title=title,
            description=description,
            bands=bands,
            row=_ROW,
            band=_BAND,
            ticks=svg.time_ticks(times),
            height=_ROW * len(bands) + 18,
        ),
        {
            "columns": ["at", *(s.value for s in WORST_FIRST)],
            "rows": [[ts(p.at), *(p.open[s] for s in WORST_FIRST)] for p in points],
        },
    )


@dataclass(frozen=True)
class _Dot:
    x_pct: float
    y: float
    label: str


def sla_trend(report: DashboardReport) -> Chart:
    points = tracked_points(report)
    times = [p.at for p in points]
    pct = [None if p.sla_counted == 0 else round(100.0 * p.sla_ok / p.sla_counted, 1) for p in points]
    xs = [svg.x_of(t, times[0], times[-1]) for t in times]
    dots = [
        _Dot(round(x / 10, 2), _PLOT - v / 100 * _PLOT, f"{v:g}%")
        for x, v in zip(xs, pct, strict=True)
        if v is not None
    ]
    known = [v for v in pct if v is not None]
    description = f"SLA compliance now: {'n/a' if pct[-1] is None else f'{pct[-1]:g}%'}" + (
        f"; lowest {min(known):g}%, highest {max(known):g}% since {ts(times[0])}." if known else "."
    )
    key, title = "sla-trend", "SLA compliance over time"
    return Chart(
        key,
        title,
        "The share of findings with an SLA window (false positives aside) that are not breached.",
        description,
        _render(
            "line",
            key=key,
            title=title,
            description=description,
            points=dots,
            last=dots[-1] if dots else None,
            path=svg.line_path(xs, [None if v is None else v / 100 for v in pct], _PLOT),
            top=20,
            plot=_PLOT,
            ticks=svg.time_ticks(times),
            height=int(20 + _PLOT + 22),
        ),
        {
            "columns": ["at", "within SLA", "counted", "%"],
            "rows": [
                [ts(p.at), p.sla_ok, p.sla_counted, "" if v is None else v]
                for p, v in zip(points, pct, strict=True)
            ],
        },
    )


@dataclass(frozen=True)
class _AgeRow:
    label: str
    colour: str
    total: int
    bars: tuple[svg.Bar, ...]


def age_chart(report: DashboardReport) -> Chart:
    buckets = [name for name, _ in AGE_BUCKETS]
    counts = {(c.severity, c.bucket): c.count for c in report.metrics.open_by_age}
    rows = [
        _AgeRow(
            s.value,
            OKABE_ITO[s],
            sum(counts[(s, b)] for b in buckets),
            svg.column_row(buckets, [counts[(s, b)] for b in buckets], _AGE_BAR),
        )
        for s in WORST_FIRST
    ]
    description = (
        "; ".join(
            f"{r.label}: " + (", ".join(f"{b.count} {b.label}" for b in r.bars if b.count) or "none")
            for r in rows
        )
        + "."
    )
    key, title = "age", "Open findings by age"
    return Chart(
        key,
        title,
        "One row per severity, each on its own scale, so a single critical shows as clearly as "
        "hundreds of lows; ages are counted from the first sighting.",
        description,
        _render(
            "columns",
            key=key,
            title=title,
            description=description,
            rows=rows,
            row=_AGE_ROW,
            bar=_AGE_BAR,
            height=_AGE_ROW * len(rows) + 6,
        ),
        {
            "columns": ["age", *(s.value for s in WORST_FIRST)],
            "rows": [[b, *(counts[(s, b)] for s in WORST_FIRST)] for b in buckets],
        },
    )


def ranked(key: str, title: str, note: str, groups: Sequence[RankedGroup]) -> Chart:
    rows = []
    for g in groups:
        label = g.name if g.tool is None else f"{g.tool} {g.name}"
        parts = [(s.value, OKABE_ITO[s], g.counts.get(s, 0)) for s in WORST_FIRST]
        rows.append((label, g.label or "", parts))
    bars = svg.ranked_bars(rows)
    named = any(g.label for g in groups)
    names = [g.name if g.tool is None else f"{g.tool}: {g.name}" for g in groups]
    description = (
        "; ".join(f"{n} {g.total} ({_counts(dict(g.counts))})" for n, g in zip(names, groups, strict=True))
        or "no open findings"
    ) + "."
    return Chart(
        key,
        title,
        note,
        description,
        _render(
            "ranked",
            key=key,
            title=title,
            description=description,
            bars=bars,
            row=_RANKED_ROW,
            height=max(_RANKED_ROW * len(bars), 30) + 4,
        ),
        {
            "columns": ["name", *(["rule name"] if named else []), *(s.value for s in WORST_FIRST), "total"],
            "rows": [
                [n, *([g.label or ""] if named else []), *(g.counts.get(s, 0) for s in WORST_FIRST), g.total]
                for n, g in zip(names, groups, strict=True)
            ],
        },
    )


def build_charts(report: DashboardReport) -> tuple[Chart, ...]:
    """The dashboard's five charts, in page order."""
    d = report.dashboard
    return (
        open_trend(report),
        sla_trend(report),
        age_chart(report),
        ranked(
            "top-rules",
            "Top rules by open findings",
            "Bars on one scale, split by severity; the number is the rule's open findings.",
            d.top_rules,
        ),
        ranked(
            "top-targets",
            "Top targets by open findings",
            "Bars on one scale, split by severity; the number is the target's open findings.",
            d.top_targets,
        ),
    )
