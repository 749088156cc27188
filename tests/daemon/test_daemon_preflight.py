"""``secscan daemon`` refuses at start what would fail every nightly run: an unknown scanner, a
missing per-target config, a state folder that cannot be created, a ``[report] path`` that is a
folder, a cron that never fires. Exit 2, one line naming the key, before the database is
created or the health endpoint opened.

Before the fix the daemon migrated the database, served /healthz and failed hours later at the
scheduled scan. The refusals run as subprocesses: a daemon that starts anyway would block a test
in-process (here it is killed at the timeout, and the exit code tells).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from secscan.config.settings import load_settings
from secscan.core.errors import ConfigError
from secscan.daemon.service import Daemon

APP = Path(__file__).resolve().parents[2] / "examples" / "vulnerable-app"

CASES = {
    "scanner": ('scanners = ["nosuch"]\n', "", "[[daemon.targets]] 'app': scanners nosuch: no such scanner; "),
    "config": (
        'config = "/nonexistent.toml"\n', "",
        "[[daemon.targets]] 'app': config /nonexistent.toml does not exist; fix the path or remove the key",
    ),
    "state_dir": (
        "", 'state_dir = "/etc/passwd/x"\n',
        "[daemon] state_dir /etc/passwd/x cannot be created: /etc/passwd is not a folder; pick another state_dir",
    ),
    "nightly": ("", 'nightly = "0 0 30 2 *"\n', "'daemon.nightly' cron expression '0 0 30 2 *' never fires"),
    "maintenance": ("", 'maintenance = "0 3 31 4 *"\n', "'daemon.maintenance' cron expression '0 3 31 4 *' never"),
}  # fmt: skip


def _config(tmp_path: Path, target_keys: str = "", daemon_keys: str = "", head: str = "") -> Path:
    config = tmp_path / "d.toml"
    config.write_text(
        f'{head}[daemon]\nhealth_listen = "127.0.0.1:0"\n{daemon_keys}'
        f'[[daemon.targets]]\npath = "{APP}"\nname = "app"\n{target_keys}'
    )
    return config


def _daemon(tmp_path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secscan", "daemon", "--config", str(config), "--db", str(tmp_path / "db" / "s.db")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_daemon_refuses_at_start_what_would_fail_the_nightly_run(tmp_path: Path, case: str) -> None:
    target_keys, daemon_keys, expected = CASES[case]
    config = _config(tmp_path, target_keys, daemon_keys)
    done = _daemon(tmp_path, config)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"secscan: error: {config}: ") and done.stderr.count("\n") == 1
    assert expected in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.toml"]  # no database, no lock folder


def test_a_report_path_that_is_a_folder_is_refused_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    config = _config(tmp_path, head=f'[report]\npath = "{folder}"\n')
    done = _daemon(tmp_path, config)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"secscan: error: {config}: cannot write [report] path {folder}: it is a folder; give a file name in it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.toml", "reports"] and not any(folder.iterdir())


def test_a_target_s_scanners_are_looked_up_in_its_own_config(tmp_path: Path) -> None:
    """The target's scanners are looked up in the settings it is scanned with: its own config."""
    own = tmp_path / "own.toml"
    own.write_text('[scanners.extra]\ncommand = ["true", "{output}"]\n')
    config = _config(tmp_path, f'config = "{own}"\nscanners = ["extra"]\n')
    Daemon(load_settings(config), config_path=config, db=str(tmp_path / "s.db"))  # known there: accepted
    with pytest.raises(ConfigError, match=r"'app': scanners extra: no such scanner"):
        Daemon(load_settings(_config(tmp_path, 'scanners = ["extra"]\n')), db=str(tmp_path / "s.db"))
    assert not (tmp_path / "s.db").exists()


def test_the_sarif_folder_beside_the_database_must_be_creatable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = load_settings(_config(tmp_path))
    with pytest.raises(
        ConfigError, match=r"the nightly SARIF folder .*file/sarif cannot be created: .*file is not"
    ):
        Daemon(settings, db=str(blocker / "s.db"))
    Daemon(settings, db=str(tmp_path / "new" / "s.db"))  # a folder still to be created is fine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.toml", "file"]


def test_a_reload_that_fails_the_start_checks_keeps_the_running_configuration(tmp_path: Path) -> None:
    config = _config(tmp_path)
    daemon = Daemon(load_settings(config), config_path=config, db=str(tmp_path / "s.db"))
    before = daemon._settings
    _config(tmp_path, 'scanners = ["nosuch"]\n')
    daemon._apply_reload()  # no scheduler is needed: the new configuration is refused first
    assert daemon._settings is before
