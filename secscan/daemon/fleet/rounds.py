"""The fleet's record of rounds: each (round, target) is recorded once, scanned to one end.

``secscan_fleet_targets`` holds one row per round and target, inserted with ``ON CONFLICT DO
NOTHING`` *before* its job is deferred: the same round enqueued again (another host, a retry,
the nightly tick twice) finds the row and defers nothing. A job checks its row under the
target's lock before scanning (:func:`begin_attempt`): a row already ``complete`` or owned by
another job is not scanned again, so a duplicate job can cost a look-up, never a second run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

QUEUED, RUNNING, COMPLETE, PARTIAL, FAILED, INTERRUPTED = (
    "queued", "running", "complete", "partial", "failed", "interrupted",
)  # fmt: skip
FINAL = (COMPLETE, PARTIAL, FAILED)
"""States a row does not leave (``interrupted`` is retried, up to ``max_attempts``)."""


@dataclass(frozen=True)
class Planned:
    target: str
    queue: str


@dataclass(frozen=True)
class Attempt:
    """What :func:`begin_attempt` decided: scan (``go``), or why not."""

    go: bool
    attempts: int = 0
    reason: str = ""
    started_at: datetime | None = None  # the first attempt's start (an earlier attempt's run counts)


def record_round(
    conn: psycopg.Connection[Any], key: str, due_at: datetime, origin: str, planned: Sequence[Planned]
) -> list[Planned]:
    """Record round ``key`` and its targets; returns the targets it did not hold yet (commits)."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO secscan_fleet_rounds (round_key, due_at, origin) VALUES (%s, %s, %s) "
            "ON CONFLICT (round_key) DO NOTHING",
            (key, due_at, origin),
        )
        new: list[Planned] = []
        for item in planned:
            row = conn.execute(
                "INSERT INTO secscan_fleet_targets (round_key, target, queue) VALUES (%s, %s, %s) "
                "ON CONFLICT (round_key, target) DO NOTHING RETURNING target",
                (key, item.target, item.queue),
            ).fetchone()
            if row is not None:
                new.append(item)
    return new


def set_job(conn: psycopg.Connection[Any], key: str, target: str, job_id: int) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE secscan_fleet_targets SET job_id = %s WHERE round_key = %s AND target = %s",
            (job_id, key, target),
        )


def unqueued(conn: psycopg.Connection[Any], before: datetime) -> list[tuple[str, str, str]]:
    """(round, target, queue) of rows recorded before ``before`` whose job was never deferred
    (the enqueuing process died between the two steps)."""
    rows = conn.execute(
        "SELECT t.round_key, t.target, t.queue FROM secscan_fleet_targets t "
        "JOIN secscan_fleet_rounds r USING (round_key) "
        "WHERE t.job_id IS NULL AND t.state = %s AND r.created_at < %s",
        (QUEUED, before),
    ).fetchall()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


def begin_attempt(
    conn: psycopg.Connection[Any], key: str, target: str, job_id: int, worker: str, now: datetime
) -> Attempt:
    """Take the row of (``key``, ``target``) for job ``job_id`` (the caller holds the target's
    lock); commits. No row: the round was pruned; a final row: done already."""
    with conn.transaction():
        row = conn.execute(
            "SELECT state, job_id, attempts, started_at FROM secscan_fleet_targets "
            "WHERE round_key = %s AND target = %s FOR UPDATE",
            (key, target),
        ).fetchone()
        if row is None:
            return Attempt(False, reason="the round is not recorded (pruned?)")
        state, owner, attempts, started_at = row
        if state in FINAL:
            return Attempt(False, attempts, f"already {state}")
        if owner is not None and owner != job_id:
            return Attempt(False, attempts, f"belongs to job {owner}")
        conn.execute(
            "UPDATE secscan_fleet_targets SET state = %s, job_id = %s, attempts = attempts + 1, "
            "worker = %s, started_at = coalesce(started_at, %s), finished_at = NULL "
            "WHERE round_key = %s AND target = %s",
            (RUNNING, job_id, worker, now, key, target),
        )
    return Attempt(True, int(attempts) + 1, started_at=started_at or now)


def finish(
    conn: psycopg.Connection[Any],
    key: str,
    target: str,
    state: str,
    now: datetime,
    *,
    run_id: str | None = None,
    detail: str | None = None,
) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE secscan_fleet_targets SET state = %s, finished_at = %s, "
            "run_id = coalesce(%s, run_id), detail = %s WHERE round_key = %s AND target = %s",
            (state, now, run_id, detail, key, target),
        )


@dataclass(frozen=True)
class LateRound:
    key: str
    due_at: datetime
    pending: tuple[str, ...]  # targets not complete


def late_rounds(conn: psycopg.Connection[Any], overdue_before: datetime) -> list[LateRound]:
    """Rounds due before ``overdue_before`` with targets not yet final, not alerted yet."""
    rows = conn.execute(
        "SELECT r.round_key, r.due_at, array_agg(t.target ORDER BY t.target) "
        "FROM secscan_fleet_rounds r JOIN secscan_fleet_targets t USING (round_key) "
        "WHERE r.due_at < %s AND NOT r.late_alerted AND t.state <> ALL(%s) "
        "GROUP BY r.round_key, r.due_at",
        (overdue_before, list(FINAL)),
    ).fetchall()
    return [LateRound(str(r[0]), r[1], tuple(r[2])) for r in rows]


def mark_alerted(conn: psycopg.Connection[Any], key: str) -> None:
    with conn.transaction():
        conn.execute("UPDATE secscan_fleet_rounds SET late_alerted = true WHERE round_key = %s", (key,))


def oldest_open_due(conn: psycopg.Connection[Any]) -> datetime | None:
    """The due time of the oldest round with a target not final (the round lag's start)."""
    row = conn.execute(
        "SELECT min(r.due_at) FROM secscan_fleet_rounds r JOIN secscan_fleet_targets t USING (round_key) "
        "WHERE t.state <> ALL(%s)",
        (list(FINAL),),
    ).fetchone()
    return row[0] if row else None


def prune(conn: psycopg.Connection[Any], before: datetime) -> int:
    """Delete rounds recorded before ``before`` with their rows (the store's run retention)."""
    with conn.transaction():
        cursor = conn.execute("DELETE FROM secscan_fleet_rounds WHERE created_at < %s", (before,))
    return cursor.rowcount
