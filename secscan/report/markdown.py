"""The report as GitHub-flavoured Markdown: for wikis, PR comments and audit evidence.

Every value from the store is escaped for a table cell: Markdown punctuation is backslash-escaped,
``<``/``>``/``&`` become entities (no raw HTML), ``@`` mentions are defused (a report pasted into
a PR must not ping anyone) and line breaks become spaces. Links are only those secscan builds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from secscan.metrics import SCORE_BASELINE, DetectionTime
from secscan.redact import Redactor
from secscan.report import coverage
from secscan.report.charts import WORST_FIRST
from secscan.report.figures import DashboardReport, OverdueRow, human
from secscan.report.period import PeriodReport
from secscan.store.report_model import DecisionRecord

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")


def cell(value: object) -> str:
    """``value`` as inert text in a Markdown table cell."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@\u200b")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _ts(value: object) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")  # type: ignore[attr-defined]


def _detect(value: DetectionTime | None, *, mean: bool) -> str:
    return human(None if value is None else value.mean if mean else value.median)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _overdue(rows: Sequence[OverdueRow], total: int) -> list[str]:
    if not rows:
        return ["None.", ""]
    lines = table(
        ["severity", "rule", "location", "target", "age", "due", "owners", "id"],
        (
            [
                r.finding.severity.value,
                f"{cell(r.finding.tool)}: {cell(r.finding.rule_id)}",
                f"[{cell(f'{r.finding.path}:{r.finding.line}')}]({r.link})"
                if r.link
                else cell(f"{r.finding.path}:{r.finding.line}"),
                cell(r.finding.target),
                human(r.age),
                _ts(r.finding.due_at),
                cell(" ".join(r.owners)),
                f"`{r.finding.fingerprint[:16]}`",
            ]
            for r in rows
        ),
    )
    if total > len(rows):
        lines += [f"Showing the {len(rows)} due first of {total}; `secscan sla` lists them all.", ""]
    return lines


def render_dashboard(r: DashboardReport) -> str:
    d, m = r.dashboard, r.metrics
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
    out += ["## Summary", ""]
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
        f"- Security score: **{m.score:g}** (policy baseline {SCORE_BASELINE:g})",
        "",
    ]
    out += table(
        ["measure", "policy target", "now", "status"],
        (
            [
                g.name,
                cell(g.target),
                g.actual,
                "no data" if g.met is None else "met" if g.met else "**missed**",
            ]
            for g in r.goals
        ),
    )
    last = d.trend[-1]
    first = d.trend[0]
    out += ["## Trends", ""]
    out += table(
        ["", *(s.value for s in WORST_FIRST), "SLA compliance"],
        (
            [
                _ts(p.at),
                *(p.open[s] for s in WORST_FIRST),
                _pct(None if not p.sla_counted else 100.0 * p.sla_ok / p.sla_counted),
            ]
            for p in (first, last)
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
                    cell(g.name if g.tool is None else f"{g.tool}: {g.name}"),
                    *(g.counts.get(s, 0) for s in WORST_FIRST),
                    g.total,
                ]
                for g in groups
            ),
        )
    out += [f"## Breached SLAs ({r.breached})", "", *_overdue(r.breached_rows, r.breached)]
    out += [f"## Due soon ({r.due_soon})", "", *_overdue(r.due_soon_rows, r.due_soon)]
    out += ["## Run health", ""]
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
    out += [f"Uploads: {status}; last delivered: {_ts(u.last_delivered_at) or 'never'}.", ""]
    out += coverage.markdown(r.coverage, cell)  # issue 14
    return "\n".join(out)


def _decisions(rows: Sequence[DecisionRecord], expired: bool) -> list[str]:
    if not rows:
        return ["None.", ""]
    redact = Redactor().text
    headers = ["id", "target", "rule", "path", "severity", "decision", "reason", "by", "decided", "until"]
    return table(
        [*headers, "expired"] if expired else headers,
        (
            [
                f"`{x.fingerprint[:16]}`",
                cell(x.target),
                cell(f"{x.tool}: {x.rule_id}"),
                cell(x.path),
                x.severity.value,
                x.status,
                cell(redact(x.reason)),
                cell(x.actor),
                _ts(x.decided_at),
                _ts(x.until) or "no expiry",
                *([_ts(x.expired_at)] if expired else []),
            ]
            for x in rows
        ),
    )


def render_period(p: PeriodReport) -> str:
    e = p.evidence
    out = [
        f"# Compliance evidence: {p.period.label}",
        "",
        f"Period {_ts(e.start)} to {_ts(e.end)} (end exclusive); generated {_ts(p.generated_at)}; "
        f"targets: {cell(', '.join(t.name for t in e.targets) or 'none')}.",
        "",
        "## Scans",
        "",
    ]
    out += table(
        [
            "target", "complete", "partial", "interrupted", "failed", "with scanner failures", "expected",
            "missed",
        ],
        (
            [
                cell(t.target),
                t.by_status.get("complete", 0),
                t.by_status.get("partial", 0),
                t.by_status.get("interrupted", 0),
                t.by_status.get("failed", 0),
                t.with_failures,
                t.expected,
                t.missed,
            ]
            for t in p.runs
        ),
    )
    out += ["## Findings", ""]
    rows: list[list[object]] = [
        [ev.value, *(c[s] for s in WORST_FIRST), p.total(ev)] for ev, c in p.events.items()
    ]
    rows.append(["open at the end", *(e.open_at_end[s] for s in WORST_FIRST), sum(e.open_at_end.values())])
    out += table(["event", *(s.value for s in WORST_FIRST), "total"], rows)
    out += [f"## Triage decisions ({len(e.decisions)})", "", *_decisions(e.decisions, False)]
    out += [f"## Expired decisions and suppressions ({len(e.expired)})", "", *_decisions(e.expired, True)]
    if e.truncated:
        out += ["**The lists above are truncated**; run the report for a shorter period or per target.", ""]
    return "\n".join(out)
