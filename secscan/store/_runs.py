"""Run, target and scanner-run rows of the SQLite store (helpers on an open transaction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from secscan.model import FindingState, RunId, ScanRun, ToolName
from secscan.store._rows import from_ts, opt_dt
from secscan.store.interface import HistoryEntry, HistoryEvent, RunStatus, RunSummary, ScannerSummary
from secscan.store.tables import RunRow, ScannerRunRow, TargetRow

RUNS = RunRow.__table__  # type: ignore[attr-defined]
SCANNERS = ScannerRunRow.__table__  # type: ignore[attr-defined]
TARGETS = TargetRow.__table__  # type: ignore[attr-defined]


def ensure_target(conn: Connection, name: str, root: str, now: int) -> int:
    """The id of target ``name``, created if new; its root path is kept current."""
    row = conn.execute(select(TARGETS.c.id, TARGETS.c.root).where(TARGETS.c.name == name)).first()
    if row is None:
        result = conn.execute(insert(TARGETS).values(name=name, root=root, created_at=now))
        return int(result.inserted_primary_key[0])  # type: ignore[index]
    if row.root != root:
        conn.execute(update(TARGETS).where(TARGETS.c.id == row.id).values(root=root))
    return int(row.id)


def upsert_run(
    conn: Connection, run_id: RunId, target_id: int, status: str, started: int, finished: int | None
) -> int:
    values = {"target_id": target_id, "status": status, "started_at": started, "finished_at": finished}
    pk = conn.execute(select(RUNS.c.id).where(RUNS.c.run_id == run_id)).scalar()
    if pk is None:
        zero = {"new": 0, "unchanged": 0, "reopened": 0, "fixed": 0}
        result = conn.execute(insert(RUNS).values(run_id=run_id, **values, **zero))
        return int(result.inserted_primary_key[0])  # type: ignore[index]
    conn.execute(update(RUNS).where(RUNS.c.id == pk).values(**values))
    return int(pk)


def write_scanners(conn: Connection, run_pk: int, run: ScanRun) -> None:
    conn.execute(delete(SCANNERS).where(SCANNERS.c.run_id == run_pk))
    rows = [
        {
            "run_id": run_pk,
            "tool": s.name,
            "version": s.version,
            "status": s.status.value,
            "duration_s": s.duration_s,
            "exit_code": s.exit_code,
            "findings": len(s.findings),
            "reason": s.reason,
        }
        for s in run.scanners
    ]
    if rows:
        conn.execute(insert(SCANNERS), rows)


def set_counts(conn: Connection, run_pk: int, counts: Mapping[str, int]) -> None:
    conn.execute(update(RUNS).where(RUNS.c.id == run_pk).values(**counts))


def mark_interrupted(conn: Connection, now: int) -> tuple[RunId, ...]:
    stmt = (
        update(RUNS)
        .where(RUNS.c.status == RunStatus.RUNNING.value)
        .values(status=RunStatus.INTERRUPTED.value, finished_at=now)
        .returning(RUNS.c.run_id)
    )
    return tuple(sorted(RunId(r) for r in conn.execute(stmt).scalars()))


def _summaries(conn: Connection, rows: list[Any]) -> tuple[RunSummary, ...]:
    scanners: dict[int, list[ScannerSummary]] = {r.id: [] for r in rows}
    if rows:
        stmt = select(SCANNERS).where(SCANNERS.c.run_id.in_(list(scanners))).order_by(SCANNERS.c.id)
        for s in conn.execute(stmt):
            scanners[s.run_id].append(
                ScannerSummary(
                    ToolName(s.tool), s.version, s.status, s.duration_s, s.exit_code, s.findings, s.reason
                )
            )
    return tuple(
        RunSummary(
            run_id=RunId(r.run_id),
            target=r.target_name,
            started_at=from_ts(r.started_at),
            finished_at=opt_dt(r.finished_at),
            status=RunStatus(r.status),
            new=r.new,
            unchanged=r.unchanged,
            reopened=r.reopened,
            fixed=r.fixed,
            scanners=tuple(scanners[r.id]),
        )
        for r in rows
    )


def _select_runs() -> Any:
    return select(RUNS, TARGETS.c.name.label("target_name")).join(TARGETS, TARGETS.c.id == RUNS.c.target_id)


def load_run(conn: Connection, run_pk: int) -> RunSummary:
    return _summaries(conn, list(conn.execute(_select_runs().where(RUNS.c.id == run_pk))))[0]


def load_runs(
    conn: Connection, target: str | None, limit: int, *, complete_only: bool
) -> tuple[RunSummary, ...]:
    stmt = _select_runs()
    if target is not None:
        stmt = stmt.where(TARGETS.c.name == target)
    if complete_only:
        stmt = stmt.where(RUNS.c.status == RunStatus.COMPLETE.value)
    stmt = stmt.order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
    return _summaries(conn, list(conn.execute(stmt)))


def load_history(conn: Connection, finding_pk: int, fingerprint: str) -> tuple[HistoryEntry, ...]:
    """The audit trail of one finding, oldest first."""
    rows = conn.exec_driver_sql(
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
            reason=reason,
            run_id=None if run_ref is None else RunId(run_ref),
        )
        for at, event, before, after, actor, reason, run_ref in rows
    )
