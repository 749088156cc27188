"""Paging incident state of the SQLite store, on an open transaction (see
:mod:`secscan.core.ports.alerts`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from secscan.core.ports.alerts import AlertIncident, IncidentMember, IncidentState, IncidentStatus
from secscan.store.dialect import dialect_of
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.outbox import insert_items
from secscan.store.sqlite.rows import from_ts, opt_dt, opt_ts, to_ts
from secscan.store.sqlite.texts import decode_fingerprint

_COLUMNS = (
    "i.dedup_key, i.channel, i.event, i.target, i.status, i.generation, i.triggered_at, i.resolved_at, "
    "i.fingerprint, i.tool, i.rule, i.grouped"
)
_OPEN_STATES = "('new', 'unchanged', 'reopened')"
_RESOLVED = IncidentStatus.RESOLVED

_UPSERT = (
    "INSERT INTO alert_incidents (dedup_key, channel, event, target, status, generation, triggered_at, "
    "resolved_at, fingerprint, tool, rule, grouped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (target, dedup_key, channel) DO UPDATE SET status = excluded.status, "
    "generation = excluded.generation, triggered_at = excluded.triggered_at, "
    "resolved_at = excluded.resolved_at WHERE excluded.generation >= alert_incidents.generation"
)

# Open incidents with nothing left to page about: their finding was fixed, triaged or deleted,
# or (grouped) every finding the group stands for (its members) was. A finding's incident finds
# its finding through the findings table's unique (target_id, fingerprint) index, and so does
# each member. A grouped incident recorded before members were (schema 0005) has none: it keeps
# the old rule, resolved when no finding of its rule is open in its target.
_MEMBERS_OF_I = "m.target = i.target AND m.dedup_key = i.dedup_key AND m.channel = i.channel"
_STALE = f"""
SELECT {_COLUMNS} FROM alert_incidents i
LEFT JOIN targets t ON t.name = i.target
LEFT JOIN findings f ON f.target_id = t.id AND f.fingerprint = i.fingerprint
WHERE i.status = 'triggered' AND NOT i.grouped AND i.fingerprint IS NOT NULL
  AND (f.id IS NULL OR f.state NOT IN {_OPEN_STATES}) {{target}}
UNION ALL
SELECT {_COLUMNS} FROM alert_incidents i
WHERE i.status = 'triggered' AND i.grouped {{target}} AND CASE
  WHEN EXISTS (SELECT 1 FROM alert_incident_members m WHERE {_MEMBERS_OF_I})
  THEN NOT EXISTS (
    SELECT 1 FROM alert_incident_members m
    JOIN targets t ON t.name = m.target
    JOIN findings f ON f.target_id = t.id AND f.fingerprint = m.fingerprint
    WHERE {_MEMBERS_OF_I} AND f.state IN {_OPEN_STATES})
  ELSE NOT EXISTS (
    SELECT 1 FROM findings f
    JOIN targets t ON t.id = f.target_id
    JOIN texts tt ON tt.id = f.tool_ref
    JOIN texts tr ON tr.id = f.rule_ref
    WHERE t.name = i.target AND tt.value = i.tool AND tr.value = i.rule AND f.state IN {_OPEN_STATES})
  END
