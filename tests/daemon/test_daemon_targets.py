"""A failing target is visible: the nightly job counts as failed, /healthz is degraded (503 with the
failing targets), a ``target-failed`` alert is queued (paged by default) and resolved when the
target scans again. A target path that does not exist is refused at start and on SIGHUP.

In process, with an injected clock; the scans are real (``secscan run`` of a tiny SARIF tool).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from secscan.config.settings import build_settings, load_settings
from secscan.core.errors import ConfigError
from secscan.daemon import health
from secscan.daemon.service import Daemon
from secscan.store import open_store

HERE = Path(__file__).resolve().parent
SLOWTOOL = HERE / "daemon_slowtool.py"
SLOT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _raw(tmp_path: Path, targets: list[dict[str, Any]], tool_exit: str = "") -> dict[str, Any]:
    tool = [sys.executable, str(SLOWTOOL), "{output}", str(tmp_path / "no-flag")]
    if tool_exit:
        tool = [sys.executable, "-c", f"raise SystemExit({tool_exit})", "{output}"]
    return {
        "scan": {"fail_on": "none"},
        "scanners": {
            "bandit": {"enabled": False}, "detect-secrets": {"enabled": False},
            "pip-audit": {"enabled": False}, "tool": {"command": tool, "timeout": 60},
        },
        "notify": {"pager": {"type": "pagerduty", "routing_key_env": "SECSCAN_TEST_UNSET_KEY"}},
        "daemon": {"targets": targets, "health_listen": "127.0.0.1:0", "db": str(tmp_path / "s.db"),
                   "nightly": "0 2 * * *", "state_dir": str(tmp_path / "sarif")},
    }  # fmt: skip


def _target(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    (path / "a.py").write_text("x = 1\n")
    return path


class _Scheduler:
    running = True

    def get_jobs(self) -> list[Any]:
        return []


def _started(raw: dict[str, Any], clock: list[datetime]) -> Daemon:
    daemon = Daemon(build_settings(raw), clock=lambda: clock[0])
    with open_store(raw["daemon"]["db"]) as store:
        daemon._recover(store)
    daemon._scheduler = _Scheduler()
    daemon._heartbeat(daemon._context())
    return daemon


def _nightly(daemon: Daemon) -> None:
    daemon._job("nightly", daemon._nightly)()  # as the scheduler runs it: errors logged, counted


def _jobs(daemon: Daemon, outcome: str) -> float:
    return daemon.metrics.registry.get_sample_value(
        "secscan_daemon_jobs_total", {"job": "nightly", "outcome": outcome}
    ) or 0.0


def _alerts(db: str) -> list[tuple[str, str, str]]:
    with open_store(db) as store:
        items = store.outbox("alerts").items()
    return [(i.payload["event"], i.payload["action"], i.payload["dedup_key"]) for i in items]


def _get(address: tuple[str, int]) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://{address[0]}:{address[1]}/healthz", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_target_whose_path_vanished_fails_the_job_degrades_health_and_pages(tmp_path: Path) -> None:
    good, gone = _target(tmp_path, "good"), _target(tmp_path, "gone")
    raw = _raw(tmp_path, [{"path": str(good)}, {"path": str(gone)}])
    clock = [SLOT + timedelta(minutes=1)]
    daemon = _started(raw, clock)
    server = health.HealthServer(("127.0.0.1", 0), daemon.health, daemon.metrics.registry, lambda: None)
    server.start()
    try:
        shutil.rmtree(gone)  # deleted after the daemon started
        _nightly(daemon)
        assert _jobs(daemon, "failed") == 1 and _jobs(daemon, "ok") == 0
        daemon._heartbeat(daemon._context())
        code, body = _get(server.address)
        assert code == 503 and body["status"] == "degraded"
        assert list(body["failing_targets"]) == ["gone"]
        assert "does not exist" in body["failing_targets"]["gone"]
        assert "gone" in body["reason"]
        assert _alerts(raw["daemon"]["db"]) == [("target-failed", "trigger", "secscan/target-failed/gone")]

        _target(tmp_path, "gone")  # fixed; the next night scans it
        restarted = _started(raw, clock)  # meanwhile the verdict survives a restart
        assert restarted.health().status == "degraded"
        clock[0] += timedelta(days=1)
        _nightly(daemon)
        daemon._heartbeat(daemon._context())
        code, body = _get(server.address)
        assert (code, body["status"], body["failing_targets"]) == (200, "ok", {})
        assert _jobs(daemon, "ok") == 1
        assert sorted(_alerts(raw["daemon"]["db"])) == [
            ("target-failed", "resolve", "secscan/target-failed/gone"),
            ("target-failed", "trigger", "secscan/target-failed/gone"),
        ]
    finally:
        server.stop()


def test_a_failed_scanner_degrades_health_and_pages_as_scanner_failed(tmp_path: Path) -> None:
    raw = _raw(tmp_path, [{"path": str(_target(tmp_path, "app"))}], tool_exit="2")
    daemon = _started(raw, [SLOT + timedelta(minutes=1)])
    _nightly(daemon)
    verdict = daemon.health()
    assert verdict.status == "degraded" and "tool failed" in verdict.failing["app"]
    assert _jobs(daemon, "failed") == 1
    assert [(e, a) for e, a, _ in _alerts(raw["daemon"]["db"])] == [("scanner-failed", "trigger")]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_target_whose_fetch_fails_pages_target_failed(tmp_path: Path) -> None:
    app = _target(tmp_path, "app")
    subprocess.run(["git", "init", "-q", str(app)], check=True)  # no remote "origin" to fetch from
    raw = _raw(tmp_path, [{"path": str(app), "remote": "origin", "branch": "main"}])
    daemon = _started(raw, [SLOT + timedelta(minutes=1)])
    _nightly(daemon)
    assert "cannot update the checkout" in daemon.health().failing["app"]
    assert _alerts(raw["daemon"]["db"]) == [("target-failed", "trigger", "secscan/target-failed/app")]
    with open_store(raw["daemon"]["db"]) as store:  # the current checkout was still scanned
        assert [r.status.value for r in store.runs("app")] == ["complete"]


def test_a_missing_target_path_is_refused_at_start(tmp_path: Path) -> None:
    raw = _raw(tmp_path, [{"path": str(tmp_path / "no-such-repo"), "name": "app"}])
    with pytest.raises(ConfigError) as info:
        Daemon(build_settings(raw))
    message = str(info.value)
    assert "'app'" in message and "no-such-repo does not exist" in message and "\n" not in message


def test_sighup_with_a_missing_target_path_keeps_the_running_configuration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "daemon.toml"
    app = _target(tmp_path, "app")
    config.write_text(f'[daemon]\ndb = "{tmp_path / "s.db"}"\nnightly = "0 2 * * *"\n'
                      f'[[daemon.targets]]\npath = "{app}"\n')  # fmt: skip
    daemon = Daemon(load_settings(config), config_path=config)
    config.write_text(config.read_text().replace(str(app), str(tmp_path / "typo")).replace("0 2", "0 3"))
    with caplog.at_level(logging.ERROR):
        daemon._apply_reload()
    assert daemon._settings.daemon.nightly == "0 2 * * *"
    assert "reload failed, keeping the running configuration" in caplog.text
    assert "typo does not exist" in caplog.text
