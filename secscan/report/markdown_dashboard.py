"""The dashboard as Markdown: the same sections as the HTML page, in the same order.

Each section is a function of the report returning lines; :data:`SECTIONS` lists them in page
order (a new section is a function and an entry here). Cells go through
:func:`secscan.report.markdown_cells.cell`.
"""

from __future__ import annotations

from collections.abc import Callable

from secscan.core import score
from secscan.core.metrics import DetectionTime
from secscan.core.redact import Redactor
from secscan.report import coverage
from secscan.report.figures import DashboardReport, human, short_text, tracked_points
from secscan.report.markdown_cells import _ts, cell, table
from secscan.report.markdown_findings import findings_table
from secscan.report.palette import WORST_FIRST
from secscan.report.scores import TargetRow

Section = Callable[[DashboardReport], list[str]]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _detect(value: DetectionTime | None, *, mean: bool) -> str:
    return human(None if value is None else value.mean if mean else value.median)


def today(r: DashboardReport) -> list[str]:
    out = [f"## Act on today: {r.urgent} open critical and high findings", ""]
    if not r.urgent_rows:
        return [*out, "No open critical or high finding.", ""]
    out += findings_table(r.urgent_rows, r.generated_at)
    if r.urgent > len(r.urgent_rows):
        out += [f"Showing the first {len(r.urgent_rows)} of {r.urgent}.", ""]
    return out


def scores(r: DashboardReport) -> list[str]:
    m = r.metrics
    verdict = "meets" if m.score >= r.baseline else "**below**"
    head = f"Security score: **{m.score:g}** / 100 ({verdict} the policy baseline {r.baseline:g})"
    out = ["## Security score", "", head, ""]
    out += [" ".join(score.definition(r.baseline)), ""]
    out += table(
        ["area", *(s.value for s in WORST_FIRST), "breached", "score"],
        ([a.area.value, *(a.open[s] for s in WORST_FIRST), a.breached, f"{a.score:g}"] for a in r.areas),
    )
    return out


def _last_scan(t: TargetRow) -> str:
    if t.last_complete_at is None:
        return "never"
    return f"{_ts(t.last_complete_at)} ({human(t.last_complete_age)} ago)"


def targets(r: DashboardReport) -> list[str]:
    out = ["## Targets", ""]
    out += table(
        ["target", *(s.value for s in WORST_FIRST), "breached", "last complete scan", "score"],
        (
            [
                cell(t.name),
                *(t.open[s] for s in WORST_FIRST),
                t.breached,
                _last_scan(t) + (" **stale**" if t.stale else ""),
                f"{t.score:g}",
            ]
            for t in r.target_rows
        ),
    )
    return out


def triage(r: DashboardReport) -> list[str]:
    t = r.triage
    out = [
        "## Triage and suppressions",
        "",
        f"Triaged: **{t.triaged}** ({t.false_positive} false positives, {t.accepted_risk} accepted risks), "
        f"of which **{t.suppressed}** by the suppressions file.",
        "",
        f"### Accepted risks ending in the next {human(t.within)}: {t.expiring_total} findings",
        "",
    ]
    if not t.expiring:
        return [*out, "None.", ""]
    redact = Redactor().text
    return out + table(
        ["ends", "severity", "finding", "where", "decided by", "reason"],
        (
            [
                _ts(e.until),
                e.severity.value,
                f"**{cell(short_text(redact(e.rule_name or e.rule_id)))}** "
                f"({cell(e.tool)} {cell(e.rule_id)})",
                cell(f"{e.target} {e.path}:{e.line}" + (f" (and {e.count - 1} more)" if e.count > 1 else "")),
                cell(e.actor),
                cell(redact(e.reason)),
            ]
            for e in t.expiring
        ),
    )


def _met(met: bool | None) -> str:
    return "no data" if met is None else "met" if met else "**missed**"


def policy(r: DashboardReport) -> list[str]:
    m = r.metrics
    out = ["## Against the security policy", ""]
    out += table(
        ["severity", "open", "MTTR", "MTTD mean", "MTTD median"],
        (
            [
                s.value,
                r.open_by_severity[s],
                human(m.mttr[s]),
                _detect(m.mttd.get(s), mean=True),
                _detect(m.mttd.get(s), mean=False),
            ]
            for s in WORST_FIRST
        ),
    )
    out += [
        f"- Open findings: **{r.open}** of {r.total} tracked",
        f"- SLA breached (open): **{r.breached}**; due soon: **{r.due_soon}**",
        f"- SLA compliance: **{_pct(m.sla_compliance)}**",
        "",
    ]
    return out + table(
        ["measure", "policy target", "now", "status"],
        ([g.name, cell(g.target), g.actual, _met(g.met)] for g in r.goals),
    )


