"""``secscan daemon`` as a real subprocess, with second-level schedules from its config file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from daemon_helpers import (
    Setup,
    cron_at,
    kill_all,
    make_setup,
    processes_with,
    seconds,
    start,
    stop,
    utc_now,
    wait_for,
)

from secscan.app import run as app
from secscan.config.settings import load_settings

EVERY_2S = "*/2 * * * * *"


def _complete_runs(setup: Setup) -> list[str]:
    return [run_id for run_id, status in setup.runs() if status == "complete"]


def test_scheduled_scans_run_are_observable_and_a_second_daemon_is_refused(tmp_path: Path) -> None:
    setup = make_setup(tmp_path)
    config = setup.config(EVERY_2S)
    log = tmp_path / "daemon.log"
    proc = start(config, log, "--log-format", "json")
    try:
        wait_for("two complete scheduled runs", lambda: len(_complete_runs(setup)) >= 2, log=log)
        status, body = setup.health()
        assert status == 200 and json.loads(body)["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{setup.port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'secscan_runs_total{status="complete",target="app"}' in metrics
        assert "secscan_open_findings{severity=" in metrics and 'target="app"' in metrics
        assert 'secscan_last_scanner_status{scanner="bandit",status="ok",target="app"} 1.0' in metrics
        assert "secscan_outbox_items" in metrics or "# HELP secscan_outbox_items" in metrics
        second = subprocess.run(
            [sys.executable, "-m", "secscan", "daemon", "--config", str(config)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 2
        assert second.stderr.startswith("secscan: error: another secscan daemon is already running")
        assert f"pid {proc.pid}" in second.stderr
        shown = subprocess.run(
            [sys.executable, "-m", "secscan", "status", "--config", str(config), "--format", "json"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        document = json.loads(shown.stdout)
        assert f"pid {proc.pid}" in document["daemon"] and "nightly" in document["next_runs"]
        complete = next(r for r in document["runs"] if r["status"] == "complete")  # the newest may be running
        assert {s["name"] for s in complete["scanners"]} == {"bandit", "slowtool"}
        assert document["nightly_slots"][0]["trigger"] in ("scheduled", "catch-up")
    finally:
        stop(proc, log)
    assert proc.returncode == 0
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= records[0].keys()
    assert any(r["message"].startswith("secscan daemon started") for r in records)


def _seed(setup: Setup, config: Path) -> None:
    """One recorded run with the finding in shell.py, then shell.py is deleted (a fix to record)."""
    settings = load_settings(config)
    app.run(app.RunRequest(target=setup.target, settings=settings, sarif_path=setup.root / "seed.sarif",
                           db=str(setup.db), target_name="app"))  # fmt: skip
    assert setup.findings() == {"shell.py": {"new"}}
    (setup.target / "shell.py").unlink()


def _mid_run(setup: Setup, log: Path) -> str:
    """Wait until a run is recorded as running and the slow tool is sleeping in it."""
    wait_for("the slow tool", lambda: processes_with(str(setup.flag)), log=log)
    return wait_for(
        "a running run", lambda: next((r for r, s in setup.runs() if s == "running"), None), log=log
    )


def test_sigterm_mid_run_exits_cleanly_and_leaves_no_scanner(tmp_path: Path) -> None:
    setup = make_setup(tmp_path)
    config = setup.config(EVERY_2S, stop_timeout=10)
    _seed(setup, config)
    setup.flag.touch()
    log = tmp_path / "daemon.log"
    proc = start(config, log)
    try:
        running = _mid_run(setup, log)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert time.monotonic() - began < 10 + 5  # stop_timeout, plus interpreter exit
    finally:
        stop(proc, log)
        leftovers = processes_with(str(setup.flag))
        kill_all(leftovers)
    assert proc.returncode == 0, log.read_text()[-2000:]
    assert leftovers == []
    assert dict(setup.runs())[running] == "interrupted"
    assert setup.findings() == {"shell.py": {"new"}}  # the cancelled scan closed nothing
    assert ("interrupted", "scheduled", 1) in setup.slots() or ("interrupted", "catch-up", 1) in setup.slots()


def _still_alive(pids: list[int], within_s: float) -> list[int]:
    until = time.monotonic() + within_s
    while (alive := [p for p in pids if p in processes_with("")]) and time.monotonic() < until:
        time.sleep(0.05)
    return alive


def _fixed_by(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT r.run_id FROM history h JOIN runs r ON r.id = h.run_id WHERE h.event = 'fixed'"
        )
        return [run_id for (run_id,) in rows]


def test_kill_9_mid_run_then_restart_interrupts_closes_nothing_and_completes(tmp_path: Path) -> None:
    setup = make_setup(tmp_path)
    config = setup.config(EVERY_2S)
    _seed(setup, config)
    setup.flag.touch()
    log = tmp_path / "daemon.log"
    proc = start(config, log)
    try:
        killed = _mid_run(setup, log)
        scanners = processes_with(str(setup.flag))  # the slow tool and its supervisor
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        left = _still_alive(scanners, within_s=2.0)  # the scanners die with the daemon, within 2 s
    finally:
        stop(proc, log)
        kill_all(processes_with(str(setup.flag)))
    assert scanners and left == []
    assert dict(setup.runs())[killed] == "running"
    assert setup.findings() == {"shell.py": {"new"}}
    setup.flag.unlink()
    restarted = start(config, log)
    try:
        wait_for("a complete run after the restart", lambda: _complete_runs(setup)[1:], log=log)
    finally:
        stop(restarted, log)
    runs = dict(setup.runs())
    assert runs[killed] == "interrupted"
    completed = _complete_runs(setup)[1]
    assert setup.findings() == {"shell.py": {"fixed"}}
    fixed_by = _fixed_by(setup.db)
    assert len(fixed_by) >= 1 and set(fixed_by) == {completed}  # never by the killed run
    assert restarted.returncode == 0


def test_catch_up_after_downtime_runs_exactly_once(tmp_path: Path) -> None:
    setup = make_setup(tmp_path)
    log = tmp_path / "daemon.log"
    first = start(setup.config("0 0 1 1 *"), log)  # the daemon meets this database
    try:
        wait_for("the first start", lambda: setup.health()[0] == 200, log=log)
    finally:
        stop(first, log)
    assert first.returncode == 0 and setup.runs() == []
    slot = utc_now() + seconds(2)  # a nightly slot while the daemon is down
    config = setup.config(cron_at(slot))
    wait_for("the slot to pass while the daemon is down", lambda: utc_now() > slot + seconds(1))
    second = start(config, log)
    try:
        wait_for("the catch-up run", lambda: _complete_runs(setup), log=log)
    finally:
        stop(second, log)
    assert setup.slots() == [("done", "catch-up", 1)]
    third = start(config, log)  # the slot ran: another start must not run it again
    try:
        wait_for("the third start", lambda: setup.health()[0] == 200, log=log)
        time.sleep(2)
    finally:
        stop(third, log)
    assert len(setup.runs()) == 1 and setup.slots() == [("done", "catch-up", 1)]


def test_sighup_reloads_the_schedule(tmp_path: Path) -> None:
    setup = make_setup(tmp_path)
    config = setup.config("0 0 1 1 *")  # once a year: nothing runs during the test
    log = tmp_path / "daemon.log"
    proc = start(config, log)
    try:
        wait_for("a healthy daemon", lambda: setup.health()[0] == 200, log=log)
        setup.config(EVERY_2S)
        proc.send_signal(signal.SIGHUP)
        wait_for("a run on the reloaded schedule", lambda: _complete_runs(setup), log=log)
    finally:
        stop(proc, log)
    assert proc.returncode == 0
    assert "configuration reloaded" in log.read_text()
