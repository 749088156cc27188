"""SLA upkeep of the SQLite store on an open write transaction: policy changes and the sweep."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection

from secscan import sla
from secscan.store import _bulk
from secscan.store._rows import (
    ID,
    SLA_COLUMNS,
    STATUS,
    WRITE_COLUMNS,
    SlaMemo,
    finding_from_row,
    finding_values,
    history_values,
    opt_dt,
    policy_from_json,
    policy_to_json,
    sla_values,
    to_ts,
)
from secscan.store.interface import HistoryEntry, HistoryEvent, SlaChange, SweepResult, TrackedFinding
from secscan.triage import SECSCAN_ACTOR, expire_triage

logger = logging.getLogger(__name__)

POLICY_KEY = "sla_policy"
_STATUSES = {s.value: s for s in sla.SlaStatus}
_EVENTS = {
    sla.SlaStatus.DUE_SOON: HistoryEvent.SLA_DUE_SOON,
    sla.SlaStatus.BREACHED: HistoryEvent.SLA_BREACHED,
}


def stored_policy(conn: Connection) -> sla.SlaPolicy | None:
    """The SLA policy the stored due times were computed with."""
    text = conn.exec_driver_sql("SELECT value FROM meta WHERE key = ?", (POLICY_KEY,)).scalar()
    return None if text is None else policy_from_json(str(text))


def sync_policy(conn: Connection, policy: sla.SlaPolicy, now: datetime) -> None:
    """Recompute every due time when the SLA policy changed since the last write."""
    if stored_policy(conn) == policy:
        return
    rows = _bulk.select_findings(conn, "1 = 1")
    if rows:
        logger.info("SLA policy changed: recomputing the due times of %d findings", len(rows))
        updates = [(*sla_values(finding_from_row(r, ""), policy, now, r[STATUS]), r[ID]) for r in rows]
        _bulk.update_findings(conn, SLA_COLUMNS, updates)
    conn.exec_driver_sql(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (POLICY_KEY, policy_to_json(policy)),
    )


def sweep(conn: Connection, now: datetime, policy: sla.SlaPolicy) -> SweepResult:
    """Expire triage decisions, then re-evaluate every finding whose SLA status is due to change."""
    sync_policy(conn, policy, now)
    ts = to_ts(now)
    history: list[tuple[object, ...]] = []
    expired: list[TrackedFinding] = []
    for row in _bulk.select_findings(conn, "f.triage_until <= ?", (ts,)):
        after, entries = expire_triage(finding_from_row(row, row[-1]), now)
        _bulk.update_findings(
            conn, WRITE_COLUMNS, [(*finding_values(after, policy, now, row[STATUS]), row[ID])]
        )
        history += [history_values(e, row[ID], None) for e in entries]
        expired.append(after)
    changes: list[SlaChange] = []
    updates: dict[tuple[object, ...], list[int]] = {}  # (due_at, sla_status, sla_next_at) -> ids
    memo = SlaMemo(policy, now)
    for row in _bulk.select_findings(conn, "f.sla_next_at <= ?", (ts,)):
        t = finding_from_row(row, row[-1])
        values = memo.values(t, None)
        updates.setdefault(values, []).append(row[ID])
        previous, current = _STATUSES[row[STATUS]], _STATUSES[values[1]]
        if current is previous:
            continue
        changes.append(SlaChange(t, previous, current, opt_dt(values[0])))
        if current in _EVENTS:
            why = f"SLA {previous.value} -> {current.value}"
            entry = HistoryEntry(t.fingerprint, now, _EVENTS[current], t.state, t.state, SECSCAN_ACTOR, why)
            history.append(history_values(entry, row[ID], None))
    _bulk.set_columns(conn, SLA_COLUMNS, updates)
    _bulk.insert_history(conn, history)
    return SweepResult(tuple(changes), tuple(expired))
