"""The watchdog's alerts: a job whose worker died is retried at most ``max_attempts`` times,
then given up with the target-failed alert; a stalled job and a late round page once."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
import pytest
from prometheus_client import CollectorRegistry

from secscan.config.settings import load_settings
from secscan.daemon.fleet import rounds, watchdog
from secscan.daemon.fleet.enqueue import defer_app, enqueue_round
from secscan.daemon.fleet.observe import job_counter
from secscan.daemon.fleet.runtime import Runtime
from secscan.daemon.fleet.schema import migrate
from secscan.daemon.metrics import DaemonMetrics
from secscan.fs.urls import postgres_url
from secscan.store import open_store
from tests.fleet.fleet_helpers import Fleet

SECRET = "pd-routing-key-s3cr3t-0123456789"
PAGER = '[notify.pager]\ntype = "pagerduty"\nrouting_key_env = "SECSCAN_TEST_FLEET_PD_KEY"\n'


@pytest.fixture
def fleet(tmp_path: Path, postgres_empty_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    monkeypatch.setenv("SECSCAN_TEST_FLEET_PD_KEY", SECRET)
    setup = Fleet(tmp_path, postgres_empty_url, ["alpha", "beta"])
    setup.make_repos()
    setup.write_config(extra=f"round_deadline = 3600\n{PAGER}")  # max_attempts = 2
    migrate(postgres_url(setup.db))
    yield setup


def _runtime(fleet: Fleet, now: datetime) -> Runtime:
    registry = CollectorRegistry()
    return Runtime(
        load_settings(fleet.config), postgres_url(fleet.db), fleet.db, "test:1", threading.Event(),
        lambda: now, now, DaemonMetrics(lambda: None, lambda: []),  # type: ignore[arg-type,return-value]
        job_counter(registry),
    )  # fmt: skip


def _tick(fleet: Fleet, now: datetime) -> None:
    rt = _runtime(fleet, now)

    async def run() -> None:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=rt.url.conninfo))
        async with app.open_async():
            with defer_app(rt.url.conninfo) as deferrer:
                await watchdog.tick(rt, app, deferrer)

    asyncio.run(run())


def _enqueue(fleet: Fleet, key: str, due: datetime, names: tuple[str, ...]) -> None:
    url = postgres_url(fleet.db)
    with psycopg.connect(url.conninfo) as conn, defer_app(url.conninfo) as app:
        enqueue_round(conn, app, load_settings(fleet.config), key, due, "test", names)


def _taken_by_a_dead_worker(fleet: Fleet, key: str, target: str, now: datetime) -> None:
    """What a worker does when it takes the job (its row running), then dies (kill -9): its
    job stays ``doing`` under a worker whose heartbeat stopped an hour ago."""
    with psycopg.connect(postgres_url(fleet.db).conninfo) as conn:
        job_id = conn.execute(
            "SELECT id FROM procrastinate_jobs WHERE args->>'round' = %s AND args->>'target' = %s",
            (key, target),
        ).fetchone()[0]  # type: ignore[index]
        assert rounds.begin_attempt(conn, key, target, job_id, "dead:1", now).go
        worker = conn.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '1 hour') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s", (worker, job_id)
        )
        conn.commit()


def _job(fleet: Fleet, key: str, target: str) -> tuple[Any, ...]:
    return fleet.query(
        "SELECT status, attempts FROM procrastinate_jobs WHERE args->>'round' = %s AND args->>'target' = %s",
        (key, target),
    )[0]


def _alerts(fleet: Fleet) -> list[dict[str, Any]]:
    with open_store(fleet.db) as store:
        return [dict(i.payload) for i in store.outbox("alerts").items()]


def _no_secret(fleet: Fleet, items: list[dict[str, Any]]) -> None:
    text = json.dumps(items)
    password = postgres_url(fleet.db).conninfo
    assert SECRET not in text and fleet.db not in text and password not in text


def test_a_job_whose_worker_dies_is_retried_up_to_max_attempts_then_given_up_and_paged(fleet: Fleet) -> None:
    now = datetime.now(UTC)
    _enqueue(fleet, "r-dies", now, ("alpha",))
    _taken_by_a_dead_worker(fleet, "r-dies", "alpha", now)
    _tick(fleet, now)
    assert _job(fleet, "r-dies", "alpha") == ("todo", 1)  # attempt 1 of 2: back in the queue
    assert fleet.rows()["alpha"][:2] == ("interrupted", 1)
    _taken_by_a_dead_worker(fleet, "r-dies", "alpha", now)
    _tick(fleet, now)
    assert _job(fleet, "r-dies", "alpha")[0] == "failed"  # attempt 2 of 2: given up
    state, attempts = fleet.rows()["alpha"][:2]
    assert (state, attempts) == ("failed", 2)
    detail = fleet.query("SELECT detail FROM secscan_fleet_targets WHERE target = 'alpha'")[0][0]
    assert "gave up after 2 attempt(s)" in detail
    _tick(fleet, now + timedelta(seconds=5))  # a failed job is not stalled: no third try
    assert _job(fleet, "r-dies", "alpha")[0] == "failed" and fleet.rows()["alpha"][1] == 2
    # the first stall opened the target's incident; giving up joins it (one page per target)
    failed = [a for a in _alerts(fleet) if a["event"] == "target-failed"]
    assert len(failed) == 1 and failed[0]["target"] == "alpha" and failed[0]["action"] == "trigger"
    assert "round r-dies" in failed[0]["summary"]
    _no_secret(fleet, failed)


def test_giving_up_pages_the_target_failed_alert_naming_target_and_round(fleet: Fleet) -> None:
    fleet.config.write_text(fleet.config.read_text().replace("max_attempts = 2", "max_attempts = 1"))
    now = datetime.now(UTC)
    _enqueue(fleet, "r-once", now, ("alpha",))
    _taken_by_a_dead_worker(fleet, "r-once", "alpha", now)
    _tick(fleet, now)
    assert _job(fleet, "r-once", "alpha")[0] == "failed"
    assert fleet.rows()["alpha"][:2] == ("failed", 1)
    _tick(fleet, now + timedelta(seconds=1))
    failed = [a for a in _alerts(fleet) if a["event"] == "target-failed"]
    assert len(failed) == 1 and failed[0]["target"] == "alpha"
    assert "round r-once" in failed[0]["summary"] and "gave up after 1 attempt(s)" in failed[0]["summary"]
    _no_secret(fleet, failed)


def test_a_stalled_job_pages_once(fleet: Fleet) -> None:
    now = datetime.now(UTC)
    _enqueue(fleet, "r-stall", now, ("beta",))
    _taken_by_a_dead_worker(fleet, "r-stall", "beta", now)
    _tick(fleet, now)
    _tick(fleet, now + timedelta(seconds=1))  # the next tick: the job is queued again, not stalled
    failed = [a for a in _alerts(fleet) if a["event"] == "target-failed"]
    assert len(failed) == 1
    text = json.dumps(failed[0])
    assert "beta" in text and "r-stall" in text and "stopped" in text
    _no_secret(fleet, failed)


def test_a_late_round_pages_each_pending_target_once(fleet: Fleet) -> None:
    due = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    _enqueue(fleet, "r-late", due, ("alpha", "beta"))
    with psycopg.connect(postgres_url(fleet.db).conninfo) as conn:
        rounds.finish(conn, "r-late", "alpha", rounds.COMPLETE, due)
    _tick(fleet, due + timedelta(minutes=30))  # within round_deadline (1 h)
    assert [a for a in _alerts(fleet) if a["event"] == "missed-run"] == []
    _tick(fleet, due + timedelta(hours=2))
    _tick(fleet, due + timedelta(hours=2, seconds=1))  # the next tick pages nothing more
    missed = [a for a in _alerts(fleet) if a["event"] == "missed-run"]
    assert len(missed) == 1
    text = json.dumps(missed[0])
    assert "beta" in text and "alpha" not in text and "2026-12-07 02:00" in text
    _no_secret(fleet, missed)
