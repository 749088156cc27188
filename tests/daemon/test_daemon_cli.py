"""``secscan status`` without a daemon, ``secscan daemon`` refusals, and JSON logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from secscan.cli.main import _setup_logging, main


def test_status_without_a_daemon_shows_the_configured_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "d.toml"
    config.write_text(f'[daemon]\ndb = "{tmp_path / "s.db"}"\nnightly = "0 2 * * *"\n')
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "daemon: not running" in out and "nightly" in out and "T02:00:00+00:00" in out
    assert main(["status", "--config", str(config), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (
        document["daemon"] is None
        and document["runs"] == []
        and set(document["outboxes"]) == {"uploads", "alerts"}
    )


def test_status_without_config_uses_the_daemon_defaults_of_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``secscan status`` without --config builds only the [daemon] section: its defaults must be
    the whole settings' defaults (the same database, the same schedules)."""
    from secscan.config.daemon import DaemonConfig
    from secscan.config.settings import load_settings

    assert DaemonConfig() == load_settings(None).daemon
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert main(["status", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document["next_runs"]) == {"nightly", "maintenance"} and document["runs"] == []


def test_daemon_without_targets_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "d.toml"
    config.write_text(f'[daemon]\ndb = "{tmp_path / "s.db"}"\n')
    assert main(["daemon", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("secscan: error: ") and "has no targets" in err and err.count("\n") == 1


def test_daemon_with_a_missing_target_path_exits_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "d.toml"
    targets = f'[[daemon.targets]]\npath = "{tmp_path / "nope"}"\n'
    config.write_text(f'[daemon]\ndb = "{tmp_path / "s.db"}"\nhealth_listen = "127.0.0.1:0"\n{targets}')
    done = subprocess.run(  # a subprocess: before the fix the daemon started and served (timeout)
        [sys.executable, "-m", "secscan", "daemon", "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("secscan: error: ") and done.stderr.count("\n") == 1
    assert f"path {tmp_path / 'nope'} does not exist" in done.stderr


def test_json_log_format_is_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        _setup_logging(1, "json")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("secscan.t").exception("failed %s", "here")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    record = json.loads(capsys.readouterr().err.strip())
    assert (
        record["level"] == "error" and record["logger"] == "secscan.t" and record["message"] == "failed here"
    )
    assert "ValueError: boom" in record["exception"]
