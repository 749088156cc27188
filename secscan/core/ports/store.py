"""The Store seam: one ABC over the lifecycle database.

The values that cross it are the frozen dataclasses of :mod:`secscan.core.records` (re-exported here)
and, for writes, the snapshots and changesets of :mod:`secscan.core.changeset`. A store persists: it
loads what the pure core needs and applies what the core decided, in the write sessions of
:mod:`secscan.core.ports.sessions`; it never reconciles, triages or evaluates an SLA itself
(:mod:`secscan.app.tracking` composes the two). Nothing here touches a database; implementations
(``secscan.store.sqlite.store``) keep their rows private and hand out those dataclasses only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from threading import Event
from types import TracebackType
from typing import TYPE_CHECKING, Any

from secscan.core.model import RunId
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
    from secscan.core.model import CoverageEntry
    from secscan.core.ports.alerts import AlertIncident, IncidentMember, IncidentState
    from secscan.core.ports.coverage import RunCoverage
    from secscan.core.ports.ledger import FindingStats, PruneReport, SlotRecord, SlotStatus, SlotTrigger
    from secscan.core.ports.outbox import Outbox, OutboxName
    from secscan.core.ports.report_model import Dashboard, DashboardQuery, Evidence
    from secscan.core.ports.sessions import FindingEdit, RunRecording, SlaUpkeep
    from secscan.core.ports.uploads import AlertLink, UploadReceipt, UploadStatus
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


class Store(ABC):
    """The finding lifecycle store. Every write method is one transaction: all or nothing."""

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

    # --- daemon, issue 4 (insert this feature's methods right below this line) ---

    @abstractmethod
    def claim_slot(
        self, job: str, slot_at: datetime, now: datetime, trigger: SlotTrigger, max_attempts: int = 1
    ) -> SlotRecord | None:
        """Start a scheduled slot exactly once: a new slot, or another attempt of an interrupted
        one while ``attempts < max_attempts``. None when it ran, runs or was given up already."""

    @abstractmethod
    def finish_slot(
        self, job: str, slot_at: datetime, now: datetime, status: SlotStatus, detail: str | None = None
    ) -> None:
        """Record how a claimed slot ended."""

    @abstractmethod
    def interrupt_slots(self, now: datetime) -> tuple[SlotRecord, ...]:
        """Mark every slot still ``running`` as ``interrupted`` (the daemon that ran it is gone)."""

    @abstractmethod
    def slots(
        self, job: str | None = None, status: SlotStatus | None = None, limit: int = 20
    ) -> tuple[SlotRecord, ...]:
        """Recorded slots, latest slot first."""

    @abstractmethod
    def running_runs(self) -> tuple[tuple[RunId, str], ...]:
        """(run id, target name) of every run still ``running``."""

    @abstractmethod
    def mark_run_interrupted(self, run_id: RunId, now: datetime) -> bool:
        """Mark one ``running`` run ``interrupted``; it closes nothing. False if it was not running."""

    def target_lock(
        self, target: str, wait_s: float = 0.0, cancel: Event | None = None
    ) -> AbstractContextManager[bool]:
        """Hold ``target``'s run lock in the database for the block, waiting up to ``wait_s``
        seconds (or until ``cancel`` is set); yields whether it is held.

        A database many hosts share (PostgreSQL) keeps their runs of one target apart with it,
        beside each host's file lock (``secscan.fs.locks.target_lock``). A store on one host's
        disk has nothing to add to the file lock: it always yields True.
        """
        return nullcontext(True)

    @abstractmethod
    def put_daemon_state(self, key: str, value: Mapping[str, Any], now: datetime) -> None:
        """Store a small JSON document (heartbeat, next fire times) under ``key``."""

    @abstractmethod
    def daemon_state(self, key: str) -> Mapping[str, Any] | None:
        """The document stored under ``key``, if any."""

    @abstractmethod
    def finding_stats(self) -> FindingStats:
        """Open findings by target and severity, and their SLA statuses (for ``/metrics``)."""

    @abstractmethod
    def prune(self, before: datetime) -> PruneReport:
        """Delete runs and ledger slots older than ``before`` (each target's latest runs stay)."""

    @abstractmethod
    def optimize(self) -> None:
        """Database upkeep: ``PRAGMA optimize`` and a WAL checkpoint."""

    # --- uploads, issue 5 (insert this feature's methods right below this line) ---

    @abstractmethod
    def save_upload(self, receipt: UploadReceipt, now: datetime) -> bool:
        """Record a queued upload of a run; False (nothing changes) when its key exists."""

    @abstractmethod
    def update_upload(
        self,
        key: str,
        now: datetime,
        status: UploadStatus,
        *,
        sarif_id: str | None = None,
        analyses_url: str | None = None,
        errors: Sequence[str] | None = None,
    ) -> None:
        """Record the progress of an upload (None leaves a field as it is). Raises StoreError."""

    @abstractmethod
    def uploads(
        self, run_id: str | None = None, target: str | None = None, key: str | None = None, limit: int = 100
    ) -> tuple[UploadReceipt, ...]:
        """Upload receipts, most recently updated first."""

    @abstractmethod
    def alert_links(self, repository: str) -> tuple[AlertLink, ...]:
        """The GitHub alerts of ``repository`` linked to findings, by number."""

    @abstractmethod
    def save_alert_links(self, links: Sequence[AlertLink], now: datetime) -> int:
        """Insert or update alert links (by repository and number); returns how many."""

    # --- alerts, issue 6 (insert this feature's methods right below this line) ---

    @abstractmethod
    def alert_incidents(
        self,
        *,
        keys: Collection[str] | None = None,
        target: str | None = None,
        open_only: bool = False,
        limit: int | None = None,
        events: Collection[str] | None = None,
    ) -> tuple[AlertIncident, ...]:
        """Paging incidents (per dedup key and channel), newest first; ``keys`` filters dedup keys
        and ``events`` event kinds."""

    @abstractmethod
    def alert_states(self, target: str | None = None) -> Mapping[tuple[str, str], IncidentState]:
        """(channel, dedup key) -> status and generation of every incident (of ``target``)."""

    @abstractmethod
    def queue_alerts(
        self,
        items: Sequence[tuple[str, str, Mapping[str, Any]]],
        incidents: Iterable[AlertIncident],
        now: datetime,
        members: Iterable[IncidentMember] = (),
    ) -> int:
        """In one transaction: queue (channel, key, payload) items in the alerts outbox (a key
        already there is ignored), save ``incidents`` as :meth:`save_alert_incidents` does, and
        add ``members`` to their grouped incidents (a grouped incident resolved here forgets its
        members). Returns how many items were new."""

    @abstractmethod
    def alert_stale_incidents(self, target: str | None = None) -> tuple[AlertIncident, ...]:
        """Triggered incidents with nothing left to page about: their finding is fixed, triaged or
        gone, or (grouped) every finding they stand for (their members) is."""

    @abstractmethod
    def alert_incident_members(self, target: str, dedup_key: str, channel: str) -> tuple[str, ...]:
        """The fingerprints an open grouped incident stands for, sorted."""

    @abstractmethod
    def save_alert_incidents(self, incidents: Iterable[AlertIncident]) -> int:
        """Insert or update incidents by (dedup key, channel) in one transaction; an update never
        goes back to an older ``generation``. Returns how many rows were written."""

    @abstractmethod
    def alert_outbox_pending(self, key: str) -> datetime | None:
        """When the alerts outbox item ``key`` is next due, if it is still pending (else None)."""

    # --- report, issue 8 (insert this feature's methods right below this line) ---
    @abstractmethod
    def dashboard(self, query: DashboardQuery) -> Dashboard:
        """The aggregates of the security dashboard at ``query.now`` (counted in the database)."""

    @abstractmethod
    def evidence(
        self, start: datetime, end: datetime, targets: Sequence[str] = (), limit: int = 5000
    ) -> Evidence:
        """The compliance evidence of ``[start, end)``: runs, lifecycle events, triage decisions
        and expiries (at most ``limit`` of each listed). Raises StoreError for an unknown target."""


    # --- coverage, issue 14 (insert this feature's methods right below this line) ---

    @abstractmethod
    def coverage(self, run_id: RunId) -> tuple[CoverageEntry, ...]:
        """The coverage map recorded with run ``run_id`` (empty when it has none)."""

    @abstractmethod
    def latest_coverage(self, targets: Sequence[str] = ()) -> tuple[RunCoverage, ...]:
        """Each target's (or each of ``targets``') most recent run that has a coverage map."""

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
