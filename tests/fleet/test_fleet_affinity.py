"""Queue affinity: a worker started with ``--queue X`` takes only queue X's jobs (real worker
processes), so a target's jobs go to the worker group that keeps its warm cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan.daemon.fleet.keys import queue_for
from tests.fleet.fleet_helpers import Fleet, wait_for

pytestmark = pytest.mark.e2e
QUEUES = ["east", "west"]
# enqueued in this order: a west job comes before the last east job, so an east worker that
# took any queue's jobs (one at a time, oldest first) would have taken it before finishing
TARGETS = ["a3", "a1", "a4", "a2"]


def _states(fleet: Fleet) -> dict[str, tuple[str, str | None]]:
    return {t: (str(row[0]), None if row[2] is None else str(row[2])) for t, row in fleet.rows().items()}


def test_a_worker_with_queue_takes_only_that_queues_jobs(tmp_path: Path, postgres_empty_url: str) -> None:
    assert [queue_for(t, QUEUES) for t in TARGETS] == ["west", "east", "west", "east"]
    fleet = Fleet(tmp_path, postgres_empty_url, TARGETS, sleep=0.1)
    fleet.make_repos()
    fleet.write_config(stalled_after=60, extra=f"queues = {QUEUES!r}")
    fleet.cli("migrate", "--db", fleet.db)
    try:
        east = fleet.start_worker("--queue", "east")
        fleet.cli("scan-now", "--config", str(fleet.config), "--db", fleet.db, "--round", "r1")
        wait_for(
            "the east worker to finish a1 and a2",
            lambda: all(_states(fleet)[t][0] == "complete" for t in ("a1", "a2")),
            timeout=120,
        )
        states = _states(fleet)
        assert {t: states[t] for t in ("a3", "a4")} == {"a3": ("queued", None), "a4": ("queued", None)}
        assert all(states[t][1] is not None and states[t][1].endswith(f":{east.pid}") for t in ("a1", "a2"))
        jobs = fleet.query(
            "SELECT args->>'target', queue_name, status FROM procrastinate_jobs "
            "WHERE task_name = 'secscan.fleet.scan' AND queue_name = 'west' ORDER BY 1"
        )
        assert jobs == [("a3", "west", "todo"), ("a4", "west", "todo")]
        west = fleet.start_worker("--queue", "west")
        wait_for(
            "the west worker to finish a3 and a4",
            lambda: all(_states(fleet)[t][0] == "complete" for t in ("a3", "a4")),
            timeout=120,
        )
        states = _states(fleet)
        assert all(states[t][1] is not None and states[t][1].endswith(f":{west.pid}") for t in ("a3", "a4"))
    except BaseException:
        print(fleet.logs())
        raise
    finally:
        fleet.stop_all()
