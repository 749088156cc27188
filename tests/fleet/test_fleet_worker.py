"""A worker process: /healthz and /metrics, and SIGTERM mid-scan (the job goes back to the queue)."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fleet.fleet_helpers import Fleet, wait_for

pytestmark = pytest.mark.e2e


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_sigterm_mid_scan_hands_the_job_to_another_worker(tmp_path: Path, postgres_empty_url: str) -> None:
    fleet = Fleet(tmp_path, postgres_empty_url, ["held", "other"], sleep=0.2)
    fleet.make_repos()
    fleet.write_config(stalled_after=60)  # no stall here: the stopped worker hands its job back itself
    hold = fleet.state / "held.hold"
    hold.write_text("")
    try:
        first = fleet.start_worker()
        log = tmp_path / "worker-0.log"
        pattern = re.compile(r"http://127\.0\.0\.1:(\d+)/healthz")
        found = wait_for("the health endpoint", lambda: pattern.findall(log.read_text(errors="replace")), 60)
        port = int(found[0])
        fleet.cli("scan-now", "--config", str(fleet.config), "--db", fleet.db, "--round", "r1")
        wait_for("the held scan to start", lambda: (fleet.state / "held.busy").exists(), timeout=60)
        code, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"
        code, metrics = _get(f"http://127.0.0.1:{port}/metrics")
        assert (
            code == 200
            and b"secscan_fleet_queue_jobs" in metrics
            and b"secscan_fleet_round_lag_seconds" in metrics
        )
        began = time.monotonic()
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=40) == 0
        assert time.monotonic() - began < 30
        rows = fleet.rows()
        assert rows["held"][0] == "interrupted"
        jobs = fleet.query(
            "SELECT status FROM procrastinate_jobs WHERE args->>'target' = 'held' "
            "AND task_name = 'secscan.fleet.scan'"
        )
        assert jobs == [("todo",)]  # back in the queue
        hold.unlink()
        fleet.start_worker()
        wait_for(
            "the other worker to finish the held target", lambda: fleet.rows()["held"][0] == "complete", 90
        )
    except BaseException:
        print(fleet.logs())
        raise
    finally:
        fleet.stop_all()
    runs = fleet.query(
        "SELECT r.status FROM runs r JOIN targets t ON t.id = r.target_id WHERE t.name = 'held' ORDER BY r.id"
    )
    assert runs == [("interrupted",), ("complete",)]
    assert fleet.rows()["held"][1] == 2
