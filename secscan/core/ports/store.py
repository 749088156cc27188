"""The Store seam: one ABC over the lifecycle database.

The values that cross it are the frozen dataclasses of :mod:`secscan.core.records` (re-exported here)
and, for writes, the snapshots and changesets of :mod:`secscan.core.changeset`. A store persists: it
loads what the pure core needs and applies what the core decided, in the write sessions of
:mod:`secscan.core.ports.sessions`; it never reconciles, triages or evaluates an SLA itself
(:mod:`secscan.app.tracking` composes the two). Nothing here touches a database; implementations
(``secscan.store.sqlite.store``) keep their rows private and hand out those dataclasses only.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING

from secscan.core.model import RunId
from secscan.core.ports.store_features import StoreFeatures
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

if TYPE_CHECKING:
    from secscan.core.ports.outbox import Outbox, OutboxName
    from secscan.core.ports.sessions import FindingEdit, RunRecording, SlaUpkeep
    from secscan.core.sla import SlaPolicy

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
    "Store",
    "Suppression",
    "SweepResult",
    "TrackedFinding",
    "TriageDecision",
    "TriageStatus",
    "construct",
]


class Store(StoreFeatures):
    """The finding lifecycle store. Every write method is one transaction: all or nothing.

    Its core is here (runs, findings, triage, SLAs); the feature methods (daemon, uploads, alerts,
    report, coverage) are :class:`~secscan.core.ports.store_features.StoreFeatures`'."""

    @property
    @abstractmethod
    def schema_revision(self) -> str:
        """The schema revision of the open database."""

    @abstractmethod
    def begin_run(self, run_id: RunId, target: str, target_name: str, started_at: datetime) -> None:
        """Record that a run started (so a crash leaves an ``interrupted`` trace)."""

    @abstractmethod
    def recording(self, target_name: str) -> AbstractContextManager[RunRecording]:
        """A write session recording one run of the target (by name): it loads the target's
        snapshot and applies the run's changeset, all in one transaction that holds the target.
        ``secscan.app.tracking.record_run`` drives it."""

    @abstractmethod
    def sla_policy(self) -> SlaPolicy | None:
        """The SLA policy the stored due times were computed with (None before the first run)."""

    @abstractmethod
    def mark_interrupted(self, now: datetime) -> tuple[RunId, ...]:
        """Mark every run still ``running`` as ``interrupted``; returns their ids."""

    @abstractmethod
    def mark_run_failed(self, run_id: RunId, now: datetime) -> bool:
        """Mark one ``running`` run ``failed`` (secscan hit an internal error before recording it);
        it closes nothing. False if it was not running."""

    @abstractmethod
    def list_findings(self, query: FindingQuery | None = None) -> tuple[TrackedFinding, ...]:
        """Tracked findings matching ``query``, worst severity first."""

    @abstractmethod
    def get_finding(self, ref: str, target: str | None = None) -> TrackedFinding:
        """A finding by short id prefix (at least 4 hex digits) or full fingerprint.

        Raises StoreError when nothing or more than one finding matches.
        """

    @abstractmethod
    def history(self, ref: str, target: str | None = None) -> tuple[HistoryEntry, ...]:
        """The audit trail of one finding, oldest first."""

    @abstractmethod
    def edit_finding(self, ref: str, target: str | None = None) -> AbstractContextManager[FindingEdit]:
        """A write session over one finding, found as :meth:`get_finding` finds it (raises
        StoreError when nothing or more than one finding matches). ``secscan.app.tracking.triage``
        drives it."""

    @abstractmethod
    def sla_upkeep(self, now: datetime) -> AbstractContextManager[SlaUpkeep]:
        """A write session over the whole store at ``now`` (whole seconds): SLA policy changes,
        triage expiries and the SLA sweep. ``secscan.app.tracking.sla_sweep`` drives it."""

    @abstractmethod
    def set_introduced(self, target: str, introduced: Mapping[str, datetime]) -> int:
        """Record when the code of findings arrived (fingerprint -> commit time) for MTTD.

        The first value recorded for a finding wins (a later move or edit of its line must not
        reset it). Unknown fingerprints are ignored. Returns the number of findings updated.
        """

    @abstractmethod
    def previous_complete_run(self, target: str) -> RunSummary | None:
        """The latest complete run of the target (by name), if any."""

    @abstractmethod
    def runs(self, target: str | None = None, limit: int = 20) -> tuple[RunSummary, ...]:
        """Recent runs, newest first."""

    @abstractmethod
    def outbox(self, name: OutboxName) -> Outbox:
        """The durable queue of GitHub uploads (``uploads``) or of alerts (``alerts``)."""

    @abstractmethod
    def close(self) -> None:
        """Release the database."""

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
