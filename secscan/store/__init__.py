"""The finding lifecycle store: tracked findings, runs, history, triage and outboxes.

Open it with :func:`open_store`; everything that crosses the seam is a frozen dataclass from
:mod:`secscan.core.ports.store`.
"""

from __future__ import annotations

from pathlib import Path

from secscan.core.errors import StoreError
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
    """Open the store at a path, an ``sqlite:///`` URL (SQLite) or a ``postgresql://`` URL
    (PostgreSQL, with the ``postgres`` extra), creating or migrating its schema.

    Imported lazily so that the pure core (``secscan.core.triage``) does not load SQLAlchemy.
    Raises StoreError (exit 2), also for a PostgreSQL URL without the extra installed.
    """
    from secscan.fs.urls import is_postgres

    if is_postgres(url_or_path):
        assert isinstance(url_or_path, str)  # noqa: S101 - is_postgres checked it
        return _open_postgres(url_or_path)
    from secscan.store.sqlite import store as sqlite

    return sqlite.open_store(url_or_path)


def _open_postgres(url: str) -> Store:
    from secscan.fs.urls import postgres_url

    location = postgres_url(url)
    try:
        from secscan.store import postgres
    except ImportError as exc:
        raise StoreError(
            f"{location.display} is a PostgreSQL database, which needs the postgres extra "
            f"({exc.name} is missing): pip install 'secscan[postgres]'"
        ) from exc
    return postgres.open_store(location)
