"""The values crossing the Store seam, re-exported from :mod:`secscan.core.records` (their home in the
pure core since reconciliation left the store)."""

from __future__ import annotations

from secscan.core.records import (
    OPEN_STATES,
    BaselineState,
    FindingQuery,
    HistoryEntry,
    HistoryEvent,
    RunOutcome,
    RunStatus,
    RunSummary,
    ScannerSummary,
    SlaChange,
    Suppression,
    SweepResult,
    TrackedFinding,
    TriageDecision,
    TriageStatus,
    construct,
)

__all__ = [
    "OPEN_STATES",
    "BaselineState",
    "FindingQuery",
    "HistoryEntry",
    "HistoryEvent",
    "RunOutcome",
    "RunStatus",
    "RunSummary",
    "ScannerSummary",
    "SlaChange",
    "Suppression",
    "SweepResult",
    "TrackedFinding",
    "TriageDecision",
    "TriageStatus",
    "construct",
]
