"""Terminal output: progress while scanners run and the summary tables. The only rich user.

On a terminal, progress is a live display on stderr; elsewhere (CI logs) each scanner's end is
one plain line on stderr, so stdout stays clean for ``--format json``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from secscan.model import ScannerResult, ScannerStatus, ScanRun, Severity
from secscan.pipeline import ScanHooks

_STATUS_STYLE = {
    ScannerStatus.OK: "green",
    ScannerStatus.FAILED: "bold red",
    ScannerStatus.TIMEOUT: "bold red",
    ScannerStatus.SKIPPED: "yellow",
}
_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _done_line(result: ScannerResult) -> str:
    extra = f": {result.reason}" if result.reason else ""
    return (
        f"{result.name}: {result.status.value} in {result.duration_s:.1f} s, "
        f"{len(result.findings)} findings{extra}"
    )


@contextlib.contextmanager
def progress(stderr: Console) -> Iterator[ScanHooks]:
    """Scan hooks that show progress on ``stderr``."""
    if not stderr.is_terminal:
        yield ScanHooks(on_done=lambda r: stderr.print(_done_line(r), markup=False, highlight=False))
        return
    lock = threading.Lock()
    tasks: dict[str, TaskID] = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr, transient=True
    ) as bar:

        def start(names: Sequence[str]) -> None:
            with lock:
                for name in names:
                    tasks[name] = bar.add_task(f"{name}: scanning", total=1)

        def done(result: ScannerResult) -> None:
            with lock:
                bar.update(tasks[result.name], completed=1, description=_done_line(result))
                bar.console.print(_done_line(result), markup=False, highlight=False)

        yield ScanHooks(on_start=start, on_done=done)


def _first_sentence(text: str, limit: int = 120) -> str:
    head = text.split(": ", 1)[0] if len(text) > limit else text
    return head if len(head) <= limit else head[: limit - 1] + "…"


def summary(run: ScanRun, sarif_path: Path | None, console: Console, limit: int = 25) -> None:
    """Scanner status, findings by severity and tool, and the worst findings."""
    scanners = Table(title="Scanners", title_justify="left")
    for column in ("scanner", "version", "status", "time", "findings", "note"):
        scanners.add_column(column, justify="right" if column in ("time", "findings") else "left")
    for s in run.scanners:
        scanners.add_row(
            escape(s.name),
            escape(s.version),
            f"[{_STATUS_STYLE[s.status]}]{s.status.value}[/]",
            f"{s.duration_s:.1f}s",
            str(len(s.findings)),
            escape(s.reason or ""),
        )
    console.print(scanners)

    counts = Counter((f.severity, f.tool) for f in run.findings)
    tools = [s.name for s in run.scanners]
    by_sev = Table(title="Findings by severity and tool", title_justify="left")
    by_sev.add_column("severity")
    for tool in tools:
        by_sev.add_column(escape(tool), justify="right")
    by_sev.add_column("total", justify="right")
    for sev in Severity:
        row = [counts.get((sev, t), 0) for t in tools]
        by_sev.add_row(f"[{_SEVERITY_STYLE[sev]}]{sev.value}[/]", *map(str, row), str(sum(row)))
    by_sev.add_row("[bold]total[/]", *(str(sum(counts.get((s, t), 0) for s in Severity)) for t in tools),
                   str(len(run.findings)))
    console.print(by_sev)

    worst = sorted(run.findings, key=lambda f: (-f.severity.rank, f.location.path, f.location.start_line))
    if worst:
        table = Table(title=f"Top findings ({min(limit, len(worst))} of {len(worst)})", title_justify="left")
        widths = {"id": 16, "severity": 8, "tool": 14, "rule": 16, "location": 22}
        for column, width in widths.items():
            table.add_column(column, no_wrap=True, min_width=width)
        table.add_column("message", overflow="ellipsis", no_wrap=True, max_width=90)
        for f in worst[:limit]:
            table.add_row(
                f.id, f"[{_SEVERITY_STYLE[f.severity]}]{f.severity.value}[/]", f.tool, escape(f.rule_id),
                escape(f"{f.location.path}:{f.location.start_line}"), escape(_first_sentence(f.message)),
            )
        console.print(table)
    notes = [n for s in run.scanners for n in s.notifications] + list(run.notifications)
    for note in notes[:limit]:
        where = f"{note.path}:{note.line}" if note.path and note.line else (note.path or "")
        line = f"[yellow]{note.level.value}[/] {escape(where)} {escape(note.message)}"
        console.print(line, highlight=False)
    status = "complete" if run.complete else "[bold red]incomplete[/]"
    console.print(f"run {run.run_id}: {status}; SARIF written to {sarif_path}")
