"""The finding lifecycle store: tracked findings, runs, history, triage and outboxes.

Open it with :func:`open_store`; everything that crosses the seam is a frozen dataclass from
:mod:`secscan.core.ports.store`.
"""

from __future__ import annotations

from pathlib import Path

from secscan.core.ports.outbox import Outbox, OutboxItem, OutboxName, OutboxStatus
from secscan.core.ports.store import (
    BaselineState,
    FindingQuery,
    HistoryEntry,
    HistoryEvent,
    RunOutcome,
    RunStatus,
    RunSummary,
    ScannerSummary,
    SlaChange,
    Store,
    Suppression,
    SweepResult,
    TrackedFinding,
    TriageDecision,
    TriageStatus,
)
from secscan.fs.paths import default_db_path

__all__ = [
    "BaselineState",
    "FindingQuery",
    "HistoryEntry",
    "HistoryEvent",
    "Outbox",
    "OutboxItem",
    "OutboxName",
    "OutboxStatus",
    "RunOutcome",
    "RunStatus",
    "RunSummary",
    "ScannerSummary",
    "SlaChange",
    "Store",
    "Suppression",
    "SweepResult",
    "TrackedFinding",
    "TriageDecision",
    "TriageStatus",
    "default_db_path",
    "open_store",
]


def open_store(url_or_path: str | Path | None = None) -> Store:
    """Open the SQLite store (see :func:`secscan.store.sqlite.store.open_store`).

    Imported lazily so that the pure core (``secscan.core.triage``) does not load SQLAlchemy.
    """
    from secscan.store.sqlite import store as sqlite

    return sqlite.open_store(url_or_path)
