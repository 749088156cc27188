"""The Store seam's feature methods: the daemon's ledger and state (issue 4), GitHub uploads
(issue 5), alerts (issue 6), the report (issue 8) and coverage (issue 14).

:class:`~secscan.core.ports.store.Store` inherits them beside its core (runs, findings, triage,
SLAs), as the SQLite store inherits their implementations (``secscan.store.sqlite.sqlite_features``).
The values of these features cross in their own port modules, imported here for type checking
only: a command that uses none of them never loads them (issue 18).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from threading import Event
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secscan.core.model import CoverageEntry, RunId
    from secscan.core.ports.alerts import AlertIncident, IncidentMember, IncidentState
    from secscan.core.ports.coverage import RunCoverage
    from secscan.core.ports.ledger import FindingStats, PruneReport, SlotRecord, SlotStatus, SlotTrigger
    from secscan.core.ports.report_model import Dashboard, DashboardQuery, Evidence
    from secscan.core.ports.uploads import AlertLink, UploadReceipt, UploadStatus


class StoreFeatures(ABC):
    """The feature methods of the finding lifecycle store. Every write method is one
    transaction: all or nothing."""

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
        """Mark every slot still ``running`` as ``interrupted`` (the daemon that ran it is gone),
        except one whose :meth:`slot_lock` a live daemon holds."""

    def slot_lock(self, job: str, slot_at: datetime) -> AbstractContextManager[bool]:
        """Hold the lock of one slot of ``job`` for the block, without waiting; yields whether
        it is held. A daemon holds it from before it claims the slot until it has finished it.

        Several daemons may share a PostgreSQL store (on several hosts): a daemon starting
        there must not take a slot another one is running for one a crash left ``running``.
        A store on one host's disk has one daemon (``secscan.fs.locks.daemon_lock``): True.
        """
        return nullcontext(True)

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
