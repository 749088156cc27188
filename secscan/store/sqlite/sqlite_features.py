"""The SQLite store's methods for the daemon, uploads, alerts and the report (issues 4, 5, 6, 8).

Each is one transaction around a helper module (``_daemon``, ``_uploads``, ``_alerts``,
``_report``): :class:`~secscan.store.sqlite.store.SqliteStore` inherits them, so this file holds only the
glue, and the store's core (runs, findings, triage, SLAs) stays in ``sqlite.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from secscan.core.model import CoverageEntry, RunId
from secscan.core.ports.coverage import RunCoverage
from secscan.core.ports.ledger import FindingStats, PruneReport, SlotRecord, SlotStatus, SlotTrigger
from secscan.core.records import RunStatus
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite import coverage as _coverage
from secscan.store.sqlite import daemon as _daemon
from secscan.store.sqlite import runs as _runs
from secscan.store.sqlite.db import Connection, Database
from secscan.store.sqlite.rows import to_ts

if TYPE_CHECKING:  # issue 18: the upload and alert features load with their first use, as the report's
    from secscan.core.ports.alerts import AlertIncident, IncidentMember, IncidentState
    from secscan.core.ports.report_model import Dashboard, DashboardQuery, Evidence
    from secscan.core.ports.uploads import AlertLink, UploadReceipt, UploadStatus


class SqliteFeatures:
    """Feature methods of the SQLite store over its transaction factory (see the module doc)."""

    _db: Database

    def _tx(self, write: bool) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    # --- daemon, issue 4 (insert this feature's methods right below this line) ---

    def claim_slot(
        self, job: str, slot_at: datetime, now: datetime, trigger: SlotTrigger, max_attempts: int = 1
    ) -> SlotRecord | None:
        with self._tx(write=True) as conn:
            return _daemon.claim_slot(conn, job, to_ts(slot_at), to_ts(now), trigger, max_attempts)

    def finish_slot(
        self, job: str, slot_at: datetime, now: datetime, status: SlotStatus, detail: str | None = None
    ) -> None:
        with self._tx(write=True) as conn:
            _daemon.finish_slot(conn, job, to_ts(slot_at), to_ts(now), status, detail)

    def interrupt_slots(self, now: datetime) -> tuple[SlotRecord, ...]:
        with self._tx(write=True) as conn:
            return _daemon.interrupt_slots(conn, to_ts(now))

    def slots(
        self, job: str | None = None, status: SlotStatus | None = None, limit: int = 20
    ) -> tuple[SlotRecord, ...]:
        with self._tx(write=False) as conn:
            return _daemon.list_slots(conn, job, status, limit)

    def running_runs(self) -> tuple[tuple[RunId, str], ...]:
        with self._tx(write=False) as conn:
            return tuple((RunId(r), t) for r, t in _daemon.running_run_ids(conn))

    def mark_run_interrupted(self, run_id: RunId, now: datetime) -> bool:
        with self._tx(write=True) as conn:
            return _daemon.mark_run_interrupted(conn, run_id, to_ts(now))

    def mark_run_failed(self, run_id: RunId, now: datetime) -> bool:
        with self._tx(write=True) as conn:
            return _runs.end_running(conn, run_id, RunStatus.FAILED, to_ts(now))

    def put_daemon_state(self, key: str, value: Mapping[str, Any], now: datetime) -> None:
        with self._tx(write=True) as conn:
            _daemon.put_state(conn, key, value, to_ts(now))

    def daemon_state(self, key: str) -> Mapping[str, Any] | None:
        with self._tx(write=False) as conn:
            return _daemon.get_state(conn, key)

    def finding_stats(self) -> FindingStats:
        with self._tx(write=False) as conn:
            return _daemon.finding_stats(conn)

    def prune(self, before: datetime) -> PruneReport:
        with self._tx(write=True) as conn:
            ts = to_ts(before)
            return PruneReport(runs=_daemon.prune_runs(conn, ts), slots=_daemon.prune_slots(conn, ts))

    def optimize(self) -> None:
        with self._db.connection() as conn:  # a checkpoint cannot run in a transaction
            conn.execute("PRAGMA optimize")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # --- uploads, issue 5 (insert this feature's methods right below this line) ---

    def save_upload(self, receipt: UploadReceipt, now: datetime) -> bool:
        from secscan.store.sqlite import uploads as _uploads

        with self._tx(write=True) as conn:
            return _uploads.save_receipt(conn, receipt, to_ts(now))

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
        from secscan.store.sqlite import uploads as _uploads

        with self._tx(write=True) as conn:
            _uploads.update_receipt(conn, key, to_ts(now), status, sarif_id, analyses_url, errors)

    def uploads(
        self, run_id: str | None = None, target: str | None = None, key: str | None = None, limit: int = 100
    ) -> tuple[UploadReceipt, ...]:
        from secscan.store.sqlite import uploads as _uploads

        with self._tx(write=False) as conn:
            return _uploads.load_receipts(conn, run_id, target, key, limit)

    def alert_links(self, repository: str) -> tuple[AlertLink, ...]:
        from secscan.store.sqlite import uploads as _uploads

        with self._tx(write=False) as conn:
            return _uploads.load_links(conn, repository)

    def save_alert_links(self, links: Sequence[AlertLink], now: datetime) -> int:
        from secscan.store.sqlite import uploads as _uploads

        with self._tx(write=True) as conn:
            return _uploads.save_links(conn, links, to_ts(now))

    # --- alerts, issue 6 (insert this feature's methods right below this line) ---

    def alert_incidents(
        self,
        *,
        keys: Collection[str] | None = None,
        target: str | None = None,
        open_only: bool = False,
        limit: int | None = None,
        events: Collection[str] | None = None,
    ) -> tuple[AlertIncident, ...]:
        from secscan.store.sqlite import alerts as _alerts

        with self._tx(write=False) as conn:
            return _alerts.incidents(conn, keys, target, open_only, limit, events)

    def alert_states(self, target: str | None = None) -> Mapping[tuple[str, str], IncidentState]:
        from secscan.store.sqlite import alerts as _alerts

        with _bulk.gc_paused(), self._tx(write=False) as conn:
            return _alerts.states(conn, target)

    def queue_alerts(
        self,
        items: Sequence[tuple[str, str, Mapping[str, Any]]],
        incidents: Iterable[AlertIncident],
        now: datetime,
        members: Iterable[IncidentMember] = (),
    ) -> int:
        from secscan.store.sqlite import alerts as _alerts

        with _bulk.gc_paused(), self._tx(write=True) as conn:
            return _alerts.queue(conn, items, incidents, now, members)

    def alert_stale_incidents(self, target: str | None = None) -> tuple[AlertIncident, ...]:
        from secscan.store.sqlite import alerts as _alerts

        with self._tx(write=False) as conn:
            return _alerts.stale(conn, target)

    def alert_incident_members(self, target: str, dedup_key: str, channel: str) -> tuple[str, ...]:
        from secscan.store.sqlite import alerts as _alerts

        with self._tx(write=False) as conn:
            return _alerts.members(conn, target, dedup_key, channel)

    def save_alert_incidents(self, incidents: Iterable[AlertIncident]) -> int:
        from secscan.store.sqlite import alerts as _alerts

        with self._tx(write=True) as conn:
            return _alerts.save(conn, incidents)

    def alert_outbox_pending(self, key: str) -> datetime | None:
        from secscan.store.sqlite import alerts as _alerts

        with self._tx(write=False) as conn:
            return _alerts.pending(conn, key)

    # --- report, issue 8 (insert this feature's methods right below this line) ---
    def dashboard(self, query: DashboardQuery) -> Dashboard:
        from secscan.store.sqlite import (
            report as _report,  # the report's aggregates: loaded by `secscan report` only
        )

        with self._tx(write=False) as conn:
            return _report.dashboard(conn, query)

    def evidence(
        self, start: datetime, end: datetime, targets: Sequence[str] = (), limit: int = 5000
    ) -> Evidence:
        from secscan.store.sqlite import report_period as _report_period

        with self._tx(write=False) as conn:
            return _report_period.evidence(conn, start, end, targets, limit)

    # --- coverage, issue 14 (insert this feature's methods right below this line) ---

    def coverage(self, run_id: RunId) -> tuple[CoverageEntry, ...]:
        with self._tx(write=False) as conn:
            return _coverage.of_run(conn, run_id)

    def latest_coverage(self, targets: Sequence[str] = ()) -> tuple[RunCoverage, ...]:
        with self._tx(write=False) as conn:
            return _coverage.latest(conn, targets)
