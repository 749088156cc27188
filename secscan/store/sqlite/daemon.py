"""The daemon's ledger, state and upkeep on an open SQLite transaction (see ``ledger.py``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from secscan.core.model import FindingState
from secscan.core.ports.ledger import FindingStats, SlotRecord, SlotStatus, SlotTrigger
from secscan.core.ports.store import RunStatus
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.rows import from_ts, opt_dt

_SLOT_COLUMNS = "job, slot_at, status, trigger, attempts, started_at, finished_at, detail"
_OPEN = tuple(s.value for s in (FindingState.NEW, FindingState.UNCHANGED, FindingState.REOPENED))


def _slot(row: Any) -> SlotRecord:
    return SlotRecord(
        job=row[0],
        slot_at=from_ts(row[1]),
        status=SlotStatus(row[2]),
        trigger=SlotTrigger(row[3]),
        attempts=row[4],
        started_at=from_ts(row[5]),
        finished_at=opt_dt(row[6]),
        detail=row[7],
    )


def get_slot(conn: Connection, job: str, slot_at: int) -> SlotRecord | None:
    row = conn.execute(
        f"SELECT {_SLOT_COLUMNS} FROM daemon_slots WHERE job = ? AND slot_at = ?",  # noqa: S608
        (job, slot_at),
    ).fetchone()
    return None if row is None else _slot(row)


def claim_slot(
    conn: Connection, job: str, slot_at: int, now: int, trigger: SlotTrigger, max_attempts: int
) -> SlotRecord | None:
    """Start the slot: a new row, or another attempt (a ``retry``) of an interrupted one while
    ``attempts < max_attempts``; None when it ran, runs, or was given up already."""
    found = get_slot(conn, job, slot_at)
    if found is None:
        conn.execute(
            f"INSERT INTO daemon_slots ({_SLOT_COLUMNS}) VALUES (?, ?, 'running', ?, 1, ?, NULL, NULL)",  # noqa: S608
            (job, slot_at, trigger.value, now),
        )
    elif found.status is SlotStatus.INTERRUPTED and found.attempts < max_attempts:
        conn.execute(
            "UPDATE daemon_slots SET status = 'running', trigger = ?, attempts = attempts + 1, "
            "started_at = ?, finished_at = NULL WHERE job = ? AND slot_at = ?",
            (SlotTrigger.RETRY.value, now, job, slot_at),
        )
    else:
        return None
    return get_slot(conn, job, slot_at)


def finish_slot(
    conn: Connection, job: str, slot_at: int, now: int, status: SlotStatus, detail: str | None
) -> None:
    conn.execute(
        "UPDATE daemon_slots SET status = ?, finished_at = ?, detail = ? WHERE job = ? AND slot_at = ?",
        (status.value, now, detail, job, slot_at),
    )


def interrupt_slots(conn: Connection, now: int) -> tuple[SlotRecord, ...]:
    rows = conn.execute(
        "UPDATE daemon_slots SET status = 'interrupted', finished_at = ? WHERE status = 'running' "  # noqa: S608
        f"RETURNING {_SLOT_COLUMNS}",
        (now,),
    )
    return tuple(_slot(r) for r in rows)


def interrupt_slot(conn: Connection, job: str, slot_at: int, now: int) -> tuple[SlotRecord, ...]:
    """Mark one slot ``interrupted`` if it is still ``running``; the slot, or nothing."""
    rows = conn.execute(
        "UPDATE daemon_slots SET status = 'interrupted', finished_at = ? "  # noqa: S608
        f"WHERE job = ? AND slot_at = ? AND status = 'running' RETURNING {_SLOT_COLUMNS}",
        (now, job, slot_at),
    )
    return tuple(_slot(r) for r in rows)


def list_slots(
    conn: Connection, job: str | None, status: SlotStatus | None, limit: int
) -> tuple[SlotRecord, ...]:
    where, params = ["1 = 1"], []
    if job is not None:
        where.append("job = ?")
        params.append(job)
    if status is not None:
        where.append("status = ?")
        params.append(status.value)
    sql = (
        f"SELECT {_SLOT_COLUMNS} FROM daemon_slots WHERE {' AND '.join(where)} "  # noqa: S608 - fixed fragments
        "ORDER BY slot_at DESC, id DESC LIMIT ?"
    )
    return tuple(_slot(r) for r in conn.execute(sql, (*params, limit)))


def running_run_ids(conn: Connection) -> tuple[tuple[str, str], ...]:
    """(run id, target name) of every run still ``running``."""
    rows = conn.execute(
        "SELECT r.run_id, t.name FROM runs r JOIN targets t ON t.id = r.target_id WHERE r.status = ? "
        "ORDER BY r.id",
        (RunStatus.RUNNING.value,),
    )
    return tuple((str(run_id), str(name)) for run_id, name in rows)


def mark_run_interrupted(conn: Connection, run_id: str, now: int) -> bool:
    """Only a ``running`` run changes (a recorded run is never downgraded); nothing else is touched."""
    result = conn.execute(
        "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ? AND status = ?",
        (RunStatus.INTERRUPTED.value, now, run_id, RunStatus.RUNNING.value),
    )
    return int(result.rowcount) == 1


def put_state(conn: Connection, key: str, value: Mapping[str, Any], now: int) -> None:
    conn.execute(
        "INSERT INTO daemon_state (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, json.dumps(value, sort_keys=True), now),
    )


def get_state(conn: Connection, key: str) -> Mapping[str, Any] | None:
    row = conn.execute("SELECT value FROM daemon_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def finding_stats(conn: Connection) -> FindingStats:
    marks = ", ".join("?" * len(_OPEN))
    rows = conn.execute(
        "SELECT t.name, f.severity, coalesce(s.sla_status, 'none'), count(*) FROM findings f "  # noqa: S608
        "JOIN targets t ON t.id = f.target_id LEFT JOIN finding_sla s ON s.finding_id = f.id "
        f"WHERE f.state IN ({marks}) GROUP BY 1, 2, 3",
        _OPEN,
    )
    open_counts: dict[tuple[str, str], int] = {}
    sla_counts: dict[tuple[str, str, str], int] = {}
    for target, severity, sla_status, count in rows:
        open_counts[(target, severity)] = open_counts.get((target, severity), 0) + count
        sla_counts[(target, severity, sla_status)] = count
    return FindingStats(open=open_counts, sla=sla_counts)


def prune_runs(conn: Connection, before: int) -> int:
    """Delete runs finished before ``before``, keeping each target's latest run and latest complete
    run and every run a finding still points at (scanner rows go with them; history keeps its
    entries, without the run reference)."""
    result = conn.execute(
        "DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < ? "
        "AND id NOT IN (SELECT max(id) FROM runs GROUP BY target_id) "
        "AND id NOT IN (SELECT max(id) FROM runs WHERE status = ? GROUP BY target_id) "
        "AND id NOT IN (SELECT last_run_id FROM findings WHERE last_run_id IS NOT NULL)",
        (before, RunStatus.COMPLETE.value),
    )
    return int(result.rowcount)


def prune_slots(conn: Connection, before: int) -> int:
    result = conn.execute(
        "DELETE FROM daemon_slots WHERE status != 'running' AND slot_at < ?", (before,)
    )
    return int(result.rowcount)
