"""SLA upkeep of the SQLite store on an open write transaction: policy changes and the sweep."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from secscan import sla
from secscan.model import FindingState
from secscan.store import _bulk
from secscan.store._rows import (
    ID,
    SEVERITIES,
    SLA_COLUMNS,
    STATUS,
    WRITE_COLUMNS,
    clock_sla_values,
    finding_from_row,
    finding_values,
    history_values,
    opt_dt,
    policy_from_json,
    policy_to_json,
    sla_values,
    stored_clock,
    to_ts,
)
from secscan.store.interface import HistoryEvent, SlaChange, SweepResult, TrackedFinding, construct
from secscan.triage import SECSCAN_ACTOR, expire_triage

logger = logging.getLogger(__name__)

POLICY_KEY = "sla_policy"
_STATUSES = {s.value: s for s in sla.SlaStatus}
_FIXED = FindingState.FIXED.value
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


_DUE_COLUMNS = (
    "f.id, f.fingerprint, f.target_id, f.tool_ref, f.rule_ref, f.path_ref, f.line, f.severity, f.state, "
    "f.sla_started_at, f.sla_paused_at, f.sla_paused_s, f.sla_status"
)


def _kind(stored: str, status: str) -> tuple[sla.SlaStatus, sla.SlaStatus, tuple[str, str] | None]:
    """A change of status: (previous, current, (history event, reason) when it is recorded)."""
    previous, current = _STATUSES[stored], _STATUSES[status]
    event = _EVENTS.get(current)
    if event is None:
        return previous, current, None
    return previous, current, (event.value, f"SLA {previous.value} -> {current.value}")


def _sla_changes(
    conn: Connection, now: datetime, policy: sla.SlaPolicy
) -> tuple[list[SlaChange], dict[tuple[str, str], list[int]]]:
    """Re-evaluate the findings whose status is due to change and store their SLA columns.

    Returns the changes and, per (history event, reason), the row ids to record them for.
    Works on stored rows (no TrackedFinding each): the due time of a clock is computed once.
    """
    ts = to_ts(now)
    cur = _bulk.cursor(conn)
    rows = cur.execute(f"SELECT {_DUE_COLUMNS} FROM findings f WHERE f.sla_next_at <= ?", (ts,)).fetchall()  # noqa: S608
    texts = _bulk.load_texts(cur, {ref for row in rows for ref in row[3:6]})
    targets = dict(cur.execute("SELECT id, name FROM targets").fetchall())
    known: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    updates: dict[tuple[Any, ...], list[int]] = {}  # (due_at, sla_status, sla_next_at) -> ids
    changes: list[SlaChange] = []
    events: dict[tuple[str, str], list[int]] = {}
    kinds: dict[tuple[str, str], tuple[sla.SlaStatus, sla.SlaStatus, tuple[str, str] | None]] = {}
    for pk, fp, tid, tool, rule, path, line, severity, state, started, paused_at, paused_s, stored in rows:
        key = (severity, state == _FIXED, started, paused_at, paused_s)
        values = known.get(key)
        if values is None:
            clock = stored_clock(started, paused_at, paused_s)
            values = known[key] = clock_sla_values(clock, SEVERITIES[severity], key[1], policy, now, None)
        updates.setdefault(values, []).append(pk)
        if values[1] == stored:
            continue
        kind = kinds.get((stored, values[1]))
        if kind is None:
            kind = kinds[(stored, values[1])] = _kind(stored, values[1])
        changes.append(
            construct(
                SlaChange,
                fingerprint=fp.hex() if type(fp) is bytes else fp,
                target=targets[tid],
                tool=texts[tool],
                rule_id=texts[rule],
                path=texts[path],
                line=line,
                severity=SEVERITIES[severity],
                previous=kind[0],
                current=kind[1],
                due_at=opt_dt(values[0]),
            )
        )
        if kind[2] is not None:
            events.setdefault(kind[2], []).append(pk)
    _bulk.set_columns(conn, SLA_COLUMNS, updates)
    return changes, events


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
    changes, events = _sla_changes(conn, now, policy)
    _bulk.insert_history(conn, history)  # the expiries first: each finding's history stays in order
    for (event, reason), pks in events.items():
        # One set-based statement per kind of change: a burst after downtime is 100k+ entries.
        conn.exec_driver_sql(
            "INSERT INTO history (finding_id, at, event, from_state, to_state, actor, reason, run_id) "
            "SELECT id, ?, ?, state, state, ?, ?, NULL FROM findings "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (ts, event, SECSCAN_ACTOR, reason, json.dumps(pks)),
        )
    return SweepResult(tuple(changes), tuple(expired))
