"""``SECSCAN_*`` environment variables stand for the common options; flags win over them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_helpers import finding_paths, repo_excluding_vendor, secscan


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return repo_excluding_vendor(tmp_path / "repo")


def test_environment_stands_for_the_common_options(repo: Path, tmp_path: Path) -> None:
    trusted = tmp_path / "c.toml"
    trusted.write_text("[scan]\nextend_exclude = []\n")
    db = tmp_path / "env.db"
    env = {"SECSCAN_CONFIG": str(trusted), "SECSCAN_DB": str(db), "SECSCAN_FAIL_ON": "none"}
    proc = secscan("run", repo, "--scanner", "bandit", "--format", "json", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr  # SECSCAN_FAIL_ON
    assert finding_paths(proc.stdout) == {"app.py", "vendor/lib.py"}  # SECSCAN_CONFIG
    assert db.is_file() and not (tmp_path / ".state" / "secscan" / "secscan.db").exists()  # SECSCAN_DB
    listed = secscan("findings", "--format", "json", cwd=tmp_path, env=env)  # every command's --db
    assert listed.returncode == 0, listed.stderr
    assert {f["path"] for f in json.loads(listed.stdout)["findings"]} == {"app.py", "vendor/lib.py"}


def test_flags_win_over_the_environment(repo: Path, tmp_path: Path) -> None:
    db = tmp_path / "flag.db"
    env = {
        "SECSCAN_FAIL_ON": "none",
        "SECSCAN_DB": str(tmp_path / "env.db"),
        "SECSCAN_CONFIG": "/nonexistent",
    }
    flags = ("--fail-on", "high", "--db", db, "--config", repo / "secscan.toml")
    proc = secscan("run", repo, "--scanner", "bandit", *flags, cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    assert db.is_file() and not (tmp_path / "env.db").exists()


def test_a_bad_environment_value_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    proc = secscan("run", repo, cwd=tmp_path, env={"SECSCAN_FAIL_ON": "urgent"})
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert "SECSCAN_FAIL_ON" in line and "critical, high, medium, low, none" in line


def test_osv_db_from_the_environment(repo: Path, tmp_path: Path) -> None:
    (repo / "requirements.txt").write_text("jinja2==2.10\n")
    missing = tmp_path / "no-such-osv"
    proc = secscan("run", repo, "--scanner", "pip-audit", cwd=tmp_path, env={"SECSCAN_OSV_DB": str(missing)})
    assert proc.returncode in (2, 3)
    assert str(missing) in proc.stderr + proc.stdout


def test_fail_on_choices_mirror_the_settings() -> None:
    from typing import get_args

    from secscan.cli.parser import FAIL_ON
    from secscan.config.settings import FailOn

    assert get_args(FailOn) == FAIL_ON
