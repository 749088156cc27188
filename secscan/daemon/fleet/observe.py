"""A worker's ``/healthz`` and ``/metrics``: the daemon's endpoint, fed from the fleet's tables.

``/metrics`` adds to the daemon's metrics (scan runs, scanner durations, findings, SLA, outboxes)
the fleet's: jobs by task and outcome (counted by this worker), and read at scrape time, queue
depth by queue and status, and the round lag (seconds since the oldest round not done was due).
``/healthz`` is 503 ``failing`` when this worker's loop stopped or a round is past its deadline,
503 ``degraded`` when targets failed in the last round, 200 otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import psycopg
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from secscan.app.pipeline import Clock
from secscan.daemon.fleet import rounds
from secscan.daemon.health import Health

log = logging.getLogger(__name__)


def job_counter(registry: CollectorRegistry) -> Counter:
    return Counter(
        "secscan_fleet_jobs", "Fleet jobs run by this worker, by task and outcome", ["task", "outcome"],
        registry=registry,
    )  # fmt: skip


class FleetCollector(Collector):
    """Queue depth and round lag, read from the database at each scrape."""

    def __init__(self, conninfo: str, clock: Clock) -> None:
        self._conninfo = conninfo
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        try:
            with psycopg.connect(self._conninfo, connect_timeout=5) as conn:
                yield from self._collect(conn)
        except Exception:  # a scrape must not kill the endpoint
            log.exception("reading the fleet's metrics from the database failed")

    def _collect(self, conn: psycopg.Connection[Any]) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "secscan_fleet_queue_jobs",
            "Fleet jobs by queue and status (todo, doing)",
            labels=["queue", "status"],
        )
        for queue, status, count in conn.execute(
            "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs "
            "WHERE status IN ('todo', 'doing') GROUP BY 1, 2 ORDER BY 1, 2"
        ):
            depth.add_metric([queue, status], count)
        yield depth
        lag = GaugeMetricFamily(
            "secscan_fleet_round_lag_seconds", "Seconds since the oldest open round was due"
        )
        due = rounds.oldest_open_due(conn)
        lag.add_metric([], max(0.0, (self._clock() - due).total_seconds()) if due else 0.0)
        yield lag


def evaluate(
    conninfo: str, now: datetime, beat_at: datetime | None, beat_every: float, deadline: float
) -> Health:
    """The worker's health verdict (see the module docstring)."""
    if beat_at is None or now - beat_at > timedelta(seconds=3 * beat_every + 5):
        return Health(False, "the worker is not running its loop", None, None, None)
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        due = rounds.oldest_open_due(conn)
        row = conn.execute(
            "SELECT max(r.due_at) FROM secscan_fleet_rounds r WHERE NOT EXISTS (SELECT 1 FROM "
            "secscan_fleet_targets t WHERE t.round_key = r.round_key AND t.state <> ALL(%s))",
            (list(rounds.FINAL),),
        ).fetchone()
        last_done = row[0] if row else None
        latest = conn.execute(
            "SELECT DISTINCT ON (target) target, state, detail FROM secscan_fleet_targets "
            "WHERE state = ANY(%s) ORDER BY target, finished_at DESC NULLS LAST",
            (list(rounds.FINAL),),
        ).fetchall()
    failing = {str(t): str(detail or state) for t, state, detail in latest if state != rounds.COMPLETE}
    overdue_at = due + timedelta(seconds=deadline) if due else None
    if overdue_at is not None and now > overdue_at:
        reason = f"the round due at {due:%Y-%m-%dT%H:%M%z} is past its deadline"
        return Health(False, reason, last_done, due, overdue_at, failing)
    if failing:
        reason = f"the last round failed for {', '.join(sorted(failing))}"
        return Health(False, reason, last_done, due, overdue_at, failing, degraded=True)
    return Health(True, "ok", last_done, due, overdue_at)
