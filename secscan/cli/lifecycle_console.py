"""The output of the lifecycle commands on a terminal: ``secscan findings``, ``show``, ``sla``,
``stats``, ``triage`` and ``ingest`` as rich tables, fitted to the console's width.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from secscan.cli.cells import STATUS_STYLE, first_sentence, safe, severity_cell, when
from secscan.cli.tables import Col, fitted
from secscan.core.model import ScanRun, Severity
from secscan.core.sla import SlaStatus

if TYPE_CHECKING:  # the lifecycle commands must not load the scan pipeline (issue 18)
    from secscan.app.lifecycle import FindingDetail, FindingRow, SlaView, Stats
    from secscan.core.ports.store import RunOutcome, TrackedFinding

_SLA_STYLE = {
    SlaStatus.NONE: "dim",
    SlaStatus.WITHIN: "green",
    SlaStatus.DUE_SOON: "yellow",
    SlaStatus.BREACHED: "bold red",
    SlaStatus.MET: "green",
}


def _until(value: datetime) -> str:
    """An exclusive expiry; midnight UTC (``--until DAY``) reads as "through DAY"."""
    at = value.astimezone(UTC)
    if (at.hour, at.minute, at.second, at.microsecond) == (0, 0, 0, 0):
        return f"through {(at - timedelta(days=1)).date().isoformat()}"
    return f"until {when(at)}"


def span(value: timedelta | None) -> str:
    """A duration for people: ``2d 3h``, ``45m``, ``30s``; negative ones as ``-2h``."""
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n][:2]
    return sign + (" ".join(parts) if parts else f"{secs}s")


def _sla_cell(view: SlaView, now: datetime) -> str:
    text = view.status.value
    remaining = view.remaining(now)
    if view.paused and view.status not in (SlaStatus.NONE, SlaStatus.MET):
        text += " (paused)"
    elif remaining is not None and view.status is not SlaStatus.NONE:
        late = remaining < timedelta(0)
        text += f", overdue {span(-remaining)}" if late else f", {span(remaining)} left"
    return f"[{_SLA_STYLE[view.status]}]{safe(text)}[/]"


_FINDINGS_COLUMNS = (
    Col("id", 3, 8, 8, 16, "crop"),
    Col("severity", 1, 8, 8, 8),
    Col("state", 7, 9, 9, 9),
    Col("target", 8, 8, 10, 20),
    Col("tool", 2, 8, 14, 16),
    Col("rule", 4, 8, 14, 24),
    Col("location", 5, 12, 20, 40),
    Col("first seen", 9, 17, 17, 17),
    Col("SLA", 6, 10, 20, 26),
    Col("message", 10, 20, 40, 60),
)
_SLA_COLUMNS = (
    Col("id", 3, 8, 8, 16, "crop"),
    Col("severity", 1, 8, 8, 8),
    Col("target", 8, 8, 10, 20),
    Col("tool", 2, 8, 14, 16),
    Col("rule", 4, 8, 14, 24),
    Col("location", 5, 12, 20, 40),
    Col("due", 7, 17, 17, 17),
    Col("SLA", 6, 10, 20, 26),
)


def findings_table(
    rows: Sequence[FindingRow], console: Console, now: datetime, title: str = "Findings"
) -> None:
    """One line per tracked finding, worst first."""
    if not rows:
        console.print("no findings match", highlight=False)
        return
    table, names = fitted(f"{title} ({len(rows)})", console.width, _FINDINGS_COLUMNS)
    for r in rows:
        t = r.finding
        cells = {
            "id": t.id, "severity": severity_cell(t.severity), "state": t.state.value,
            "target": safe(t.target), "tool": safe(t.tool), "rule": safe(t.rule_id),
            "location": safe(f"{t.path}:{t.line}"),
            "first seen": when(t.first_seen), "SLA": _sla_cell(r.sla, now),
            "message": safe(first_sentence(t.message)),
        }  # fmt: skip
        table.add_row(*(cells[name] for name in names))
    console.print(table)


def finding_detail(detail: FindingDetail, console: Console, now: datetime) -> None:
    """``secscan show``: the finding, its SLA, its triage and its audit trail."""
    t = detail.finding
    facts = Table(title=f"Finding {t.id}", title_justify="left", show_header=False)
    facts.add_column("field", style="bold")
    facts.add_column("value", overflow="fold")
    due = when(detail.sla.due_at) + (" (clock paused)" if detail.sla.paused else "")
    values = [
        ("fingerprint", t.fingerprint), ("target", t.target), ("tool", t.tool), ("rule", t.rule_id),
        ("location", f"{t.path}:{t.line}"), ("message", t.message), ("state", t.state.value),
        ("first seen", when(t.first_seen)), ("last seen", when(t.last_seen)),
        ("fixed at", when(t.fixed_at)), ("SLA due", due),
    ]  # fmt: skip
    facts.add_row("severity", severity_cell(t.severity))
    for name, value in values:
        facts.add_row(name, safe(value))
    facts.add_row("SLA", _sla_cell(detail.sla, now))
    if t.triage is not None:
        d = t.triage
        until = f" {_until(d.until)}" if d.until else ""
        decision = f"{d.status.value} by {d.actor} at {when(d.decided_at)}{until}: {d.reason}"
        facts.add_row("triage", safe(decision))
    console.print(facts)
    history = Table(title="History", title_justify="left")
    for column in ("at", "event", "from", "to", "actor", "run"):
        history.add_column(column, no_wrap=True)
    history.add_column("reason", overflow="fold")
    for e in detail.history:
        history.add_row(
            when(e.at), e.event.value, e.from_state.value if e.from_state else "-", e.to_state.value,
            safe(e.actor), safe(e.run_id or "-"), safe(e.reason),
        )  # fmt: skip
    console.print(history)


def sla_table(rows: Sequence[FindingRow], console: Console, now: datetime) -> None:
    """``secscan sla``: open findings by due time."""
    if not rows:
        console.print("no open findings with a due time match", highlight=False)
        return
    title = f"SLA ({len(rows)} open findings, soonest due first)"
    table, names = fitted(title, console.width, _SLA_COLUMNS)
    for r in rows:
        t = r.finding
        cells = {
            "id": t.id, "severity": severity_cell(t.severity), "target": safe(t.target), "tool": safe(t.tool),
            "rule": safe(t.rule_id), "location": safe(f"{t.path}:{t.line}"), "due": when(r.sla.due_at),
            "SLA": _sla_cell(r.sla, now),
        }  # fmt: skip
        table.add_row(*(cells[name] for name in names))
    console.print(table)


def stats_tables(stats: Stats, console: Console) -> None:
    """``secscan stats``: MTTR (and MTTD when known), open findings by age, compliance and score."""
    m = stats.metrics
    times = Table(title="Time to remediate and to detect", title_justify="left")
    times.add_column("severity")
    times.add_column("MTTR", justify="right")
    times.add_column("MTTD mean", justify="right")
    times.add_column("MTTD median", justify="right")
    for sev in Severity:
        detected = stats.mttd.get(sev)
        mean, median = (detected.mean, detected.median) if detected else (None, None)
        times.add_row(severity_cell(sev), span(m.mttr.get(sev)), span(mean), span(median))
    console.print(times)
    buckets = list(dict.fromkeys(c.bucket for c in m.open_by_age))
    ages = Table(title="Open findings by severity and age", title_justify="left")
    ages.add_column("severity")
    for bucket in (*buckets, "total"):
        ages.add_column(bucket, justify="right")
    for sev in Severity:
        counts = [c.count for c in m.open_by_age if c.severity is sev]
        ages.add_row(severity_cell(sev), *map(str, counts), str(sum(counts)))
    console.print(ages)
    compliance = "n/a (no finding has an SLA window)"
    if m.sla_compliance is not None:
        compliance = f"{m.sla_compliance:.1f}%"
    verdict = "[green]meets[/]" if m.score >= stats.baseline else "[bold red]below[/]"
    scope = f"target {safe(stats.target)}" if stats.target else "all targets"
    console.print(f"{scope}: {stats.total} findings tracked, {stats.open} open", highlight=False)
    console.print(f"SLA compliance: {compliance}", highlight=False)
    score = f"security score: {m.score:.1f} / 100 ({verdict} the baseline {stats.baseline:g})"
    console.print(score, highlight=False)


def triage_done(finding: TrackedFinding, console: Console) -> None:
    d = finding.triage
    what = "decision lifted" if d is None else d.status.value
    if d is not None and d.until is not None:
        what += f" {_until(d.until)}"
    console.print(f"{finding.id}: {safe(what)}; state {finding.state.value}", highlight=False)


def ingest_summary(run: ScanRun, outcome: RunOutcome, console: Console) -> None:
    """``secscan ingest``: each tool's status and what the run changed."""
    table = Table(title=f"Ingested run {run.run_id} into {safe(run.target_name)}", title_justify="left")
    for column in ("tool", "version", "status", "findings", "note"):
        table.add_column(column, justify="right" if column == "findings" else "left")
    for s in run.scanners:
        table.add_row(
            safe(s.name), safe(s.version), f"[{STATUS_STYLE[s.status]}]{s.status.value}[/]",
            str(len(s.findings)), safe(s.reason or ""),
        )  # fmt: skip
    console.print(table)
    for note in [n for s in run.scanners for n in s.notifications][:25]:
        where = f"{note.path}:{note.line}" if note.path and note.line else (note.path or "")
        line = f"[yellow]{note.level.value}[/] {safe(where)} {safe(note.message)}"
        console.print(line, highlight=False)
    counts = (
        f"{len(outcome.new)} new, {len(outcome.unchanged)} unchanged, "
        f"{len(outcome.reopened)} reopened, {len(outcome.fixed)} fixed"
    )
    console.print(f"run {outcome.run.status.value}: {counts}", highlight=False)
