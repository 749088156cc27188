"""Revision 0002: a finding's SLA columns live in the narrow ``finding_sla`` table.

A database created at revision 0001 keeps every finding's due time, SLA status and next sweep
time through the upgrade (and nothing else is lost: the columns move without copying
``findings``, whose foreign keys would cascade); the store reads and sweeps them from there.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from secscan.app.tracking import record_run, sla_sweep, triage
from secscan.core.model import FindingState
from secscan.core.sla import SlaStatus
from secscan.store import HistoryEvent, TriageStatus, open_store
from secscan.store.sqlite.migrate import alembic_config, sqlalchemy_engine
from tests.store.builders import POLICY, T0, H, fnd, make_run

_TS = int(T0.timestamp())
_FP = bytes.fromhex(fnd(1).fingerprint)


def _database_at_0001(db: Path) -> None:
    """A database at revision 0001 holding one high finding (due at T0 + 24 h, next sweep T0 + 18 h)."""
    engine = sqlalchemy_engine(db)
    with engine.connect() as conn, conn.begin():
        command.upgrade(alembic_config(conn), "0001")
    engine.dispose()
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA foreign_keys = ON")
        raw.executemany(
            "INSERT INTO texts (id, hash, value) VALUES (?, ?, ?)",
            [(1, 11, "bandit"), (2, 12, "R1"), (3, 13, "src/m1.py"), (4, 14, "issue 1")],
        )
        raw.execute(
            "INSERT INTO targets (id, name, root, created_at) VALUES (1, 'repo', '/srv/repo', ?)", (_TS,)
        )
        raw.execute(
            "INSERT INTO runs (id, run_id, target_id, status, started_at, finished_at, new, unchanged, "
            "reopened, fixed) VALUES (1, 'r1', 1, 'complete', ?, ?, 1, 0, 0, 0)",
            (_TS, _TS + 5),
        )
        raw.execute(
            "INSERT INTO findings (id, target_id, fingerprint, tool_ref, rule_ref, path_ref, line, "
            "message_ref, severity, state, first_seen, last_seen, last_run_id, sla_started_at, sla_paused_s, "
            "due_at, sla_status, sla_next_at) "
            "VALUES (7, 1, ?, 1, 2, 3, 1, 4, 'high', 'new', ?, ?, 1, ?, 0, ?, 'within', ?)",
            (_FP, _TS, _TS, _TS, _TS + 24 * 3600, _TS + 18 * 3600),
        )
        raw.execute(
            "INSERT INTO history (finding_id, at, event, to_state, actor, reason, run_id) "
            "VALUES (7, ?, 'opened', 'new', 'secscan', 'first seen by bandit', 1)",
            (_TS,),
        )
    raw.close()


def test_the_upgrade_moves_the_sla_columns_and_keeps_everything_else(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    _database_at_0001(db)
    with open_store(db) as store:
        (finding,) = store.list_findings()
        assert (finding.fingerprint, finding.state, finding.path) == (
            fnd(1).fingerprint,
            FindingState.NEW,
            "src/m1.py",
        )
        assert [e.event for e in store.history(fnd(1).id)] == [HistoryEvent.OPENED]
        assert sla_sweep(store, T0 + 17 * H, POLICY).changes == ()  # the stored next sweep time holds
        (change,) = sla_sweep(store, T0 + 18 * H, POLICY).changes
        assert (change.previous, change.current, change.due_at) == (
            SlaStatus.WITHIN,
            SlaStatus.DUE_SOON,
            T0 + 24 * H,
        )
    with sqlite3.connect(db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(findings)")}
        sla_row = conn.execute("SELECT finding_id, due_at, sla_status FROM finding_sla").fetchall()
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert not columns & {"due_at", "sla_status", "sla_next_at"}
    assert sla_row == [(7, _TS + 24 * 3600, "due-soon")]
    assert "ix_finding_sla_next" in indexes and "ix_findings_sla_next" not in indexes


def test_every_finding_has_one_sla_row_whatever_path_wrote_it(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with open_store(db) as store:
        record_run(store, make_run("r1", [fnd(1), fnd(2), fnd(3)]), T0, POLICY)
        record_run(
            store, make_run("r2", [fnd(1, line=9), fnd(2), fnd(4)]), T0 + H, POLICY
        )  # moved, fixed, new
        triage(store, fnd(2).id, TriageStatus.FALSE_POSITIVE, "test data", None, "me", T0 + 2 * H)
        sla_sweep(store, T0 + 30 * H, POLICY)
        by_fp = {t.fingerprint: t for t in store.list_findings()}
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT lower(hex(f.fingerprint)), s.sla_status, s.sla_next_at FROM findings f "
            "JOIN finding_sla s ON s.finding_id = f.id"
        ).fetchall()
        orphans = conn.execute(
            "SELECT count(*) FROM finding_sla WHERE finding_id NOT IN (SELECT id FROM findings)"
        )
        assert orphans.fetchone() == (0,)
    conn.close()
    status = {fp: s for fp, s, _ in rows}
    assert set(status) == set(by_fp)
    assert status[fnd(1).fingerprint] == SlaStatus.BREACHED.value  # high, open for 30 h
    assert status[fnd(2).fingerprint] == SlaStatus.WITHIN.value  # paused by triage at 2 h
    assert status[fnd(3).fingerprint] == SlaStatus.MET.value  # fixed at 1 h
