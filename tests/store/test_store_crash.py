"""A process killed in the middle of an ingest leaves the database intact: all of a run or none."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from secscan.app.tracking import record_run
from secscan.core.model import FindingState
from secscan.store import FindingQuery, open_store
from tests.store.builders import POLICY, T0, H, fnd, make_run

REPO = Path(__file__).resolve().parents[2]
BIG = 3000

# Runs record_run on a big run; the event hook signals the test and blocks either inside the
# transaction (findings written, history not yet) or after the commit.
CHILD = """
import sys, time
from pathlib import Path
from secscan.store import open_store
from secscan.app.tracking import record_run
from tests.store.builders import POLICY, T0, H, fnd, make_run

db, marker, mode, big = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
store = open_store(db)

def block(*args):
    marker.write_text("paused")
    time.sleep(120)

if mode == "mid":
    def before(statement):
        if statement.startswith("INSERT INTO history"):
            block()
    store.database.trace(before)
record_run(store, make_run("big", [fnd(n, line=7) for n in range(big)], at=T0 + H), T0 + H, POLICY)
block()
"""


def _kill_child_when_paused(db: Path, tmp_path: Path, mode: str) -> None:
    marker = tmp_path / f"{mode}.marker"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(marker), mode, str(BIG)], cwd=REPO, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the child exited early with {child.returncode}")
            if time.monotonic() > deadline:
                pytest.fail("the child never reached the pause point")
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL


def _counts(db: Path) -> tuple[str, int, int, int]:
    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        findings = conn.execute("SELECT count(*) FROM findings").fetchone()[0]
        history = conn.execute("SELECT count(*) FROM history").fetchone()[0]
        runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    conn.close()
    return integrity, findings, history, runs


@pytest.mark.parametrize("mode", ["mid", "after"])
def test_sigkill_during_ingest_keeps_all_or_nothing(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "s.db"
    with open_store(db) as store:
        record_run(store, make_run("small", [fnd(n) for n in range(10)]), T0, POLICY)
    _kill_child_when_paused(db, tmp_path, mode)
    integrity, findings, history, runs = _counts(db)
    assert integrity == "ok"
    with open_store(db) as store:
        lines = {t.line for t in store.list_findings()}
        if mode == "mid":
            assert (findings, history, runs) == (10, 10, 1)
            assert lines == {1}
            assert [r.run_id for r in store.runs()] == ["small"]
        else:
            assert (findings, history, runs) == (BIG, BIG, 2)
            assert lines == {7}
            assert store.runs()[0].new == BIG - 10
        # the store is usable afterwards
        outcome = record_run(store, make_run("next", [fnd(1)]), T0 + 2 * H, POLICY)
        assert outcome.run.status.value == "complete"
        assert store.list_findings(FindingQuery(states=frozenset({FindingState.UNCHANGED})))
