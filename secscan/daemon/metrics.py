"""``/metrics``: the daemon's Prometheus metrics, on a registry of its own (no global state).

Two sources:

* events the daemon sees (job runs and durations, scan runs by status), as counters;
* the database, read at scrape time by :class:`StoreCollector`: open findings by severity,
  SLA statuses (breached, due soon), outbox depth, the last run of each target with its
  scanners' duration and status, and the ledger's last completed nightly slot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from secscan.core.model import ScanRun
from secscan.core.ports.ledger import SlotStatus
from secscan.core.ports.outbox import OUTBOXES
from secscan.core.ports.store import Store

log = logging.getLogger(__name__)

OpenStore = Callable[[], AbstractContextManager[Store]]


class StoreCollector(Collector):
    """Gauges read from the store at each scrape (one short read transaction per query)."""

    def __init__(self, open_store: OpenStore, targets: Callable[[], Sequence[str]]) -> None:
        self._open = open_store
        self._targets = targets

    def collect(self) -> Iterator[Metric]:
        try:
            with self._open() as store:
                yield from self._collect(store)
        except Exception:  # a scrape must not kill the endpoint; the error is logged (and sent)
            log.exception("reading metrics from the database failed")

    def _collect(self, store: Store) -> Iterator[Metric]:
        stats = store.finding_stats()
        open_findings = GaugeMetricFamily(
            "secscan_open_findings", "Open findings by target and severity", labels=["target", "severity"]
        )
        for (target, severity), count in sorted(stats.open.items()):
            open_findings.add_metric([target, severity], count)
        yield open_findings
        sla = GaugeMetricFamily(
            "secscan_sla_findings",
            "Open findings by SLA status (breached, due-soon, within, none)",
            labels=["target", "severity", "status"],
        )
        for (target, severity, status), count in sorted(stats.sla.items()):
            sla.add_metric([target, severity, status], count)
        yield sla
        depth = GaugeMetricFamily(
            "secscan_outbox_items", "Outbox items by status", labels=["outbox", "status"]
        )
        for name in OUTBOXES:
            for status, count in store.outbox(name).depth().items():
                depth.add_metric([name, str(status)], count)
        yield depth
        yield from self._runs(store)
        done = store.slots("nightly", SlotStatus.DONE, limit=1)
        last = GaugeMetricFamily(
            "secscan_last_nightly_slot_timestamp_seconds", "Scheduled time of the last completed nightly run"
        )
        if done:
            last.add_metric([], done[0].slot_at.timestamp())
        yield last

    def _runs(self, store: Store) -> Iterator[Metric]:
        finished = GaugeMetricFamily(
            "secscan_last_run_timestamp_seconds",
            "Start of each target's latest run",
            labels=["target", "status"],
        )
        duration = GaugeMetricFamily(
            "secscan_last_scanner_duration_seconds",
            "Duration of each scanner in the target's latest run",
            labels=["target", "scanner"],
        )
        status = GaugeMetricFamily(
            "secscan_last_scanner_status",
            "1 for the status of each scanner in the target's latest run",
            labels=["target", "scanner", "status"],
        )
        for target in self._targets():
            runs = store.runs(target, limit=1)
            if not runs:
                continue
            run = runs[0]
            finished.add_metric([target, run.status.value], run.started_at.timestamp())
            for scanner in run.scanners:
                duration.add_metric([target, scanner.tool], scanner.duration_s)
                status.add_metric([target, scanner.tool, scanner.status], 1)
        yield finished
        yield duration
        yield status


class DaemonMetrics:
    """The daemon's registry and the event metrics it updates."""

    def __init__(self, open_store: OpenStore, targets: Callable[[], Sequence[str]]) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "secscan_daemon_jobs", "Daemon job runs by outcome", ["job", "outcome"], registry=self.registry
        )
        self.job_seconds = Histogram(
            "secscan_daemon_job_duration_seconds",
            "Daemon job durations",
            ["job"],
            buckets=(0.1, 1, 10, 60, 300, 900, 3600, 4 * 3600),
            registry=self.registry,
        )
        self.runs = Counter(
            "secscan_runs", "Scan runs by target and status", ["target", "status"], registry=self.registry
        )
        self.scanner_seconds = Histogram(
            "secscan_scanner_duration_seconds",
            "Scanner durations by scanner and status",
            ["scanner", "status"],
            buckets=(1, 5, 15, 60, 300, 900, 3600),
            registry=self.registry,
        )
        self.up = Gauge("secscan_daemon_up", "1 while the scheduler runs", registry=self.registry)
        self.registry.register(StoreCollector(open_store, targets))

    def observe_run(self, run: ScanRun) -> None:
        self.runs.labels(run.target_name, "complete" if run.complete else "partial").inc()
        for scanner in run.scanners:
            self.scanner_seconds.labels(scanner.name, scanner.status.value).observe(scanner.duration_s)
