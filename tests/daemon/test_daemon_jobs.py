"""The daemon's upkeep jobs, in process: SLA sweep hands its result to paging; retention prunes."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from secscan.app.tracking import record_run
from secscan.config.settings import build_settings
from secscan.core.ports.outbox import OutboxStatus
from secscan.daemon import integrations, jobs
from secscan.daemon.metrics import DaemonMetrics
from secscan.store import open_store
from tests.store.builders import POLICY, T0, fnd, make_run


def _context(tmp_path: Path, now: Any) -> jobs.JobContext:
    db = str(tmp_path / "s.db")
    settings = build_settings({"daemon": {"targets": [{"path": str(tmp_path)}], "keep_runs_days": 30}})
    metrics = DaemonMetrics(lambda: open_store(db), lambda: ["repo"])
    return jobs.JobContext(settings, db, threading.Event(), lambda: now, T0, metrics)


def test_sla_sweep_hands_the_changes_to_paging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(
        integrations, "on_sweep", lambda _s, result, _c, _n: seen.append(len(result.changes)) or 0
    )
    with open_store(tmp_path / "s.db") as store:
        record_run(store, make_run("r1", [fnd(1)]), T0, POLICY)
    assert jobs.sla_sweep(_context(tmp_path, T0 + timedelta(days=3))) == 1  # high: breached after 24 h
    assert seen == [1]


def test_maintenance_prunes_old_runs_and_delivered_outbox_items(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        for n in range(3):
            at = T0 + timedelta(days=n)
            record_run(store, make_run(f"r{n}", [fnd(n)], at=at), at, POLICY)
        outbox = store.outbox("alerts")
        outbox.enqueue("slack", "k1", {"text": "x"}, T0)
        outbox.enqueue("slack", "k2", {"text": "y"}, T0)
        [first, _] = outbox.due(T0)
        outbox.delivered(first.id, T0)
    jobs.maintenance(_context(tmp_path, T0 + timedelta(days=100)))
    with open_store(tmp_path / "s.db") as store:
        assert store.outbox("alerts").depth().get(OutboxStatus.DELIVERED, 0) == 0
        assert store.outbox("alerts").depth()[OutboxStatus.PENDING] == 1  # pending items are never pruned
        assert store.runs("repo")[0].run_id == "r2"  # the latest run stays
