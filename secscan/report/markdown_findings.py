"""The dashboard's lists of findings as Markdown tables: severity, name, where (linked to the
code when the target has a web address), where each stands against its SLA, age, owners and the
dependency to upgrade. Every cell goes through :func:`secscan.report.markdown_cells.cell`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from secscan.core.ports.report_model import ListedFinding, PackageFacts
from secscan.core.redact import Redactor
from secscan.report.figures import FindingRow, human, short_text
from secscan.report.markdown_cells import _ts, cell, table


def _name(f: ListedFinding) -> str:
    if f.rule_name is None:
        return f"**{cell(f.rule_id)}** ({cell(f.tool)})"
    return f"**{cell(short_text(Redactor().text(f.rule_name)))}** ({cell(f.tool)} {cell(f.rule_id)})"


def sla_text(f: ListedFinding, now: datetime) -> str:
    """Where a listed finding stands against its SLA, in words."""
    if f.due_at is None:
        return "no SLA window"
    due = _ts(f.due_at)
    if f.sla.value == "breached":
        return f"**breached** {human(now - f.due_at)} ago (due {due})"
    if f.sla.value == "due-soon":
        return f"**due soon**: in {human(f.due_at - now)} ({due})"
    return f"within SLA: due in {human(f.due_at - now)} ({due})"


def _package(p: PackageFacts | None) -> str:
    if p is None:
        return ""
    fixed = ", ".join(p.fixed) or "no fix known"
    return cell(f"{p.ecosystem} {p.name} {p.version} → {fixed}")


def findings_table(rows: Sequence[FindingRow], now: datetime) -> list[str]:
    """Listed findings: severity, name, where, SLA, age, owners, dependency, id."""
    if not rows:
        return ["None.", ""]
    return table(
        ["severity", "finding", "where", "SLA", "age", "owners", "dependency: installed → fixed", "id"],
        (
            [
                r.finding.severity.value,
                _name(r.finding),
                cell(r.finding.target)
                + " "
                + (
                    f"[{cell(f'{r.finding.path}:{r.finding.line}')}]({r.link})"
                    if r.link
                    else cell(f"{r.finding.path}:{r.finding.line}")
                ),
                sla_text(r.finding, now),
                human(r.age),
                cell(" ".join(r.owners)),
                _package(r.finding.package),
                f"`{r.finding.fingerprint[:16]}`",
            ]
            for r in rows
        ),
    )
