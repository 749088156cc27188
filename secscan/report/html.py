"""The dashboard as one self-contained HTML page: inline CSS and SVG, no script, no external asset.

Rendered with Jinja2 (autoescaping on: rule ids, rule names, paths and messages come from scanned
repositories and are escaped everywhere). A Content-Security-Policy ``<meta>`` forbids scripts
and any fetch, so the page is inert even when opened from a mail attachment.

The page is a list of sections (:data:`SECTIONS`), each a template in ``templates/sections/``
that reads the report: a new section is a name here and a template there.
"""

from __future__ import annotations

from secscan.core import score
from secscan.report import charts
from secscan.report.figures import DashboardReport
from secscan.report.period import PeriodReport
from secscan.report.templating import env

SECTIONS: tuple[str, ...] = (
    "today", "score", "targets", "coverage", "triage", "policy", "trends", "sla", "runs"
)  # fmt: skip
"""The dashboard's sections in page order: what to act on today first, run health last."""


def render_dashboard(report: DashboardReport, sections: tuple[str, ...] = SECTIONS) -> str:
    """The HTML page of ``report`` (a friendly page when the database holds nothing yet)."""
    drawn = () if report.empty else charts.build_charts(report)
    return (
        env()
        .get_template("dashboard.html.j2")
        .render(
            r=report,
            d=report.dashboard,
            m=report.metrics,
            charts=drawn,
            sections=sections,
            definition=score.definition(report.baseline),
        )
    )


def render_period(report: PeriodReport) -> str:
    """The compliance evidence of a period as an HTML page."""
    return env().get_template("period.html.j2").render(p=report, e=report.evidence)
