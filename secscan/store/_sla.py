"""SLA upkeep of the SQLite store on an open write transaction: policy changes and the sweep."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, NamedTuple

from secscan import sla
from secscan.model import FindingState
from secscan.store import _bulk
from secscan.store._db import Connection, scalar
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
from secscan.store.interface import HistoryEvent, SlaChange, SweepResult, TrackedFinding
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
    text = scalar(conn, "SELECT value FROM meta WHERE key = ?", (POLICY_KEY,))
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
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (POLICY_KEY, policy_to_json(policy)),
    )


# The findings whose status is due to change, found through the covering partial index of
# ``finding_sla`` (due time, stored status), then their finding row by id. Columns 1-6 are what
# the new SLA values depend on (with the stored status): the key of a row's plan.
_DUE = (
    "SELECT s.finding_id, s.sla_status, f.severity, f.state, f.sla_started_at, f.sla_paused_at, "
    "f.sla_paused_s, f.fingerprint, f.target_id, f.tool_ref, f.rule_ref, f.path_ref, f.line "
    "FROM finding_sla s JOIN findings f ON f.id = s.finding_id WHERE s.sla_next_at <= ?"
)
_HISTORY = (
    "INSERT INTO history (finding_id, at, event, from_state, to_state, actor, reason, run_id) "
    "SELECT value, ?, ?, ?, ?, ?, ?, NULL FROM json_each(?)"
)


class _Plan(NamedTuple):
    """What the sweep does with every finding of one key (stored status, severity, state, clock)."""

    ids: list[int]  # the findings to store ``values`` for (shared by the keys with equal values)
    change: dict[str, Any] | None  # the fields its SlaChange shares with the others; None: no change
    recorded: list[int] | None  # the findings to record a history entry for (shared per event)


class _Planner:
    """Works out each distinct key's :class:`_Plan` once (a burst has a handful of keys)."""

    def __init__(self, now: datetime, policy: sla.SlaPolicy) -> None:
        self.now, self.policy = now, policy
        self.updates: dict[tuple[Any, ...], list[int]] = {}  # (due_at, sla_status, sla_next_at) -> ids
        self.events: dict[tuple[str, str, str], list[int]] = {}  # (event, reason, state) -> ids

    def plan(self, key: tuple[Any, ...]) -> _Plan:
        stored, severity, state, started, paused_at, paused_s = key
        clock = stored_clock(started, paused_at, paused_s)
        level = SEVERITIES[severity]
        values = clock_sla_values(clock, level, state == _FIXED, self.policy, self.now, None)
        ids = self.updates.setdefault(values, [])
        if values[1] == stored:
            return _Plan(ids, None, None)
        previous, current = _STATUSES[stored], _STATUSES[values[1]]
        change = {"severity": level, "previous": previous, "current": current, "due_at": opt_dt(values[0])}
        event = _EVENTS.get(current)
        if event is None:
            return _Plan(ids, change, None)
        reason = f"SLA {previous.value} -> {current.value}"
        return _Plan(ids, change, self.events.setdefault((event.value, reason, state), []))


def _sla_changes(
    conn: Connection, now: datetime, policy: sla.SlaPolicy
) -> tuple[list[SlaChange], dict[tuple[str, str, str], list[int]]]:
    """Re-evaluate the findings whose status is due to change and store their SLA columns.

    Returns the changes and, per (history event, reason, finding state), the finding ids to
    record them for. Works on stored rows, grouped by what their SLA depends on: the per-row
    work is an id appended to its group and, for a change, one :class:`SlaChange`.
    """
    rows = conn.execute(_DUE, (to_ts(now),)).fetchall()
    texts = _bulk.load_texts(conn, {ref for row in rows for ref in row[9:12]})
    targets = dict(conn.execute("SELECT id, name FROM targets").fetchall())
    planner = _Planner(now, policy)
    plans: dict[tuple[Any, ...], _Plan] = {}
    changes: list[SlaChange] = []
    new, adopt = object.__new__, object.__setattr__  # construct(SlaChange, ...) inlined: 100k+ of them
    for row in rows:
        key = row[1:7]
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = planner.plan(key)
        plan.ids.append(row[0])
        if plan.change is None:
            continue
        fp = row[7]
        change = new(SlaChange)
        adopt(
            change,
            "__dict__",
            {
                **plan.change,
                "fingerprint": fp.hex() if type(fp) is bytes else fp,
                "target": targets[row[8]],
                "tool": texts[row[9]],
                "rule_id": texts[row[10]],
                "path": texts[row[11]],
                "line": row[12],
            },
        )
        changes.append(change)
        if plan.recorded is not None:
            plan.recorded.append(row[0])
    _bulk.set_sla(conn, planner.updates)
    return changes, planner.events


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
    for (event, reason, state), pks in events.items():
        # One set-based statement per kind of change: a burst after downtime is 100k+ entries.
        ids = json.dumps(sorted(pks))
        conn.execute(_HISTORY, (ts, event, state, state, SECSCAN_ACTOR, reason, ids))
    return SweepResult(tuple(changes), tuple(expired))
