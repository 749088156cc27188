"""The watchdog's upkeep: the nightly round enqueued once when due (never hours late), late
rounds flagged once (their missed-run alert), orphan rows deferred."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from secscan.config.settings import load_settings
from secscan.daemon.fleet import rounds, watchdog
from secscan.daemon.fleet.enqueue import defer_app
from secscan.daemon.fleet.observe import job_counter
from secscan.daemon.fleet.runtime import Runtime
from secscan.daemon.fleet.schema import migrate
from secscan.daemon.metrics import DaemonMetrics
from secscan.fs.urls import postgres_url
from tests.fleet.fleet_helpers import Fleet

SLOT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def fleet(tmp_path: Path, postgres_empty_url: str) -> Iterator[Fleet]:
    setup = Fleet(tmp_path, postgres_empty_url, ["alpha", "beta"])
    setup.make_repos()
    setup.write_config(extra="round_deadline = 3600")
    migrate(postgres_url(setup.db))
    yield setup


def _upkeep(fleet: Fleet, now: datetime) -> None:
    settings = load_settings(fleet.config)
    registry = CollectorRegistry()
    rt = Runtime(
        settings, postgres_url(fleet.db), fleet.db, "test:1", threading.Event(), lambda: now, now,
        DaemonMetrics(lambda: None, lambda: []), job_counter(registry),  # type: ignore[arg-type,return-value]
    )  # fmt: skip
    with defer_app(rt.url.conninfo) as deferrer:
        watchdog._upkeep(rt, deferrer)


def _rounds(fleet: Fleet) -> list[tuple[Any, ...]]:
    return fleet.query("SELECT round_key, origin, late_alerted FROM secscan_fleet_rounds ORDER BY round_key")


def test_the_nightly_round_is_enqueued_once_when_due(fleet: Fleet) -> None:
    _upkeep(fleet, SLOT - timedelta(minutes=1))
    assert _rounds(fleet) == []  # not yet: yesterday's slot is hours past nightly_late
    _upkeep(fleet, SLOT + timedelta(seconds=30))
    _upkeep(fleet, SLOT + timedelta(minutes=2))
    assert _rounds(fleet) == [("2026-12-07T02:00Z", "nightly", False)]
    jobs = fleet.query("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'secscan.fleet.scan'")
    assert jobs == [(2,)]


def test_a_fleet_back_hours_after_the_slot_does_not_start_that_round(fleet: Fleet) -> None:
    _upkeep(fleet, SLOT + timedelta(hours=3))
    assert _rounds(fleet) == []


def test_a_round_past_its_deadline_is_flagged_once(fleet: Fleet) -> None:
    _upkeep(fleet, SLOT + timedelta(seconds=30))
    with psycopg.connect(postgres_url(fleet.db).conninfo) as conn:
        rounds.finish(conn, "2026-12-07T02:00Z", "alpha", rounds.COMPLETE, SLOT)
        assert rounds.late_rounds(conn, SLOT) == []  # only rounds due before the cutoff
        late = rounds.late_rounds(conn, SLOT + timedelta(seconds=1))
        assert [(r.key, r.pending) for r in late] == [("2026-12-07T02:00Z", ("beta",))]
    _upkeep(fleet, SLOT + timedelta(minutes=30))  # within round_deadline (1 h): not late
    assert _rounds(fleet) == [("2026-12-07T02:00Z", "nightly", False)]
    _upkeep(fleet, SLOT + timedelta(hours=2))
    assert _rounds(fleet) == [("2026-12-07T02:00Z", "nightly", True)]
    with psycopg.connect(postgres_url(fleet.db).conninfo) as conn:
        assert rounds.late_rounds(conn, SLOT + timedelta(hours=3)) == []


def test_a_row_whose_job_was_never_deferred_is_deferred_later(fleet: Fleet) -> None:
    with psycopg.connect(postgres_url(fleet.db).conninfo) as conn:
        rounds.record_round(conn, "orphan", SLOT, "test", [rounds.Planned("alpha", "scans")])
    _upkeep(fleet, datetime.now(UTC) + timedelta(minutes=5))
    jobs = fleet.query("SELECT args->>'round', args->>'target' FROM procrastinate_jobs")
    assert ("orphan", "alpha") in jobs
    assert fleet.query("SELECT job_id IS NOT NULL FROM secscan_fleet_targets WHERE round_key = 'orphan'") == [
        (True,)
    ]
