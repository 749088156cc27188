"""The report as GitHub-flavoured Markdown: for wikis, PR comments and audit evidence.

Every value from the store is escaped for a table cell: Markdown punctuation is backslash-escaped,
``<``/``>``/``&`` become entities (no raw HTML), ``@`` mentions are defused (a report pasted into
a PR must not ping anyone) and line breaks become spaces. Links are only those secscan builds.
"""

from __future__ import annotations

from collections.abc import Sequence

from secscan.core.ports.report_model import DecisionRecord
from secscan.core.redact import Redactor
from secscan.report.figures import DashboardReport
from secscan.report.markdown_cells import _ts, cell, table
from secscan.report.palette import WORST_FIRST
from secscan.report.period import PeriodReport


def render_dashboard(r: DashboardReport) -> str:
    """The dashboard as Markdown (its sections: :mod:`secscan.report.markdown_dashboard`)."""
    from secscan.report.markdown_dashboard import render

    return render(r)


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