def trends(r: DashboardReport) -> list[str]:
    d, m = r.dashboard, r.metrics
    points = tracked_points(r)
    out = ["## Trends", ""]
    if r.tracked_since is not None:
        out += [f"Tracking began {_ts(r.tracked_since)}.", ""]
    out += table(
        ["", *(s.value for s in WORST_FIRST), "SLA compliance"],
        (
            [
                _ts(p.at),
                *(p.open[s] for s in WORST_FIRST),
                _pct(None if not p.sla_counted else 100.0 * p.sla_ok / p.sla_counted),
            ]
            for p in ((points[0], points[-1]) if len(points) > 1 else points)
        ),
    )
    out += ["### Open findings by age", ""]
    out += table(
        ["severity", *(c.bucket for c in m.open_by_age[:5])],
        ([s.value, *(c.count for c in m.open_by_age if c.severity is s)] for s in WORST_FIRST),
    )
    for title, groups in (("Top rules", d.top_rules), ("Top targets", d.top_targets)):
        out += [f"### {title}", ""]
        out += table(
            ["name", *(s.value for s in WORST_FIRST), "total"],
            (
                [
                    cell(g.name if g.tool is None else f"{g.tool}: {g.name}")
                    + (f" ({cell(Redactor().text(g.label))})" if g.label else ""),
                    *(g.counts.get(s, 0) for s in WORST_FIRST),
                    g.total,
                ]
                for g in groups
            ),
        )
    return out


def sla_lists(r: DashboardReport) -> list[str]:
    out: list[str] = []
    for title, rows, total in (
        ("Breached SLAs", r.breached_rows, r.breached),
        ("Due soon", r.due_soon_rows, r.due_soon),
    ):
        out += [f"## {title} ({total})", "", *findings_table(rows, r.generated_at)]
        if total > len(rows):
            out += [f"Showing the {len(rows)} due first of {total}; `secscan sla` lists them all.", ""]
    return out


def runs(r: DashboardReport) -> list[str]:
    d = r.dashboard
    out = ["## Run health", ""]
    out += table(
        ["target", "run", "started", "status", "failed scanners", "uploads"],
        (
            [
                cell(run.target),
                f"`{run.run_id}`",
                _ts(run.started_at),
                run.status.value,
                cell(", ".join(s.tool for s in run.scanners if s.status not in ("ok", "skipped")) or "none"),
                cell(", ".join(f"{c} {st}" for c, st in r.run_uploads.get(run.run_id, ())) or "none"),
            ]
            for run in d.runs
        ),
    )
    u = d.uploads
    status = ", ".join(f"{n} {s}" for s, n in sorted(u.by_status.items())) or "none queued"
    return [*out, f"Uploads: {status}; last delivered: {_ts(u.last_delivered_at) or 'never'}.", ""]


SECTIONS: tuple[tuple[str, Section], ...] = (
    ("today", today),
    ("score", scores),
    ("targets", targets),
    ("coverage", lambda r: coverage.markdown(r.coverage, cell)),
    ("triage", triage),
    ("policy", policy),
    ("trends", trends),
    ("sla", sla_lists),
    ("runs", runs),
)
"""The dashboard's sections in page order (the names of :data:`secscan.report.html.SECTIONS`)."""


def render(r: DashboardReport) -> str:
    d = r.dashboard
    out = [
        "# Security dashboard",
        "",
        f"As of {_ts(r.generated_at)}; targets: {cell(', '.join(t.name for t in d.targets) or 'none')}; "
        f"trends over the last {human(r.since)}.",
        "",
    ]
    if r.empty:
        return "\n".join(
            [*out, "No scans recorded yet: run `secscan run PATH`, then build this report again.", ""]
        )
    stale = [t for t in r.target_rows if t.stale]
    if stale:
        names = ", ".join(f"{cell(t.name)} (last complete scan: {_last_scan(t)})" for t in stale)
        out += [f"> **Not scanned completely in the last {human(r.stale_after)}:** {names}.", ""]
    for _, section in SECTIONS:
        out += section(r)
    return "\n".join(out)
