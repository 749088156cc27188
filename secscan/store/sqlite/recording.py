"""The SQLite store's run recording and finding edit sessions: load rows, write changesets.

Both run on one open write transaction (``BEGIN IMMEDIATE``, opened by ``SqliteStore``), so what
they loaded is what they write over. Nothing here decides anything: the rows come from
:mod:`secscan.store.sqlite.bulk`, the values to write from the core's changesets
(:mod:`secscan.core.changeset`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from secscan.core.changeset import FindingChange, RunChangeset, Snapshot, Stored
from secscan.core.ports.sessions import FindingEdit, RunRecording
from secscan.core.records import RunSummary, TriageDecision
from secscan.core.sla import SlaPolicy
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite import coverage as _coverage
from secscan.store.sqlite import report_facts as _report_facts
from secscan.store.sqlite import runs as _runs
from secscan.store.sqlite.db import Connection, scalar
from secscan.store.sqlite.rows import (
    ID,
    STATUS,
    VALUES,
    WRITE_COLUMNS,
    finding_from_row,
    finding_values,
    history_values,
    opt_ts,
    to_ts,
)

logger = logging.getLogger(__name__)

_DECISION = (
    "INSERT INTO triage_decisions (finding_id, status, reason, actor, decided_at, until) VALUES (?,?,?,?,?,?)"
)
_LIGHT = WRITE_COLUMNS[:20]  # a rewrite that leaves the SLA columns as stored


def decision_row(pk: int, d: TriageDecision) -> tuple[Any, ...]:
    """A ``triage_decisions`` row."""
    return pk, d.status.value, d.reason, d.actor, to_ts(d.decided_at), opt_ts(d.until)


class SqliteRecording(RunRecording):
    """:class:`RunRecording` on an open write transaction."""

    def __init__(self, conn: Connection, target_name: str) -> None:
        self._conn, self._target = conn, target_name

    def snapshot(self) -> Snapshot:
        """The target's rows; each ends with the finding's row id (how changesets name them)."""
        tid = scalar(self._conn, "SELECT id FROM targets WHERE name = ?", (self._target,))
        if tid is None:
            return Snapshot(self._target, (), {})
        rows, texts = _bulk.select_snapshot(self._conn, int(tid))
        return Snapshot(self._target, rows, texts)

    def apply(self, changes: RunChangeset) -> RunSummary:
        conn, run, now = self._conn, changes.run, to_ts(changes.now)
        tid = _runs.ensure_target(conn, run.target_name, run.target, now)
        status = "complete" if run.complete else "partial"
        run_pk = _runs.upsert_run(
            conn, run.run_id, tid, status, to_ts(run.started_at), to_ts(run.finished_at)
        )
        _runs.write_scanners(conn, run_pk, run)
        _coverage.write(conn, run_pk, run.coverage)  # the run's coverage map (issue 14)
        fresh = [
            (*finding_values(t, sla), tid, run_pk)
            for t, sla in zip(changes.inserts, changes.insert_sla, strict=True)
        ]
        new_ids = _bulk.insert_findings(conn, fresh)
        touched = {VALUES[state]: [row[-1] for row in rows] for state, rows in changes.seen_again.items()}
        _bulk.touch_findings(conn, touched, now, run_pk)
        _rewrite(conn, changes, run_pk)
        # history entries and decisions are of inserted or rewritten findings
        pks = dict(zip([t.fingerprint for t in changes.inserts], new_ids, strict=True))
        pks.update((rw.finding.fingerprint, rw.row[-1]) for rw in changes.rewrites)
        _bulk.insert_history(conn, [history_values(e, pks[e.fingerprint], run_pk) for e in changes.history])
        if changes.decisions:
            conn.executemany(_DECISION, [decision_row(pks[fp], d) for fp, d in changes.decisions])
        _runs.set_counts(conn, run_pk, changes.counts)
        _report_facts.record(conn, tid, run)  # rule names and packages, for the report (issue 19)
        return _runs.load_run(conn, run_pk)


def _rewrite(conn: Connection, changes: RunChangeset, run_pk: int) -> None:
    """The changeset's rewrites: four statements, by whether the SLA columns and the last run change."""
    full: list[tuple[Any, ...]] = []
    light: list[tuple[Any, ...]] = []
    full_seen: list[tuple[Any, ...]] = []
    light_seen: list[tuple[Any, ...]] = []
    for t, sla, seen, row in changes.rewrites:
        pk = row[-1]
        if sla is None:
            (light_seen if seen else light).append((*finding_values(t), *((run_pk,) if seen else ()), pk))
        else:
            (full_seen if seen else full).append((*finding_values(t, sla), *((run_pk,) if seen else ()), pk))
    _bulk.update_findings(conn, WRITE_COLUMNS, full)
    _bulk.update_findings(conn, (*WRITE_COLUMNS, "last_run_id"), full_seen)
    _bulk.update_findings(conn, _LIGHT, light)
    _bulk.update_findings(conn, (*_LIGHT, "last_run_id"), light_seen)


def write_changes(conn: Connection, changes: Sequence[FindingChange], pks: Sequence[int]) -> None:
    """Findings rewritten whole (``pks``: their row ids, in order) with history and decisions."""
    rows = [(*finding_values(c.finding, c.sla), pk) for c, pk in zip(changes, pks, strict=True)]
    _bulk.update_findings(conn, WRITE_COLUMNS, rows)
    entries = [history_values(e, pk, None) for c, pk in zip(changes, pks, strict=True) for e in c.history]
    _bulk.insert_history(conn, entries)
    decisions = [decision_row(pk, c.decision) for c, pk in zip(changes, pks, strict=True) if c.decision]
    if decisions:
        conn.executemany(_DECISION, decisions)


class SqliteFindingEdit(FindingEdit):
    """:class:`FindingEdit` on an open write transaction; ``row`` is the finding's joined row."""

    def __init__(self, conn: Connection, row: Sequence[Any], policy: SlaPolicy | None) -> None:
        self._conn, self._pk, self._policy = conn, int(row[ID]), policy
        self._stored = Stored(finding_from_row(row, row[-1]), row[STATUS])

    @property
    def stored(self) -> Stored:
        return self._stored

    @property
    def policy(self) -> SlaPolicy | None:
        return self._policy

    def apply(self, change: FindingChange) -> None:
        write_changes(self._conn, (change,), (self._pk,))
