"""Migration, round idempotency, the per-target lock and the status, on the test's PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from secscan.config.settings import load_settings
from secscan.daemon.fleet import rounds, scan
from secscan.daemon.fleet.enqueue import defer_app, enqueue_round
from secscan.daemon.fleet.schema import migrate
from secscan.daemon.fleet.status import fleet_status
from secscan.fs.urls import PostgresUrl, postgres_url
from tests.fleet.fleet_helpers import Fleet

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def fleet(tmp_path: Path, postgres_empty_url: str) -> Iterator[Fleet]:
    setup = Fleet(tmp_path, postgres_empty_url, ["alpha", "beta", "gamma"])
    setup.make_repos()
    setup.write_config(extra='queues = ["q1", "q2"]')
    migrate(postgres_url(setup.db))
    yield setup


def _scan_jobs(fleet: Fleet) -> list[tuple[Any, ...]]:
    return fleet.query(
        "SELECT args->>'round', args->>'target', queue_name, lock FROM procrastinate_jobs "
        "WHERE task_name = 'secscan.fleet.scan' ORDER BY 2"
    )


def _enqueue(fleet: Fleet, key: str, names: tuple[str, ...] = ()) -> Any:
    url = postgres_url(fleet.db)
    settings = load_settings(fleet.config)
    with psycopg.connect(url.conninfo) as conn, defer_app(url.conninfo) as app:
        return enqueue_round(conn, app, settings, key, NOW, "test", names)


def test_migrate_twice_is_a_no_op_the_second_time(fleet: Fleet) -> None:
    assert migrate(postgres_url(fleet.db)) == "up to date"
    assert fleet.query("SELECT to_regclass('procrastinate_jobs') IS NOT NULL, count(*) FROM runs") == [
        (True, 0)
    ]


def test_the_same_round_twice_defers_each_target_once(fleet: Fleet) -> None:
    first = _enqueue(fleet, "r1")
    again = _enqueue(fleet, "r1")
    assert first.enqueued == ("alpha", "beta", "gamma") and first.already == ()
    assert again.enqueued == () and again.already == ("alpha", "beta", "gamma")
    jobs = _scan_jobs(fleet)
    assert [(r, t) for r, t, _q, _l in jobs] == [("r1", "alpha"), ("r1", "beta"), ("r1", "gamma")]
    assert all(lock == f"target:{t}" and q in ("q1", "q2") for _r, t, q, lock in jobs)
    assert len(_enqueue(fleet, "r2").enqueued) == 3  # another round is another round


def test_a_round_can_grow_by_targets_but_never_repeats_one(fleet: Fleet) -> None:
    assert _enqueue(fleet, "r1", ("beta",)).enqueued == ("beta",)
    grown = _enqueue(fleet, "r1")
    assert grown.enqueued == ("alpha", "gamma") and grown.already == ("beta",)


def test_an_unknown_target_is_refused_naming_it(fleet: Fleet) -> None:
    from secscan.core.errors import ConfigError

    with pytest.raises(ConfigError, match="'delta' is not in"):
        _enqueue(fleet, "r1", ("delta",))
    assert _scan_jobs(fleet) == []


def test_an_attempt_is_refused_for_a_done_row_or_another_job_s_row(fleet: Fleet) -> None:
    _enqueue(fleet, "r1")
    url = postgres_url(fleet.db)
    job = {t: j for t, j in fleet.query("SELECT target, job_id FROM secscan_fleet_targets")}
    with psycopg.connect(url.conninfo) as conn:
        assert not rounds.begin_attempt(conn, "r1", "alpha", job["alpha"] + 1000, "w", NOW).go
        first = rounds.begin_attempt(conn, "r1", "alpha", job["alpha"], "w", NOW)
        assert first.go and first.attempts == 1
        assert rounds.begin_attempt(conn, "r1", "alpha", job["alpha"], "w", NOW).attempts == 2
        rounds.finish(conn, "r1", "alpha", rounds.COMPLETE, NOW, run_id="run-1")
        done = rounds.begin_attempt(conn, "r1", "alpha", job["alpha"], "w", NOW)
        assert not done.go and done.reason == "already complete"
        assert not rounds.begin_attempt(conn, "r0", "alpha", 1, "w", NOW).go  # no such round


def test_the_target_lock_keeps_a_second_holder_out_until_released(fleet: Fleet) -> None:
    url = postgres_url(fleet.db)
    rt: Any = type("Rt", (), {"cancel": threading.Event()})()
    with (
        psycopg.connect(url.conninfo, autocommit=True) as one,
        psycopg.connect(url.conninfo, autocommit=True) as two,
    ):
        with scan.target_lock(one, "alpha", 0, rt) as held:
            assert held
            with scan.target_lock(two, "alpha", 0.6, rt) as second:
                assert not second
            with scan.target_lock(two, "beta", 0, rt) as other:
                assert other  # another target is another lock
        with scan.target_lock(two, "alpha", 0, rt) as after:
            assert after


def test_the_lock_of_a_connection_that_dies_is_released(fleet: Fleet) -> None:
    url = postgres_url(fleet.db)
    rt: Any = type("Rt", (), {"cancel": threading.Event()})()
    dead = psycopg.connect(url.conninfo, autocommit=True)
    dead.execute("SELECT pg_advisory_lock(%s, %s)", scan.lock_key("alpha"))
    with psycopg.connect(url.conninfo, autocommit=True) as admin:
        pid = dead.info.backend_pid
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with (
        psycopg.connect(url.conninfo, autocommit=True) as conn,
        scan.target_lock(conn, "alpha", 5, rt) as held,
    ):
        assert held


def test_status_counts_queued_jobs_per_target_and_the_last_round(fleet: Fleet) -> None:
    _enqueue(fleet, "r1", ("alpha", "beta"))
    status = fleet_status(PostgresUrl(postgres_url(fleet.db).conninfo, "db"), datetime.now(UTC), 60)
    doc = status.document()
    assert doc["jobs"] == {
        "alpha": {"queued": 1, "running": 0, "failed": 0, "stalled": 0},
        "beta": {"queued": 1, "running": 0, "failed": 0, "stalled": 0},
    }
    assert doc["last_round"]["round"] == "r1" and doc["last_round"]["states"] == {"queued": 2}
    assert not doc["last_round"]["done"] and doc["workers"] == []


def test_the_cli_enqueues_once_and_reports_status_as_json(fleet: Fleet) -> None:
    args = ("--config", str(fleet.config), "--db", fleet.db, "--round", "nightly-1", "--format", "json")
    first = json.loads(fleet.cli("scan-now", *args).stdout)
    second = json.loads(fleet.cli("scan-now", *args).stdout)
    assert sorted(first["enqueued"]) == ["alpha", "beta", "gamma"] and second["enqueued"] == []
    status = json.loads(fleet.cli("status", "--db", fleet.db, "--format", "json").stdout)
    assert status["last_round"]["round"] == "nightly-1" and set(status["jobs"]) == {"alpha", "beta", "gamma"}
    table = fleet.cli("status", "--db", fleet.db).stdout
    assert "last round: nightly-1 (queued 3)" in table


def test_the_cli_refuses_a_database_that_is_not_postgresql(fleet: Fleet) -> None:
    proc = fleet.cli("status", "--db", str(fleet.root / "x.db"), check=False)
    assert proc.returncode == 2 and "postgresql://" in proc.stderr
    proc = fleet.cli(
        "scan-now", "--config", str(fleet.config), "--db", fleet.db, "--target", "nope", check=False
    )
    assert proc.returncode == 2 and "'nope' is not in" in proc.stderr
    proc = fleet.cli("worker", "--config", str(fleet.config), "--db", fleet.db, "--queue", "q9", check=False)
    assert proc.returncode == 2 and "q9" in proc.stderr


def test_a_pooled_connection_goes_back_holding_no_target_lock(fleet: Fleet) -> None:
    conninfo = postgres_url(fleet.db).conninfo
    key = scan.lock_key("alpha")
    with scan.open_pool(conninfo, 1) as pool:
        with pool.connection() as conn:
            assert conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone() == (True,)
            # returned without its unlock (as when the unlock itself failed)
        # the pool may reset a returned connection in its worker thread: wait for that (without
        # the reset the lock stays held for as long as the pool lives, and this fails)
        deadline = time.monotonic() + 15
        with psycopg.connect(conninfo, autocommit=True) as other:
            while True:
                taken = other.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
                if taken == (True,) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        assert taken == (True,)
