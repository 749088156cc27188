"""``--config`` merges over the repository's own ``secscan.toml`` key by key, under the same trust
rules (what comes from the repository may not run a command, page or upload)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.cli_helpers import finding_paths, repo_excluding_vendor, secscan

TOOL = Path(__file__).resolve().parents[1] / "assets" / "sarif" / "fake_tool.py"
FAKE = [sys.executable, str(TOOL), "--stdout", "--target", "{target}", "--exit", "0", "{files}"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return repo_excluding_vendor(tmp_path / "repo")


def test_config_merges_over_the_repositorys_file(repo: Path, tmp_path: Path) -> None:
    alone = secscan("run", repo, "--scanner", "bandit", "--format", "json", cwd=tmp_path)
    assert alone.returncode == 1, alone.stderr  # a high finding, fail_on high
    assert finding_paths(alone.stdout) == {"app.py"}
    trusted = tmp_path / "notify-only.toml"  # a trusted-only section and one scan key
    trusted.write_text('[scan]\nfail_on = "none"\n\n[report]\nsince_days = 7\n')
    merged = secscan(
        "run", repo, "--config", trusted, "--scanner", "bandit", "--format", "json", cwd=tmp_path
    )
    assert merged.returncode == 0, merged.stderr  # fail_on from --config ...
    assert finding_paths(merged.stdout) == {"app.py"}  # ... and the repository's exclude kept


def test_config_key_wins_over_the_repositorys_key(repo: Path, tmp_path: Path) -> None:
    trusted = tmp_path / "c.toml"
    trusted.write_text("[scan]\nextend_exclude = []\n")
    proc = secscan("run", repo, "--config", trusted, "--scanner", "bandit", "--format", "json", cwd=tmp_path)
    assert finding_paths(proc.stdout) == {"app.py", "vendor/lib.py"}, proc.stderr


def test_the_repositorys_part_still_obeys_the_trust_rules(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = [sys.executable, "-c", f"open({str(marker)!r}, 'w')", "{files}"]
    (repo / "secscan.toml").write_text(f'[scanners.evil]\ncommand = {json.dumps(evil)}\noutput = "stdout"\n')
    trusted = tmp_path / "c.toml"
    trusted.write_text('[scan]\nfail_on = "none"\n')
    proc = secscan("run", repo, "--config", trusted, cwd=tmp_path)
    assert proc.returncode == 2
    assert "[scanners.evil] command comes from the scanned repository" in proc.stderr
    assert not marker.exists() and not (tmp_path / "secscan.sarif").exists()
    # a tool of the trusted config: the repository may tune its timeout, never its command
    trusted.write_text(f'[scanners.fake]\ncommand = {json.dumps(FAKE)}\noutput = "stdout"\n')
    (repo / "secscan.toml").write_text("[scanners.fake]\ntimeout = 60\n")
    ok = secscan("run", repo, "--config", trusted, "--scanner", "fake", "--format", "json", cwd=tmp_path)
    assert ok.returncode == 1, ok.stderr
    (repo / "secscan.toml").write_text(f"[scanners.fake]\ncommand = {json.dumps(evil)}\n")
    refused = secscan("run", repo, "--config", trusted, "--scanner", "fake", cwd=tmp_path)
    assert refused.returncode == 2 and "command comes from the scanned repository" in refused.stderr
    assert not marker.exists()
    # [notify] from the repository is refused even beside a trusted --config
    (repo / "secscan.toml").write_text('[notify.ops]\ntype = "slack"\n')
    notify = secscan("run", repo, "--config", trusted, cwd=tmp_path)
    assert notify.returncode == 2 and "[notify] comes from the scanned repository" in notify.stderr


def test_the_repositorys_own_file_given_as_config_is_trusted(repo: Path, tmp_path: Path) -> None:
    (repo / "secscan.toml").write_text(f'[scanners.fake]\ncommand = {json.dumps(FAKE)}\noutput = "stdout"\n')
    proc = secscan(
        "run", repo, "--config", repo / "secscan.toml", "--scanner", "fake", "--format", "json", cwd=tmp_path
    )
    assert proc.returncode == 1, proc.stderr
    assert [s["status"] for s in json.loads(proc.stdout)["scanners"]] == ["ok"]


def test_the_repositorys_osv_db_survives_a_notify_only_config(tmp_path: Path) -> None:
    """The case the issue reported: a trusted config with only [notify] dropped the repository's
    excludes and ``osv_db``; both stay, resolved inside the repository."""
    from secscan.config.settings import load_settings

    repo = tmp_path / "repo"
    (repo / "osv").mkdir(parents=True)
    own = '[scan]\nextend_exclude = ["vendor"]\n[scanners.pip-audit]\nosv_db = "osv"\n'
    (repo / "secscan.toml").write_text(own)
    trusted = tmp_path / "notify.toml"
    trusted.write_text('[notify.ops]\ntype = "webhook"\nurl_env = "HOOK"\n')
    settings = load_settings(trusted, repo)
    assert settings.osv_db("pip-audit") == settings.osv_db("lockfile-audit") == (repo / "osv").resolve()
    assert "vendor" in settings.scan.excludes
    assert set(settings.notify.channels) == {"ops"}
    assert settings.source == trusted  # relative paths of [notify] resolve beside the trusted file
