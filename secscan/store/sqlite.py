"""The SQLite implementation of :class:`~secscan.store.interface.Store`.

Every method is one transaction (``BEGIN IMMEDIATE`` for writes), so a run is stored entirely or
not at all. Bulk rows go through ``_bulk`` (``executemany`` with tuples); runs through ``_runs``;
SLA upkeep through ``_sla``; conversions through ``_rows``; connections through ``_db``. The
methods of the daemon, uploads, alerts and the report are inherited from ``_sqlite_features``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from secscan import sla
from secscan.errors import StoreError
from secscan.model import FindingState, RunId, ScanRun, Severity
from secscan.store import _bulk, _coverage, _runs, _seen_again, _sla
from secscan.store._db import Connection, Database, create_private, database_file, scalar
from secscan.store._migrate import ensure_schema
from secscan.store._outbox import SqliteOutbox
from secscan.store._rows import (
    ID,
    LAST_RUN,
    STATUS,
    VALUES,
    WRITE_COLUMNS,
    SlaMemo,
    finding_from_row,
    finding_values,
    history_values,
    only_seen_again,
    opt_ts,
    same_sla,
    to_ts,
    tracked_by_fingerprint,
    whole_seconds,
)
from secscan.store._sqlite_features import SqliteFeatures
from secscan.store._texts import encode_fingerprint, prefix_bounds
from secscan.store.interface import (
    FindingQuery,
    HistoryEntry,
    HistoryEvent,
    RunOutcome,
    RunSummary,
    Store,
    Suppression,
    SweepResult,
    TrackedFinding,
    TriageStatus,
)
from secscan.store.outbox import Outbox, OutboxName
from secscan.triage import Reconciliation, apply_triage, reconcile

logger = logging.getLogger(__name__)

_RANK = "CASE f.severity " + " ".join(f"WHEN '{s.value}' THEN {s.rank}" for s in Severity) + " ELSE -1 END"
_TRIAGE_SQL = (
    "INSERT INTO triage_decisions (finding_id, status, reason, actor, decided_at, until) VALUES (?,?,?,?,?,?)"
)


def open_store(url_or_path: str | Path | None = None) -> SqliteStore:
    """Open (creating or migrating) the store at a file path or ``sqlite:///`` URL.

    ``None`` means the XDG default (:func:`secscan.store.paths.default_db_path`).
    Raises StoreError, also for a database newer than this secscan.
    """
    path = database_file(url_or_path)
    create_private(path)
    db = Database(path)
    try:
        revision = ensure_schema(db)
    except BaseException:
        db.close()
        raise
    return SqliteStore(db, revision)


def _ambiguous(ref: str, rows: Sequence[Any]) -> str:
    """What to type when a finding id matches several findings: ``--target`` when they are one
    finding tracked in several targets (a full id), more digits when they are different ones."""
    targets = ", ".join(sorted({str(r[-1]) for r in rows}))
    if len({r[0] for r in rows}) == 1:
        return f"finding id {ref!r} is tracked in several targets ({targets}); give --target NAME"
    hint = "more digits" if len({r[-1] for r in rows}) == 1 else "more digits or --target NAME"
    return f"finding id {ref!r} matches more than one finding (in {targets}); give {hint}"


def _triage_row(pk: int, t: TrackedFinding) -> tuple[Any, ...]:
    d = t.triage
    assert d is not None  # noqa: S101 - callers pass triaged findings only
    return pk, d.status.value, d.reason, d.actor, to_ts(d.decided_at), opt_ts(d.until)


class SqliteStore(SqliteFeatures, Store):
    """Store over one SQLite file. Build it with :func:`open_store`."""

    def __init__(self, db: Database, revision: str) -> None:
        self._db = db
        self._revision = revision

    @property
    def database(self) -> Database:
        """The connection pool (for tests)."""
        return self._db

    @property
    def schema_revision(self) -> str:
        return self._revision

    @contextmanager
    def _tx(self, write: bool) -> Iterator[Connection]:
        try:
            with self._db.transaction(write) as conn:
                yield conn
        except sqlite3.Error as exc:
            first = str(exc).splitlines()[0]
            raise StoreError(f"database {self._db.path} failed: {first}; is the disk full?") from exc

    def close(self) -> None:
        self._db.close()

    # -- runs ---------------------------------------------------------------------------------

    def begin_run(self, run_id: RunId, target: str, target_name: str, started_at: datetime) -> None:
        with self._tx(write=True) as conn:
            tid = _runs.ensure_target(conn, target_name, target, to_ts(started_at))
            _runs.upsert_run(conn, run_id, tid, "running", to_ts(started_at), None)

    def mark_interrupted(self, now: datetime) -> tuple[RunId, ...]:
        with self._tx(write=True) as conn:
            return _runs.mark_interrupted(conn, to_ts(now))

    def previous_complete_run(self, target: str) -> RunSummary | None:
        with self._tx(write=False) as conn:
            found = _runs.load_runs(conn, target, 1, complete_only=True)
        return found[0] if found else None

    def runs(self, target: str | None = None, limit: int = 20) -> tuple[RunSummary, ...]:
        with self._tx(write=False) as conn:
            return _runs.load_runs(conn, target, limit, complete_only=False)

    def record_run(
        self,
        run: ScanRun,
        now: datetime,
        policy: sla.SlaPolicy,
        suppressions: Sequence[Suppression] | None = None,
    ) -> RunOutcome:
        now = whole_seconds(now)
        with _bulk.gc_paused(), self._tx(write=True) as conn:
            _sla.sync_policy(conn, policy, now)
            tid = _runs.ensure_target(conn, run.target_name, run.target, to_ts(now))
            status = "complete" if run.complete else "partial"
            run_pk = _runs.upsert_run(
                conn, run.run_id, tid, status, to_ts(run.started_at), to_ts(run.finished_at)
            )
            _runs.write_scanners(conn, run_pk, run)
            _coverage.write(conn, run_pk, run.coverage)  # issue 14
            stored, texts = _bulk.select_stored(conn, "f.target_id = ?", (tid,))
            again = _seen_again.split(stored, texts, run, now, suppressions)  # the re-scan fast path
            previous, rows = tracked_by_fingerprint(again.rest_rows, run.target_name, texts)
            del stored, texts
            rec = reconcile(previous.values(), again.rest_run, now, policy, suppressions)
            new_ids = self._write_reconciliation(conn, rec, rows, previous, tid, run_pk, now, policy)
            _bulk.touch_findings(conn, {VALUES[FindingState.UNCHANGED]: again.ids}, to_ts(now), run_pk)
            logged = {e.fingerprint for e in rec.history}
            pks = {fp: new_ids[fp] if fp in new_ids else rows[fp][ID] for fp in logged}
            _bulk.insert_history(conn, [history_values(e, pks[e.fingerprint], run_pk) for e in rec.history])
            triaged = [e.fingerprint for e in rec.history if e.event is HistoryEvent.TRIAGED]
            if triaged:
                changed = {t.fingerprint: t for t in rec.changed}
                conn.executemany(_TRIAGE_SQL, [_triage_row(pks[fp], changed[fp]) for fp in triaged])
            unchanged = again.unchanged(rec.unchanged)
            counts = {"new": len(rec.new), "unchanged": len(unchanged)}
            counts |= {"reopened": len(rec.reopened), "fixed": len(rec.fixed)}
            _runs.set_counts(conn, run_pk, counts)
            summary = _runs.load_run(conn, run_pk)
        logger.info("run %s of %s recorded: %s", run.run_id, run.target_name, counts)
        baseline = again.all_baseline(rec.baseline)
        return RunOutcome(summary, rec.new, unchanged, rec.reopened, rec.fixed, baseline, rec.absent)

    @staticmethod
    def _write_reconciliation(
        conn: Connection,
        rec: Reconciliation,
        rows: Mapping[str, Any],
        previous: Mapping[str, TrackedFinding],
        tid: int,
        run_pk: int,
        now: datetime,
        policy: sla.SlaPolicy,
    ) -> dict[str, int]:
        """Write the new and changed findings; returns the row ids of the new ones.

        Three paths, cheapest first: seen again with nothing else changed but the state (one
        set-based ``UPDATE`` per state), changed without touching the SLA clock (no SLA work), and
        the rest (SLA columns recomputed).
        """
        memo = SlaMemo(policy, now)
        seen = rec.baseline  # every fingerprint this run saw has its baseline state
        fresh = [(*finding_values(t, policy, now, None, memo), tid, run_pk) for t in rec.new]
        full, light = [], []
        touched: dict[str, list[int]] = {}
        for t in rec.changed:
            fp = t.fingerprint
            row = rows.get(fp)
            if row is None:
                continue
            old = previous[fp]
            is_seen = fp in seen
            if is_seen and only_seen_again(old, t):
                touched.setdefault(VALUES[t.state], []).append(row[ID])
                continue
            last_run = run_pk if is_seen else row[LAST_RUN]
            if same_sla(old, t):
                light.append((*finding_values(t, None, now, None), last_run, row[ID]))
            else:
                full.append((*finding_values(t, policy, now, row[STATUS], memo), last_run, row[ID]))
        new_ids = _bulk.insert_findings(conn, fresh)
        _bulk.touch_findings(conn, touched, to_ts(now), run_pk)
        _bulk.update_findings(conn, (*WRITE_COLUMNS, "last_run_id"), full)
        _bulk.update_findings(conn, (*WRITE_COLUMNS[:20], "last_run_id"), light)
        return dict(zip([t.fingerprint for t in rec.new], new_ids, strict=True))

    # -- findings -----------------------------------------------------------------------------

    def list_findings(self, query: FindingQuery | None = None) -> tuple[TrackedFinding, ...]:
        query = query or FindingQuery()
        where, params = ["1 = 1"], []
        if query.target is not None:
            where.append("t.name = ?")
            params.append(query.target)
        if query.states:
            states = sorted(s.value for s in query.states)
            where.append(f"f.state IN ({', '.join('?' * len(states))})")
            params += states
        if query.min_severity is not None:
            where.append(f"{_RANK} >= {query.min_severity.rank:d}")
        if query.tool is not None:
            where.append(f"{_bulk.TOOL} = ?")
            params.append(query.tool)
        sql = " AND ".join(where) + f" ORDER BY {_RANK} DESC, f.first_seen, f.fingerprint"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit):d}"
        with self._tx(write=False) as conn:
            return tuple(finding_from_row(r, r[-1]) for r in _bulk.select_findings(conn, sql, tuple(params)))

    def _find(self, conn: Connection, ref: str, target: str | None) -> Any:
        key = ref.strip().lower()
        if len(key) < 4 or any(c not in "0123456789abcdef" for c in key):
            raise StoreError(
                f"finding id {ref!r} must be at least 4 hex digits; copy it from `secscan findings`"
            )
        # 64-hex fingerprints are stored as 32 bytes (a byte range), any other as text
        where = "(f.fingerprint >= ? AND f.fingerprint < ?"
        params: tuple[str | bytes, ...] = (key, key + "\U0010ffff")
        bounds = prefix_bounds(key)
        if bounds is not None:
            where, params = where + " OR f.fingerprint BETWEEN ? AND ?", (*params, *bounds)
        where += ")"
        if target is not None:
            where, params = where + " AND t.name = ?", (*params, target)
        found = _bulk.select_findings(conn, where + " LIMIT 2", params)
        if not found:
            raise StoreError(f"no finding with id {ref!r}; list them with `secscan findings`")
        if len(found) > 1:
            raise StoreError(_ambiguous(ref, _bulk.select_findings(conn, where + " LIMIT 6", params)))
        return found[0]

    def get_finding(self, ref: str, target: str | None = None) -> TrackedFinding:
        with self._tx(write=False) as conn:
            row = self._find(conn, ref, target)
        return finding_from_row(row, row[-1])

    def history(self, ref: str, target: str | None = None) -> tuple[HistoryEntry, ...]:
        with self._tx(write=False) as conn:
            row = self._find(conn, ref, target)
            return _runs.load_history(conn, row[ID], row[0])

    def triage(
        self,
        ref: str,
        status: TriageStatus,
        reason: str,
        until: datetime | None,
        actor: str,
        now: datetime,
        target: str | None = None,
    ) -> TrackedFinding:
        now = whole_seconds(now)
        if not reason.strip():
            raise StoreError(f"triage of {ref}: a reason is required; say why with --reason")
        if until is not None and whole_seconds(until) <= now:
            raise StoreError(
                f"triage of {ref}: until {until.isoformat()} is not in the future; give a later date"
            )
        with self._tx(write=True) as conn:
            row = self._find(conn, ref, target)
            policy = _sla.stored_policy(conn) or sla.load_sla_policy()
            before = finding_from_row(row, row[-1])
            after, entry = apply_triage(before, status, reason.strip(), until, actor, now)
            _bulk.update_findings(
                conn, WRITE_COLUMNS, [(*finding_values(after, policy, now, row[STATUS]), row[ID])]
            )
            _bulk.insert_history(conn, [history_values(entry, row[ID], None)])
            decision = (row[ID], status.value, reason.strip(), actor, to_ts(now), opt_ts(until))
            conn.execute(_TRIAGE_SQL, decision)
        return after

    def set_introduced(self, target: str, introduced: Mapping[str, datetime]) -> int:
        if not introduced:
            return 0
        with self._tx(write=True) as conn:
            tid = scalar(conn, "SELECT id FROM targets WHERE name = ?", (target,))
            if tid is None:
                return 0
            rows = [(to_ts(at), tid, encode_fingerprint(fp)) for fp, at in introduced.items()]
            result = conn.executemany(
                "UPDATE findings SET introduced_at = ? "
                "WHERE target_id = ? AND fingerprint = ? AND introduced_at IS NULL",
                rows,
            )
            return int(result.rowcount)

    def sla_sweep(self, now: datetime, policy: sla.SlaPolicy) -> SweepResult:
        with _bulk.gc_paused(), self._tx(write=True) as conn:
            return _sla.sweep(conn, whole_seconds(now), policy)

    def outbox(self, name: OutboxName) -> Outbox:
        return SqliteOutbox(name, self._tx)
