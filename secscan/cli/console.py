"""The scan's output on a terminal: progress while scanners run, then the summary tables and the
coverage map. The lifecycle commands' tables are :mod:`secscan.cli.lifecycle_console`'s.

On a terminal, progress is a live display on stderr; elsewhere (CI logs) each scanner's end is
one plain line on stderr, so stdout stays clean for ``--format json``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from secscan.cli.cells import SEVERITY_STYLE, STATUS_STYLE, first_sentence, safe, severity_cell
from secscan.cli.plain import done_line
from secscan.cli.tables import Col, fitted
from secscan.core.model import CoverageEntry, ScannerResult, ScanRun, Severity
from secscan.core.printable import printable

if TYPE_CHECKING:  # progress() loads the scan pipeline only when a scan runs (issue 18)
    from rich.progress import TaskID

    from secscan.app.pipeline import ScanHooks


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
                    tasks[name] = bar.add_task(f"{safe(name)}: scanning", total=1)

        def done(result: ScannerResult) -> None:
            with lock:
                bar.update(tasks[result.name], completed=1, description=escape(done_line(result)))
                bar.console.print(done_line(result), markup=False, highlight=False, soft_wrap=True)

        yield ScanHooks(on_start=start, on_done=done)


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
        line = f"  [{style}]{safe(c.kind):<24}[/] {c.covered:>6} of {found:<6} {c.unit:<7} {safe(by)}"
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
            safe(s.name),
            safe(s.version),
            f"[{STATUS_STYLE[s.status]}]{s.status.value}[/]",
            f"{s.duration_s:.1f}s",
            str(len(s.findings)),
            safe(s.reason or ""),
        )
    console.print(scanners)
    coverage(run.coverage, console)

    counts = Counter((f.severity, f.tool) for f in run.findings)
    by_tool = Table(
        title="Findings by severity and tool", title_justify="left"
    )  # a row per tool: fits 80 columns
    by_tool.add_column("tool", no_wrap=True)
    for sev in Severity:
        by_tool.add_column(f"[{SEVERITY_STYLE[sev]}]{sev.value}[/]", justify="right")
    by_tool.add_column("total", justify="right")
    for tool in [s.name for s in run.scanners]:
        row = [counts.get((sev, tool), 0) for sev in Severity]
        by_tool.add_row(safe(tool), *map(str, row), str(sum(row)))
    totals = [sum(n for (sev, _), n in counts.items() if sev is s) for s in Severity]
    by_tool.add_row("[bold]total[/]", *map(str, totals), str(len(run.findings)))
    console.print(by_tool)

    worst = sorted(run.findings, key=lambda f: (-f.severity.rank, f.location.path, f.location.start_line))
    if worst:
        title = f"Top findings ({min(limit, len(worst))} of {len(worst)})"
        table, names = fitted(title, console.width, _TOP_COLUMNS)
        for f in worst[:limit]:
            cells = {
                "id": f.id, "severity": severity_cell(f.severity), "tool": safe(f.tool),
                "rule": safe(f.rule_id), "location": safe(f"{f.location.path}:{f.location.start_line}"),
                "message": safe(first_sentence(f.message)),
            }  # fmt: skip
            table.add_row(*(cells[name] for name in names))
        console.print(table)
    notes = [n for s in run.scanners for n in s.notifications] + list(run.notifications)
    for note in notes[:limit]:
        where = f"{note.path}:{note.line}" if note.path and note.line else (note.path or "")
        line = f"[yellow]{note.level.value}[/] {safe(where)} {safe(note.message)}"
        console.print(line, highlight=False)
    status = "complete" if run.complete else "[bold red]incomplete[/]"
    console.print(f"run {run.run_id}: {status}; SARIF written to {safe(str(sarif_path))}")
