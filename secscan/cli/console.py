"""Terminal output: progress while scanners run, the summary tables and the tables of the
lifecycle commands (findings, show, sla, stats, triage, ingest). The only rich user.

On a terminal, progress is a live display on stderr; elsewhere (CI logs) each scanner's end is
one plain line on stderr, so stdout stays clean for ``--format json``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from secscan.cli.plain import done_line
from secscan.cli.tables import Col, fitted
from secscan.core.model import CoverageEntry, ScannerResult, ScannerStatus, ScanRun, Severity
from secscan.core.printable import printable
from secscan.core.sla import SlaStatus

if TYPE_CHECKING:  # the lifecycle commands must not load the scan pipeline (issue 18)
    from rich.progress import TaskID

    from secscan.app.lifecycle import FindingDetail, FindingRow, SlaView, Stats
    from secscan.app.pipeline import ScanHooks
    from secscan.core.ports.store import RunOutcome, TrackedFinding

_STATUS_STYLE = {
    ScannerStatus.OK: "green",
    ScannerStatus.FAILED: "bold red",
    ScannerStatus.TIMEOUT: "bold red",
    ScannerStatus.SKIPPED: "yellow",
    ScannerStatus.INCOMPLETE: "bold red",
}
_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _safe(text: str) -> str:
    """Text from a scanned repository or a tool, for a table cell: control characters and
    escape sequences escaped (:func:`secscan.core.printable.printable`), then rich markup escaped."""
    return escape(printable(text))


@contextlib.contextmanager
def progress(stderr: Console) -> Iterator[ScanHooks]:
    """Scan hooks that show progress on ``stderr``."""
    from secscan.app.pipeline import ScanHooks

    if not stderr.is_terminal:
        yield ScanHooks(  # one line per scanner, never wrapped at the console's width (CI logs)
            on_done=lambda r: stderr.print(done_line(r), markup=False, highlight=False, soft_wrap=True)
        )
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # a terminal's display

    lock = threading.Lock()
    tasks: dict[str, TaskID] = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr, transient=True
    ) as bar:

        def start(names: Sequence[str]) -> None:
            with lock:
                for name in names:
                    tasks[name] = bar.add_task(f"{_safe(name)}: scanning", total=1)

        def done(result: ScannerResult) -> None:
            with lock:
                bar.update(tasks[result.name], completed=1, description=escape(done_line(result)))
                bar.console.print(done_line(result), markup=False, highlight=False, soft_wrap=True)

        yield ScanHooks(on_start=start, on_done=done)


def _first_sentence(text: str, limit: int = 120) -> str:
    head = text.split(": ", 1)[0] if len(text) > limit else text
    return head if len(head) <= limit else head[: limit - 1] + "…"


def coverage(entries: Sequence[CoverageEntry], console: Console) -> None:
    """The coverage map as one line per kind (``covered of found``, by which scanners), each gap's
    reason indented below it; readable at 80 columns."""
    if not entries:
        return
    console.print("[bold]Coverage[/] (covered of found, by)", highlight=False)
    for c in entries:
        found = "?" if c.files is None else str(c.files)
        by = ", ".join(c.scanners) or "-"
        style = "yellow" if c.gap else ("dim" if not c.analysers else "green")
        line = f"  [{style}]{_safe(c.kind):<24}[/] {c.covered:>6} of {found:<6} {c.unit:<7} {_safe(by)}"
        console.print(line, highlight=False)
        if c.reason:
            reason = Text(printable(c.reason), style="yellow" if c.gap else "dim")
            console.print(Padding(reason, (0, 0, 0, 6), expand=False), highlight=False)


_TOP_COLUMNS = (
    Col("id", 3, 8, 8, 16, "crop"),  # a prefix of 8 is still an id `secscan show` takes
    Col("severity", 1, 8, 8, 8),
    Col("tool", 2, 8, 14, 16),
    Col("rule", 4, 8, 16, 24),
    Col("location", 5, 12, 24, 40),
    Col("message", 6, 20, 40, 90),
)


def summary(run: ScanRun, sarif_path: Path | None, console: Console, limit: int = 25) -> None:
    """Scanner status, findings by severity and tool, and the worst findings."""
    scanners = Table(title="Scanners", title_justify="left")
    for column in ("scanner", "version", "status", "time", "findings", "note"):
        scanners.add_column(column, justify="right" if column in ("time", "findings") else "left")
    for s in run.scanners:
        scanners.add_row(
            _safe(s.name),
            _safe(s.version),
            f"[{_STATUS_STYLE[s.status]}]{s.status.value}[/]",
            f"{s.duration_s:.1f}s",
            str(len(s.findings)),
            _safe(s.reason or ""),
        )
    console.print(scanners)
    coverage(run.coverage, console)

    counts = Counter((f.severity, f.tool) for f in run.findings)
    by_tool = Table(
        title="Findings by severity and tool", title_justify="left"
    )  # a row per tool: fits 80 columns
    by_tool.add_column("tool", no_wrap=True)
    for sev in Severity:
        by_tool.add_column(f"[{_SEVERITY_STYLE[sev]}]{sev.value}[/]", justify="right")
    by_tool.add_column("total", justify="right")
    for tool in [s.name for s in run.scanners]:
        row = [counts.get((sev, tool), 0) for sev in Severity]
        by_tool.add_row(_safe(tool), *map(str, row), str(sum(row)))
    totals = [sum(n for (sev, _), n in counts.items() if sev is s) for s in Severity]
    by_tool.add_row("[bold]total[/]", *map(str, totals), str(len(run.findings)))
    console.print(by_tool)

    worst = sorted(run.findings, key=lambda f: (-f.severity.rank, f.location.path, f.location.start_line))
    if worst:
        title = f"Top findings ({min(limit, len(worst))} of {len(worst)})"
        table, names = fitted(title, console.width, _TOP_COLUMNS)
        for f in worst[:limit]:
            cells = {
                "id": f.id, "severity": _sev(f.severity), "tool": _safe(f.tool), "rule": _safe(f.rule_id),
                "location": _safe(f"{f.location.path}:{f.location.start_line}"),
                "message": _safe(_first_sentence(f.message)),
            }  # fmt: skip
            table.add_row(*(cells[name] for name in names))
        console.print(table)
    notes = [n for s in run.scanners for n in s.notifications] + list(run.notifications)
    for note in notes[:limit]:
        where = f"{note.path}:{note.line}" if note.path and note.line else (note.path or "")
        line = f"[yellow]{note.level.value}[/] {_safe(where)} {_safe(note.message)}"
        console.print(line, highlight=False)
    status = "complete" if run.complete else "[bold red]incomplete[/]"
    console.print(f"run {run.run_id}: {status}; SARIF written to {_safe(str(sarif_path))}")


# -- lifecycle commands (findings, show, sla, stats, triage, ingest) ----------------------------

_SLA_STYLE = {
    SlaStatus.NONE: "dim",
    SlaStatus.WITHIN: "green",
    SlaStatus.DUE_SOON: "yellow",
    SlaStatus.BREACHED: "bold red",
    SlaStatus.MET: "green",
}


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _until(value: datetime) -> str:
    """An exclusive expiry; midnight UTC (``--until DAY``) reads as "through DAY"."""
    at = value.astimezone(UTC)
    if (at.hour, at.minute, at.second, at.microsecond) == (0, 0, 0, 0):
        return f"through {(at - timedelta(days=1)).date().isoformat()}"
    return f"until {_when(at)}"


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


def _sev(severity: Severity) -> str:
    return f"[{_SEVERITY_STYLE[severity]}]{severity.value}[/]"


def _sla_cell(view: SlaView, now: datetime) -> str:
    text = view.status.value
    remaining = view.remaining(now)
    if view.paused and view.status not in (SlaStatus.NONE, SlaStatus.MET):
        text += " (paused)"
    elif remaining is not None and view.status is not SlaStatus.NONE:
        late = remaining < timedelta(0)
        text += f", overdue {span(-remaining)}" if late else f", {span(remaining)} left"
    return f"[{_SLA_STYLE[view.status]}]{_safe(text)}[/]"


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
            "id": t.id, "severity": _sev(t.severity), "state": t.state.value, "target": _safe(t.target),
            "tool": _safe(t.tool), "rule": _safe(t.rule_id), "location": _safe(f"{t.path}:{t.line}"),
            "first seen": _when(t.first_seen), "SLA": _sla_cell(r.sla, now),
            "message": _safe(_first_sentence(t.message)),
        }  # fmt: skip
        table.add_row(*(cells[name] for name in names))
    console.print(table)


def finding_detail(detail: FindingDetail, console: Console, now: datetime) -> None:
    """``secscan show``: the finding, its SLA, its triage and its audit trail."""
    t = detail.finding
    facts = Table(title=f"Finding {t.id}", title_justify="left", show_header=False)
    facts.add_column("field", style="bold")
    facts.add_column("value", overflow="fold")
    due = _when(detail.sla.due_at) + (" (clock paused)" if detail.sla.paused else "")
    values = [
        ("fingerprint", t.fingerprint), ("target", t.target), ("tool", t.tool), ("rule", t.rule_id),
        ("location", f"{t.path}:{t.line}"), ("message", t.message), ("state", t.state.value),
        ("first seen", _when(t.first_seen)), ("last seen", _when(t.last_seen)),
        ("fixed at", _when(t.fixed_at)), ("SLA due", due),
    ]  # fmt: skip
    facts.add_row("severity", _sev(t.severity))
    for name, value in values:
        facts.add_row(name, _safe(value))
    facts.add_row("SLA", _sla_cell(detail.sla, now))
    if t.triage is not None:
        d = t.triage
        until = f" {_until(d.until)}" if d.until else ""
        decision = f"{d.status.value} by {d.actor} at {_when(d.decided_at)}{until}: {d.reason}"
        facts.add_row("triage", _safe(decision))
    console.print(facts)
    history = Table(title="History", title_justify="left")
    for column in ("at", "event", "from", "to", "actor", "run"):
        history.add_column(column, no_wrap=True)
    history.add_column("reason", overflow="fold")
    for e in detail.history:
        history.add_row(
            _when(e.at), e.event.value, e.from_state.value if e.from_state else "-", e.to_state.value,
            _safe(e.actor), _safe(e.run_id or "-"), _safe(e.reason),
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
            "id": t.id, "severity": _sev(t.severity), "target": _safe(t.target), "tool": _safe(t.tool),
            "rule": _safe(t.rule_id), "location": _safe(f"{t.path}:{t.line}"), "due": _when(r.sla.due_at),
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
        times.add_row(_sev(sev), span(m.mttr.get(sev)), span(mean), span(median))
    console.print(times)
    buckets = list(dict.fromkeys(c.bucket for c in m.open_by_age))
    ages = Table(title="Open findings by severity and age", title_justify="left")
    ages.add_column("severity")
    for bucket in (*buckets, "total"):
        ages.add_column(bucket, justify="right")
    for sev in Severity:
        counts = [c.count for c in m.open_by_age if c.severity is sev]
        ages.add_row(_sev(sev), *map(str, counts), str(sum(counts)))
    console.print(ages)
    compliance = "n/a (no finding has an SLA window)"
    if m.sla_compliance is not None:
        compliance = f"{m.sla_compliance:.1f}%"
    verdict = "[green]meets[/]" if m.score >= stats.baseline else "[bold red]below[/]"
    scope = f"target {_safe(stats.target)}" if stats.target else "all targets"
    console.print(f"{scope}: {stats.total} findings tracked, {stats.open} open", highlight=False)
    console.print(f"SLA compliance: {compliance}", highlight=False)
    score = f"security score: {m.score:.1f} / 100 ({verdict} the baseline {stats.baseline:g})"
    console.print(score, highlight=False)


def triage_done(finding: TrackedFinding, console: Console) -> None:
    d = finding.triage
    what = "decision lifted" if d is None else d.status.value
    if d is not None and d.until is not None:
        what += f" {_until(d.until)}"
    console.print(f"{finding.id}: {_safe(what)}; state {finding.state.value}", highlight=False)


def ingest_summary(run: ScanRun, outcome: RunOutcome, console: Console) -> None:
    """``secscan ingest``: each tool's status and what the run changed."""
    table = Table(title=f"Ingested run {run.run_id} into {_safe(run.target_name)}", title_justify="left")
    for column in ("tool", "version", "status", "findings", "note"):
        table.add_column(column, justify="right" if column == "findings" else "left")
    for s in run.scanners:
        table.add_row(
            _safe(s.name), _safe(s.version), f"[{_STATUS_STYLE[s.status]}]{s.status.value}[/]",
            str(len(s.findings)), _safe(s.reason or ""),
        )  # fmt: skip
    console.print(table)
    for note in [n for s in run.scanners for n in s.notifications][:25]:
        where = f"{note.path}:{note.line}" if note.path and note.line else (note.path or "")
        line = f"[yellow]{note.level.value}[/] {_safe(where)} {_safe(note.message)}"
        console.print(line, highlight=False)
    counts = (
        f"{len(outcome.new)} new, {len(outcome.unchanged)} unchanged, "
        f"{len(outcome.reopened)} reopened, {len(outcome.fixed)} fixed"
    )
    console.print(f"run {outcome.run.status.value}: {counts}", highlight=False)
