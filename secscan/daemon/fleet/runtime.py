"""What a worker's tasks share: the settings, the database, the stop event, the metrics."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import Counter
from psycopg_pool import ConnectionPool

from secscan.app.pipeline import Clock
from secscan.config.settings import Settings
from secscan.daemon import jobs
from secscan.daemon.metrics import DaemonMetrics
from secscan.fs.urls import PostgresUrl


@dataclass(frozen=True)
class Runtime:
    """One worker process's context, handed to every task (Procrastinate's additional context)."""

    settings: Settings
    url: PostgresUrl
    db: str  # the URL as given (the store's open_store takes it)
    name: str  # this worker: host:pid
    cancel: threading.Event
    clock: Clock
    started_at: datetime
    metrics: DaemonMetrics
    outcomes: Counter  # secscan_fleet_jobs{task, outcome}
    pool: ConnectionPool[Any] | None = None  # the scan jobs' connections (autocommit); None: fresh ones

    def job_context(self) -> jobs.JobContext:
        """The daemon's job context: fleet tasks run the daemon's job bodies."""
        return jobs.JobContext(self.settings, self.db, self.cancel, self.clock, self.started_at, self.metrics)
