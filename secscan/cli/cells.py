"""The cells of secscan's rich tables: text from a scanned repository or a tool made safe for a
terminal, the styles of severities and scanner statuses, short sentences and times.

Shared by the scan's output (:mod:`secscan.cli.console`) and the lifecycle commands' tables
(:mod:`secscan.cli.lifecycle_console`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.markup import escape

from secscan.core.model import ScannerStatus, Severity
from secscan.core.printable import printable

STATUS_STYLE = {
    ScannerStatus.OK: "green",
    ScannerStatus.FAILED: "bold red",
    ScannerStatus.TIMEOUT: "bold red",
    ScannerStatus.SKIPPED: "yellow",
    ScannerStatus.INCOMPLETE: "bold red",
}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def safe(text: str) -> str:
    """Text from a scanned repository or a tool, for a table cell: control characters and
    escape sequences escaped (:func:`secscan.core.printable.printable`), then rich markup escaped."""
    return escape(printable(text))


def severity_cell(severity: Severity) -> str:
    """A severity in its style."""
    return f"[{SEVERITY_STYLE[severity]}]{severity.value}[/]"


def first_sentence(text: str, limit: int = 120) -> str:
    """A long message cut at its first ``": "`` and to ``limit`` characters."""
    head = text.split(": ", 1)[0] if len(text) > limit else text
    return head if len(head) <= limit else head[: limit - 1] + "…"


def when(value: datetime | None) -> str:
    """A time in UTC to the minute, ``-`` when there is none."""
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