"""  # noqa: S608 - no user data in the SQL text


def _incident(row: Any) -> AlertIncident:
    return AlertIncident(
        dedup_key=row[0],
        channel=row[1],
        event=row[2],
        target=row[3],
        status=IncidentStatus(row[4]),
        generation=row[5],
        triggered_at=from_ts(row[6]),
        resolved_at=opt_dt(row[7]),
        fingerprint=None if row[8] is None else decode_fingerprint(row[8]),
        tool=row[9],
        rule=row[10],
        grouped=bool(row[11]),
    )


def incidents(
    conn: Connection,
    keys: Collection[str] | None,
    target: str | None,
    open_only: bool,
    limit: int | None,
    events: Collection[str] | None = None,
) -> tuple[AlertIncident, ...]:
    where, params = ["1 = 1"], []
    if keys is not None:
        if not keys:
            return ()
        among, param = dialect_of(conn).in_list(sorted(set(keys)))
        where.append(f"i.dedup_key {among}")
        params.append(param)
    if target is not None:
        where.append("i.target = ?")
        params.append(target)
    if open_only:
        where.append("i.status = 'triggered'")
    if events is not None:
        if not events:
            return ()
        among, param = dialect_of(conn).in_list(sorted(set(events)))
        where.append(f"i.event {among}")
        params.append(param)
    sql = f"SELECT {_COLUMNS} FROM alert_incidents i WHERE {' AND '.join(where)}"  # noqa: S608
    sql += " ORDER BY i.triggered_at DESC, i.dedup_key"
    if limit is not None:
        sql += f" LIMIT {int(limit):d}"
    return tuple(_incident(r) for r in conn.execute(sql, params))


def states(conn: Connection, target: str | None) -> dict[tuple[str, str], IncidentState]:
    """(channel, dedup key) -> status and generation of every incident (of ``target``)."""
    sql = "SELECT channel, dedup_key, status, generation FROM alert_incidents"
    params: tuple[str, ...] = ()
    if target is not None:
        sql, params = sql + " WHERE target = ?", (target,)
    status = {s.value: s for s in IncidentStatus}
    return {(c, k): IncidentState(status[s], g) for c, k, s, g in conn.execute(sql, params)}


def stale(conn: Connection, target: str | None) -> tuple[AlertIncident, ...]:
    clause, params = ("AND i.target = ?", (target, target)) if target is not None else ("", ())
    rows = conn.execute(_STALE.format(target=clause), params)
    return tuple(_incident(r) for r in rows)


def save(conn: Connection, items: Iterable[AlertIncident]) -> int:
    status = {s: s.value for s in IncidentStatus}
    encode_fingerprint = dialect_of(conn).encode_fingerprint
    stamps: dict[datetime, int] = {}  # a batch shares one or two times: convert each once
    rows = [
        (
            i.dedup_key, i.channel, i.event, i.target, status[i.status], i.generation,
            stamps.get(i.triggered_at) or stamps.setdefault(i.triggered_at, to_ts(i.triggered_at)),
            opt_ts(i.resolved_at), None if i.fingerprint is None else encode_fingerprint(i.fingerprint),
            i.tool, i.rule, bool(i.grouped),
        )
        for i in items
    ]  # fmt: skip
    conn.executemany(_UPSERT, rows)
    return len(rows)


def queue(
    conn: Connection,
    items: Sequence[tuple[str, str, Mapping[str, Any]]],
    changed: Iterable[AlertIncident],
    now: datetime,
    members: Iterable[IncidentMember] = (),
) -> int:
    """Queue outbox items (kind, key, payload), save incident state and grouped incidents'
    members (the members of an incident resolved here are forgotten); returns how many items
    were new (a key already queued is ignored)."""
    encode_fingerprint = dialect_of(conn).encode_fingerprint
    queued = insert_items(conn, "alerts", items, now)
    changed = list(changed)
    save(conn, changed)
    conn.executemany(
        "INSERT INTO alert_incident_members (target, dedup_key, channel, fingerprint) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(m.target, m.dedup_key, m.channel, encode_fingerprint(m.fingerprint)) for m in members],
    )
    resolved = [(i.target, i.dedup_key, i.channel) for i in changed if i.grouped and i.status is _RESOLVED]
    conn.executemany(
        "DELETE FROM alert_incident_members WHERE target = ? AND dedup_key = ? AND channel = ?", resolved
    )
    return queued


def members(conn: Connection, target: str, dedup_key: str, channel: str) -> tuple[str, ...]:
    """The fingerprints a grouped incident stands for, sorted."""
    rows = conn.execute(
        "SELECT fingerprint FROM alert_incident_members WHERE target = ? AND dedup_key = ? AND channel = ?",
        (target, dedup_key, channel),
    )
    return tuple(sorted(decode_fingerprint(r[0]) for r in rows))


def pending(conn: Connection, key: str) -> datetime | None:
    row = conn.execute(
        "SELECT next_attempt_at FROM outbox_alerts WHERE key = ? AND status = 'pending'", (key,)
    ).fetchone()
    return None if row is None else from_ts(row[0])
