"""Run, target and scanner-run rows of the SQLite store (helpers on an open transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secscan.core.model import FindingState, RunId, ScanRun, ToolName
from secscan.core.ports.store import HistoryEntry, HistoryEvent, RunStatus, RunSummary, ScannerSummary
from secscan.fs.names import from_db, to_db
from secscan.store.dialect import dialect_of
from secscan.store.sqlite.db import Connection, scalar
from secscan.store.sqlite.rows import from_ts, opt_dt

# Plain SQL over the tables of ``tables.py`` (checked against them by the tests): the store's
# runtime path does not import SQLModel, which costs a third of a second per command.
_SELECT_RUNS = (
    "SELECT r.id, r.run_id, t.name, r.started_at, r.finished_at, r.status, r.new, r.unchanged, "
    "r.reopened, r.fixed FROM runs r JOIN targets t ON t.id = r.target_id"
)


def ensure_target(conn: Connection, name: str, root: str, now: int) -> int:
    """The id of target ``name``, created if new; its root path is kept current (a BLOB when it
    is not UTF-8, see :mod:`secscan.fs.names`)."""
    root_value = to_db(root)
    row = conn.execute("SELECT id, root FROM targets WHERE name = ?", (name,)).fetchone()
    if row is None:
        sql = "INSERT INTO targets (name, root, created_at) VALUES (?, ?, ?) RETURNING id"
        return int(scalar(conn, sql, (name, root_value, now)))
    target_id, stored_root = row
    if stored_root != root_value:
        conn.execute("UPDATE targets SET root = ? WHERE id = ?", (root_value, target_id))
    return int(target_id)


def upsert_run(
    conn: Connection, run_id: RunId, target_id: int, status: str, started: int, finished: int | None
) -> int:
    pk = scalar(conn, "SELECT id FROM runs WHERE run_id = ?", (run_id,))
    if pk is None:
        sql = (
            "INSERT INTO runs (run_id, target_id, status, started_at, finished_at, new, unchanged, "
            "reopened, fixed) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0) RETURNING id"
        )
        return int(scalar(conn, sql, (run_id, target_id, status, started, finished)))
    sql = "UPDATE runs SET target_id = ?, status = ?, started_at = ?, finished_at = ? WHERE id = ?"
    conn.execute(sql, (target_id, status, started, finished, pk))
    return int(pk)


def write_scanners(conn: Connection, run_pk: int, run: ScanRun) -> None:
    conn.execute("DELETE FROM scanner_runs WHERE run_id = ?", (run_pk,))
    rows = [
        (run_pk, s.name, s.version, s.status.value, s.duration_s, s.exit_code, len(s.findings), s.reason)
        for s in run.scanners
    ]
    if rows:
        conn.executemany(
            "INSERT INTO scanner_runs (run_id, tool, version, status, duration_s, exit_code, findings, "
            "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def set_counts(conn: Connection, run_pk: int, counts: Mapping[str, int]) -> None:
    """Set the run's ``new``, ``unchanged``, ``reopened`` and ``fixed`` counts (all four)."""
    values = (counts["new"], counts["unchanged"], counts["reopened"], counts["fixed"])
    sql = "UPDATE runs SET new = ?, unchanged = ?, reopened = ?, fixed = ? WHERE id = ?"
    conn.execute(sql, (*values, run_pk))


def mark_interrupted(conn: Connection, now: int) -> tuple[RunId, ...]:
    rows = conn.execute(
        "UPDATE runs SET status = ?, finished_at = ? WHERE status = ? RETURNING run_id",
        (RunStatus.INTERRUPTED.value, now, RunStatus.RUNNING.value),
    ).fetchall()
    return tuple(sorted(RunId(r) for (r,) in rows))


def end_running(conn: Connection, run_id: RunId, status: RunStatus, now: int) -> bool:
    """End one ``running`` run with ``status`` (a recorded run is never downgraded)."""
    result = conn.execute(
        "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ? AND status = ?",
        (status.value, now, run_id, RunStatus.RUNNING.value),
    )
    return int(result.rowcount) == 1


def _summaries(conn: Connection, rows: list[Any]) -> tuple[RunSummary, ...]:
    scanners: dict[int, list[ScannerSummary]] = {r[0]: [] for r in rows}
    if rows:
        among, param = dialect_of(conn).in_list(scanners)
        found = conn.execute(
            "SELECT run_id, tool, version, status, duration_s, exit_code, findings, reason FROM scanner_runs "  # noqa: S608
            f"WHERE run_id {among} ORDER BY id",
            (param,),
        )
        for run_pk, tool, version, status, duration_s, exit_code, findings, reason in found:
            scanners[run_pk].append(
                ScannerSummary(ToolName(tool), version, status, duration_s, exit_code, findings, reason)
            )
    return tuple(
        RunSummary(
            run_id=RunId(run_id),
            target=target_name,
            started_at=from_ts(started_at),
            finished_at=opt_dt(finished_at),
            status=RunStatus(status),
            new=new,
            unchanged=unchanged,
            reopened=reopened,
            fixed=fixed,
            scanners=tuple(scanners[pk]),
        )
        for pk, run_id, target_name, started_at, finished_at, status, new, unchanged, reopened, fixed in rows
    )


def load_run(conn: Connection, run_pk: int) -> RunSummary:
    return _summaries(conn, conn.execute(_SELECT_RUNS + " WHERE r.id = ?", (run_pk,)).fetchall())[0]


def load_runs(
    conn: Connection, target: str | None, limit: int, *, complete_only: bool
) -> tuple[RunSummary, ...]:
    where, params = ["1 = 1"], []
    if target is not None:
        where.append("t.name = ?")
        params.append(target)
    if complete_only:
        where.append("r.status = ?")
        params.append(RunStatus.COMPLETE.value)
    sql = f"{_SELECT_RUNS} WHERE {' AND '.join(where)} ORDER BY r.started_at DESC, r.id DESC LIMIT ?"
    return _summaries(conn, conn.execute(sql, (*params, limit)).fetchall())


def load_history(conn: Connection, finding_pk: int, fingerprint: str) -> tuple[HistoryEntry, ...]:
    """The audit trail of one finding, oldest first."""
    rows = conn.execute(
        "SELECT h.at, h.event, h.from_state, h.to_state, h.actor, h.reason, r.run_id FROM history h "
        "LEFT JOIN runs r ON r.id = h.run_id WHERE h.finding_id = ? ORDER BY h.id",
        (finding_pk,),
    )
    return tuple(
        HistoryEntry(
            fingerprint=fingerprint,
            at=from_ts(at),
            event=HistoryEvent(event),
            from_state=None if before is None else FindingState(before),
            to_state=FindingState(after),
            actor=actor,
            reason=from_db(reason),  # a BLOB when it quotes a path that is not UTF-8
            run_id=None if run_ref is None else RunId(run_ref),
        )
        for at, event, before, after, actor, reason, run_ref in rows
    )
