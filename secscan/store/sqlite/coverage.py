"""The coverage map's rows in the SQLite store (helpers on an open transaction; issue 14)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from secscan.core.model import CoverageEntry, RunId
from secscan.core.ports.coverage import RunCoverage
from secscan.store.dialect import dialect_of
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.rows import from_ts

_INSERT = (
    "INSERT INTO run_coverage (run_id, position, kind, unit, files, covered, scanners, analysers, reason) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = "SELECT c.kind, c.unit, c.files, c.covered, c.scanners, c.analysers, c.reason FROM run_coverage c "
_OF_RUN = _SELECT + "JOIN runs r ON r.id = c.run_id WHERE r.run_id = ? ORDER BY c.position"
_OF_PK = _SELECT + "WHERE c.run_id = ? ORDER BY c.position"
_LATEST = (
    "SELECT r.id, t.name, r.run_id, r.started_at, r.status FROM runs r JOIN targets t ON t.id = r.target_id "
    "WHERE r.id = (SELECT max(c.run_id) FROM run_coverage c JOIN runs x ON x.id = c.run_id "
    "WHERE x.target_id = r.target_id) {names} ORDER BY t.name"
)


def write(conn: Connection, run_pk: int, entries: Sequence[CoverageEntry]) -> None:
    """Replace the coverage map of run ``run_pk`` (a run recorded again keeps only its last map)."""
    conn.execute("DELETE FROM run_coverage WHERE run_id = ?", (run_pk,))
    rows = [
        (run_pk, i, e.kind, e.unit, e.files, e.covered, _list(e.scanners), _list(e.analysers), e.reason)
        for i, e in enumerate(entries)
    ]
    if rows:
        conn.executemany(_INSERT, rows)


def _list(names: Sequence[str]) -> str:
    return json.dumps(list(names))


def _entry(row: Sequence[Any]) -> CoverageEntry:
    kind, unit, files, covered, scanners, analysers, reason = row
    return CoverageEntry(
        kind=kind,
        files=files,
        covered=covered,
        scanners=tuple(json.loads(scanners)),
        reason=reason,
        unit=unit,
        analysers=tuple(json.loads(analysers)),
    )


def of_run(conn: Connection, run_id: RunId) -> tuple[CoverageEntry, ...]:
    """The coverage map of run ``run_id`` (empty for an unknown run or one recorded without a map)."""
    return tuple(_entry(row) for row in conn.execute(_OF_RUN, (run_id,)))


def latest(conn: Connection, targets: Sequence[str]) -> tuple[RunCoverage, ...]:
    """Each target's most recent run that has a coverage map, by target name (all targets when
    ``targets`` is empty)."""
    among, param = dialect_of(conn).in_list(targets)
    sql, params = _LATEST.format(names=""), ()  # type: tuple[str, tuple[Any, ...]]
    if targets:
        sql, params = _LATEST.format(names=f"AND t.name {among}"), (param,)
    found = []
    for pk, name, run_id, started_at, status in conn.execute(sql, params).fetchall():
        entries = tuple(_entry(row) for row in conn.execute(_OF_PK, (pk,)))
        found.append(RunCoverage(name, RunId(run_id), from_ts(started_at), status, entries))
    return tuple(found)
