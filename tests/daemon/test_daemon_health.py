"""Health: the dead man's switch, catch-up decisions at start, and the loopback endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from secscan.config.schedule import cron_trigger
from secscan.config.settings import build_settings
from secscan.core.ports.ledger import SlotStatus, SlotTrigger
from secscan.daemon import health, integrations
from secscan.daemon.service import Daemon
from secscan.store import open_store

DAILY = cron_trigger("0 2 * * *", "UTC")
SLOT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
GRACE = timedelta(hours=6)
BEAT = timedelta(seconds=30)


def verdict(now: datetime, last_done: datetime | None, beat_at: datetime | None = None) -> health.Health:
    return health.evaluate(
        now=now, beat_at=beat_at or now, beat_every=BEAT, trigger=DAILY, last_done=last_done,
        since=SLOT - timedelta(days=30), grace=GRACE,
    )  # fmt: skip


def test_healthy_until_the_next_slot_plus_grace() -> None:
    assert verdict(SLOT + timedelta(hours=20), SLOT).ok
    assert verdict(SLOT + timedelta(days=1, hours=6), SLOT).ok  # exactly at the bound
    late = verdict(SLOT + timedelta(days=1, hours=6, seconds=1), SLOT)
    assert not late.ok and late.expected == SLOT + timedelta(days=1)
    assert "has not completed" in late.reason


def test_a_silent_scheduler_fails_health() -> None:
    stale = verdict(SLOT + timedelta(hours=1), SLOT, beat_at=SLOT)
    assert not stale.ok and "scheduler" in stale.reason


def _daemon(tmp_path: Path, clock: list[datetime], **daemon: Any) -> Daemon:
    targets = [{"path": str(tmp_path), "name": "app"}, {"path": str(tmp_path), "name": "lib"}]
    settings = build_settings({"daemon": {"targets": targets, "health_listen": "127.0.0.1:0", **daemon}})
    return Daemon(settings, db=str(tmp_path / "s.db"), clock=lambda: clock[0])


def _catch_up(tmp_path: Path, at: datetime) -> bool:
    clock = [at]
    with open_store(tmp_path / "s.db") as store:
        return _daemon(tmp_path, clock)._recover(store)


def test_catch_up_only_for_a_slot_missed_while_known_and_within_grace(tmp_path: Path) -> None:
    assert not _catch_up(tmp_path, SLOT - timedelta(hours=3))  # first start ever: nothing was missed
    assert _catch_up(tmp_path, SLOT + timedelta(hours=5))  # down over 02:00, back within 6 h
    assert not _catch_up(tmp_path, SLOT + timedelta(hours=7))  # too late: wait for the next slot
    with open_store(tmp_path / "s.db") as store:
        store.claim_slot("nightly", SLOT, SLOT, SlotTrigger.SCHEDULED)
        store.finish_slot("nightly", SLOT, SLOT + timedelta(minutes=9), SlotStatus.DONE)
    assert not _catch_up(tmp_path, SLOT + timedelta(hours=1))  # it ran: exactly once


class _Scheduler:
    running = True

    def get_jobs(self) -> list[Any]:
        return []


def test_overdue_nightly_calls_on_missed_run_once_per_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, datetime]] = []
    monkeypatch.setattr(
        integrations,
        "on_missed_run",
        lambda _s, target, expected, _c, _n: calls.append((target, expected)) or 1,
    )
    clock = [SLOT - timedelta(days=2)]
    _catch_up(tmp_path, clock[0])  # first start
    daemon = _daemon(tmp_path, clock, catch_up_grace=3600)
    with open_store(tmp_path / "s.db") as store:
        daemon._recover(store)
    daemon._scheduler = _Scheduler()
    clock[0] = SLOT - timedelta(days=1) + timedelta(minutes=59)
    daemon._heartbeat(daemon._context())
    assert daemon.health().ok and calls == []
    clock[0] = SLOT - timedelta(days=1) + timedelta(hours=1, seconds=1)
    daemon._heartbeat(daemon._context())
    daemon._heartbeat(daemon._context())
    assert not daemon.health().ok
    expected = SLOT - timedelta(days=1)
    assert sorted(calls) == [("app", expected), ("lib", expected)]
    again = _daemon(tmp_path, clock, catch_up_grace=3600)  # a restart does not alert again
    with open_store(tmp_path / "s.db") as store:
        again._recover(store)
    again._scheduler = _Scheduler()
    again._heartbeat(again._context())
    assert len(calls) == 2


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


def test_endpoint_serves_healthz_metrics_and_report(tmp_path: Path) -> None:
    from prometheus_client import CollectorRegistry, Counter

    state = {"ok": True}
    registry = CollectorRegistry()
    Counter("secscan_probe", "probe", registry=registry).inc()
    report = tmp_path / "report.html"
    report.write_text("<h1>report</h1>")

    def check() -> health.Health:
        return health.Health(state["ok"], "ok" if state["ok"] else "late", None, SLOT, SLOT + GRACE)

    server = health.HealthServer(("127.0.0.1", 0), check, registry, lambda: report)
    server.start()
    host, port = server.address
    base = f"http://{host}:{port}"
    try:
        status, body, kind = _get(base + "/healthz")
        assert status == 200 and kind == "application/json" and json.loads(body)["status"] == "ok"
        state["ok"] = False
        status, body, _ = _get(base + "/healthz")
        assert status == 503 and json.loads(body) == {
            "status": "failing", "reason": "late", "last_nightly": None,
            "expected": SLOT.isoformat(), "overdue_at": (SLOT + GRACE).isoformat(), "failing_targets": {},
        }  # fmt: skip
        status, body, kind = _get(base + "/metrics")
        assert status == 200 and kind.startswith("text/plain") and b"secscan_probe_total 1.0" in body
        assert _get(base + "/report")[:2] == (200, b"<h1>report</h1>")
        assert _get(base + "/etc/passwd")[0] == 404
    finally:
        server.stop()


def test_healthz_fails_when_the_nightly_run_is_overdue(tmp_path: Path) -> None:
    """Driven by an injected clock (it used wall time and failed under load): a nightly slot that
    has not completed ``grace`` after its time turns /healthz to 503, on the real endpoint."""
    clock = [SLOT - timedelta(days=1)]
    _catch_up(tmp_path, clock[0])  # the daemon meets this database a day before the slot
    daemon = _daemon(tmp_path, clock, catch_up_grace=2)
    with open_store(tmp_path / "s.db") as store:
        daemon._recover(store)
    daemon._scheduler = _Scheduler()
    server = health.HealthServer(("127.0.0.1", 0), daemon.health, daemon.metrics.registry, lambda: None)
    server.start()
    url = "http://{}:{}/healthz".format(*server.address)
    try:
        for now, code in ((SLOT - timedelta(seconds=1), 200), (SLOT + timedelta(seconds=2), 200)):
            clock[0] = now
            daemon._heartbeat(daemon._context())
            assert _get(url)[0] == code, now  # the slot is due, still within its grace
        clock[0] = SLOT + timedelta(seconds=2, microseconds=1)  # the run hangs: nothing completed
        daemon._heartbeat(daemon._context())
        status, body, _ = _get(url)
        verdict = json.loads(body)
        assert status == 503 and verdict["status"] == "failing" and "has not completed" in verdict["reason"]
        assert verdict["expected"] == SLOT.isoformat()
    finally:
        server.stop()
