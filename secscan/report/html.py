"""The dashboard as one self-contained HTML page: inline CSS and SVG, no script, no external asset.

Rendered with Jinja2 (autoescaping on: rule ids, paths and messages come from scanned
repositories and are escaped everywhere). A Content-Security-Policy ``<meta>`` forbids scripts
and any fetch, so the page is inert even when opened from a mail attachment.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from secscan import __version__
from secscan.metrics import AGE_BUCKETS
from secscan.model import Severity
from secscan.redact import Redactor
from secscan.report import charts
from secscan.report.figures import DashboardReport, human
from secscan.report.period import PeriodReport

WORST_FIRST = charts.WORST_FIRST


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("secscan.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["human"] = human
    env.filters["redact"] = Redactor().text
    env.filters["ts"] = _ts
    env.filters["day"] = lambda v: "" if v is None else v.strftime("%Y-%m-%d")
    env.globals["colours"] = {s.value: c for s, c in charts.OKABE_ITO.items()}
    env.globals["severities"] = WORST_FIRST
    env.globals["version"] = __version__
    return env


def _ts(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _counts(counts: dict[Severity, int]) -> str:
    parts = [f"{counts[s]} {s.value}" for s in WORST_FIRST if counts.get(s)]
    return ", ".join(parts) if parts else "none"


def build_charts(report: DashboardReport) -> tuple[tuple[charts.Chart, dict[str, Any]], ...]:
    """Each chart with its data table (``{"columns": [...], "rows": [[...], ...]}``)."""
    d = report.dashboard
    times = [p.at for p in d.trend]
    found: list[tuple[charts.Chart, dict[str, Any]]] = []
    sev_cols = [s.value for s in WORST_FIRST]
    first, last = d.trend[0], d.trend[-1]
    found.append(
        (
            charts.open_trend(
                "open-trend",
                times,
                {s: [p.open[s] for p in d.trend] for s in Severity},
                f"Open findings at {_ts(last.at)}: {_counts(dict(last.open))} "
                f"({sum(last.open.values())} in all); "
                f"at {_ts(first.at)}: {sum(first.open.values())}.",
            ),
            {
                "columns": ["at", *sev_cols],
                "rows": [[_ts(p.at), *(p.open[s] for s in WORST_FIRST)] for p in d.trend],
            },
        )
    )
    pct = [None if p.sla_counted == 0 else round(100.0 * p.sla_ok / p.sla_counted, 1) for p in d.trend]
    found.append(
        (
            charts.line_trend(
                "sla-trend",
                times,
                pct,
                f"SLA compliance at {_ts(last.at)}: {'n/a' if pct[-1] is None else f'{pct[-1]}%'}; "
                f"at {_ts(first.at)}: {'n/a' if pct[0] is None else f'{pct[0]}%'}.",
            ),
            {
                "columns": ["at", "within SLA", "counted", "%"],
                "rows": [
                    [_ts(p.at), p.sla_ok, p.sla_counted, "" if v is None else v]
                    for p, v in zip(d.trend, pct, strict=True)
                ],
            },
        )
    )
    buckets = [name for name, _ in AGE_BUCKETS]
    ages = [{c.severity: c.count for c in report.metrics.open_by_age if c.bucket == b} for b in buckets]
    found.append(
        (
            charts.stacked_bars(
                "age",
                "Open findings by age",
                buckets,
                ages,
                "Open findings by age: "
                + "; ".join(f"{b}: {sum(a.values())}" for b, a in zip(buckets, ages, strict=True))
                + ".",
                horizontal=False,
                axis_label="open findings",
            ),
            {
                "columns": ["age", *sev_cols],
                "rows": [
                    [b, *(a.get(s, 0) for s in WORST_FIRST)] for b, a in zip(buckets, ages, strict=True)
                ],
            },
        )
    )
    for key, title, groups in (
        ("top-rules", "Top rules by open findings", d.top_rules),
        ("top-targets", "Top targets by open findings", d.top_targets),
    ):
        labels = [g.name if g.tool is None else f"{g.tool}: {g.name}" for g in groups]
        found.append(
            (
                charts.stacked_bars(
                    key,
                    title,
                    labels,
                    [dict(g.counts) for g in groups],
                    f"{title}: "
                    + ("; ".join(f"{lab} {g.total}" for lab, g in zip(labels, groups, strict=True)) or "none")
                    + ".",
                    horizontal=True,
                    axis_label="open findings",
                ),
                {
                    "columns": ["name", *sev_cols, "total"],
                    "rows": [
                        [lab, *(g.counts.get(s, 0) for s in WORST_FIRST), g.total]
                        for lab, g in zip(labels, groups, strict=True)
                    ],
                },
            )
        )
    return tuple(found)


def render_dashboard(report: DashboardReport) -> str:
    """The HTML page of ``report`` (a friendly page when the database holds nothing yet)."""
    drawn = () if report.empty else build_charts(report)
    return (
        _env()
        .get_template("dashboard.html.j2")
        .render(
            r=report,
            d=report.dashboard,
            m=report.metrics,
            charts=[(c.key, c.title, c.description, Markup(c.svg), table) for c, table in drawn],  # noqa: S704 - our own SVG, text escaped by matplotlib
        )
    )


def render_period(report: PeriodReport) -> str:
    """The compliance evidence of a period as an HTML page."""
    return _env().get_template("period.html.j2").render(p=report, e=report.evidence)
