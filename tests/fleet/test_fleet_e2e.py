"""Issue 17's done-when: 20 targets, 2 worker processes, one killed with -9 mid-scan and replaced.

Every target ends with exactly one complete run for the round, no target is scanned by two
workers at once (the tool notes a live scan of its target when it starts), and enqueuing the
same round again creates no run and no job.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fleet.fleet_helpers import Fleet, wait_for

pytestmark = pytest.mark.e2e
KEY = "2026-12-07T02:00Z"


def _store_runs(fleet: Fleet) -> list[tuple[str, str]]:
    return [(str(t), str(s)) for t, s in fleet.query(
        "SELECT tg.name, r.status FROM runs r JOIN targets tg ON tg.id = r.target_id")]  # fmt: skip


def test_a_killed_worker_costs_one_retry_and_no_second_run(tmp_path: Path, postgres_empty_url: str) -> None:
    fleet = Fleet(tmp_path, postgres_empty_url, [f"repo{i:02d}" for i in range(20)], sleep=0.4)
    fleet.make_repos()
    fleet.write_config()
    fleet.cli("migrate", "--db", fleet.db)
    try:
        doomed = fleet.start_worker()
        fleet.start_worker()
        done = fleet.cli("scan-now", "--config", str(fleet.config), "--db", fleet.db, "--round", KEY,
                         "--format", "json")  # fmt: skip
        assert sorted(json.loads(done.stdout)["enqueued"]) == fleet.targets

        def doomed_mid_scan() -> str | None:  # a target the doomed worker's tool is scanning now
            for target, (state, _a, worker, _r, _k) in fleet.rows().items():
                if state == "running" and worker and worker.endswith(f":{doomed.pid}"):
                    busy = fleet.state / f"{target}.busy"
                    if busy.exists():
                        return target
            return None

        victim = wait_for("the first worker to be mid-scan", doomed_mid_scan, timeout=60)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        fleet.start_worker()  # the replacement

        def all_final() -> bool:
            rows = fleet.rows()
            return len(rows) == 20 and all(r[0] in ("complete", "partial", "failed") for r in rows.values())

        wait_for("every target of the round to finish", all_final, timeout=120, every=0.3)
    except BaseException:
        print(fleet.logs())
        raise
    finally:
        fleet.stop_all()
    rows = fleet.rows()
    assert {t: r[0] for t, r in rows.items()} == dict.fromkeys(fleet.targets, "complete"), fleet.logs()
    assert rows[victim][1] == 2  # the killed attempt, then one retry
    runs = _store_runs(fleet)
    complete = Counter(t for t, status in runs if status == "complete")
    assert complete == dict.fromkeys(fleet.targets, 1)
    assert ("" + victim, "interrupted") in runs  # the dead worker's half-done run
    assert not [r for r in runs if r[1] == "running"]
    assert fleet.overlaps() == ""
    jobs_before = fleet.query(
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'secscan.fleet.scan'"
    )

    # the same round again, from the command line: nothing recorded, nothing deferred, nothing scanned
    fleet.start_worker()
    try:
        again = fleet.cli("scan-now", "--config", str(fleet.config), "--db", fleet.db, "--round", KEY,
                          "--format", "json")  # fmt: skip
        document = json.loads(again.stdout)
        assert document["enqueued"] == [] and sorted(document["already"]) == fleet.targets
        time.sleep(2.0)
    finally:
        fleet.stop_all()
    assert (
        fleet.query("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'secscan.fleet.scan'")
        == jobs_before
    )
    assert Counter(t for t, s in _store_runs(fleet) if s == "complete") == dict.fromkeys(fleet.targets, 1)
