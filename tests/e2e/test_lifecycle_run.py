"""End to end: three scans of one target into one database (issue: finding lifecycle)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import textwrap
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from secscan.core.model import FindingState
from secscan.store import open_store
from tests.conftest import EXAMPLE
from tests.e2e.test_run_cli import secscan

pytestmark = pytest.mark.e2e


def _config(path: Path, bandit_timeout: float = 120) -> Path:
    path.write_text(
        textwrap.dedent(f"""
        [scanners.bandit]
        timeout = {bandit_timeout}
        [scanners.detect-secrets]
        exclude = ["osv"]
        [scanners.pip-audit]
        osv_db = "app/osv"
    """)
    )
    return path


def _scan(
    tmp: Path, target: Path, config: Path, db: Path, n: int
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    sarif = tmp / f"scan{n}.sarif"
    proc = secscan(
        "run",
        target,
        "--config",
        config,
        "--db",
        db,
        "--format",
        "json",
        "--sarif",
        sarif,
        "--fail-on",
        "none",
        cwd=tmp,
    )
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), json.loads(sarif.read_text())


def _insert_above(path: Path, lines: int) -> None:
    path.write_text("# inserted\n" * lines + path.read_text())


def test_three_scans_move_delete_timeout(tmp_path: Path) -> None:
    target = tmp_path / "app"
    shutil.copytree(EXAMPLE, target)
    db = tmp_path / "lifecycle.db"

    # 1. baseline
    code, first, _ = _scan(tmp_path, target, _config(tmp_path / "ok.toml"), db, 1)
    assert code == 0
    assert first["findings"] and {f["state"] for f in first["findings"]} == {"new"}
    by_id = {f["id"]: f for f in first["findings"]}

    # 2. lines inserted above every finding, one file deleted
    for name in ("handlers.py", "settings.py"):
        _insert_above(target / "app" / name, 7)
    _insert_above(target / "requirements.txt", 3)
    _insert_above(target / "worker" / "poetry.lock", 5)
    (target / "app" / "keys.py").unlink()
    code, second, sarif = _scan(tmp_path, target, tmp_path / "ok.toml", db, 2)
    assert code == 0
    gone = {i for i, f in by_id.items() if f["path"] == "app/keys.py"}
    assert gone, "the deleted file had findings"
    assert {f["id"] for f in second["fixed"]} == gone
    moved = {f["id"]: f for f in second["findings"]}
    assert set(moved) == set(by_id) - gone  # same ids: moving code keeps identity
    assert {f["state"] for f in moved.values()} == {"unchanged"}
    for i, f in moved.items():
        shift = {"requirements.txt": 3, "worker/poetry.lock": 5}.get(f["path"], 7)
        assert f["line"] == by_id[i]["line"] + shift
    states = {
        r["properties"]["secscan-id"]: r["baselineState"] for run in sarif["runs"] for r in run["results"]
    }
    assert {states[i] for i in gone} == {"absent"}
    assert all(states[i] in ("unchanged", "updated") for i in moved)

    # 3. bandit forced to time out, and its findings' code deleted meanwhile: nothing of bandit closes
    (target / "app" / "handlers.py").write_text("# all fixed?\n")
    code, third, _ = _scan(tmp_path, target, _config(tmp_path / "slow.toml", bandit_timeout=0.01), db, 3)
    assert code == 3
    assert {s["name"]: s["status"] for s in third["scanners"]}["bandit"] == "timeout"
    assert third["fixed"] == []
    with open_store(db) as store:
        tracked = {t.id: t for t in store.list_findings()}
    bandit_open = [t for t in tracked.values() if t.tool == "bandit" and t.path == "app/handlers.py"]
    assert bandit_open and all(t.state is not FindingState.FIXED for t in bandit_open)
    assert all(tracked[i].state is FindingState.FIXED for i in gone)


def test_new_findings_get_the_commit_time_of_their_line(tmp_path: Path) -> None:
    import os
    import subprocess
    from datetime import UTC, datetime

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text('import subprocess\n\n\nsubprocess.call("ls", shell=True)\n')
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": "2026-11-01T08:00:00Z",
        "GIT_COMMITTER_DATE": "2026-11-02T09:30:00Z",
    }
    for argv in (["git", "init", "-q"], ["git", "add", "app.py"], ["git", "commit", "-q", "-m", "x"]):
        subprocess.run(argv, cwd=repo, env=env, check=True)
    db = tmp_path / "db.sqlite"
    proc = secscan(
        "run",
        repo,
        "--db",
        db,
        "--scanner",
        "bandit",
        "--fail-on",
        "none",
        "--sarif",
        tmp_path / "o.sarif",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    with open_store(db) as store:
        found = {t.rule_id: t for t in store.list_findings()}
    assert found["B602"].introduced_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_a_triaged_finding_closes_when_its_file_is_deleted(tmp_path: Path) -> None:
    target = tmp_path / "app"
    shutil.copytree(EXAMPLE, target)
    db = tmp_path / "lifecycle.db"
    config = _config(tmp_path / "ok.toml")
    _, first, _ = _scan(tmp_path, target, config, db, 1)
    key = next(f for f in first["findings"] if f["path"] == "app/keys.py")
    proc = secscan(
        "triage", key["id"], "--as", "accepted-risk", "--reason", "demo key", "--db", db, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    (target / "app" / "keys.py").unlink()
    _, second, _ = _scan(tmp_path, target, config, db, 2)
    assert [f["id"] for f in second["fixed"]] == [key["id"]]


def test_a_suppression_reason_is_stored_without_the_secrets_the_run_found(tmp_path: Path) -> None:
    """The suppressions file is the scanned repository's: a reason quoting a credential (one
    detect-secrets finds in that very file, one of a token format) was stored as the decision's
    reason and shown by `secscan show` and the report."""
    repo = tmp_path / "repo"
    (repo / ".secscan").mkdir(parents=True)
    (repo / "a.py").write_text('import pickle\npickle.loads(b"")\n')
    token = "ghp_" + "Qz9xW8vU7tS6rR5qP4oN3mM2lL1kK0jJ9iHx"
    (repo / ".secscan/suppressions.toml").write_text(
        '[[suppression]]\nrule = "B301"\nexpires = 2099-01-01\n'
        f"reason = \"the loader is fine; old api_key = 'Zq8Sup9ressKey7xW' and {token} were rotated\"\n"
    )
    db = tmp_path / "db.sqlite"
    proc = secscan(
        "run", repo, "--scanner", "bandit", "--scanner", "detect-secrets", "--db", db,
        "--sarif", tmp_path / "out.sarif", "--fail-on", "none", "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [b301] = [f for f in json.loads(proc.stdout)["findings"] if f["rule"] == "B301"]
    assert b301["state"] == "triaged"
    shown = secscan("show", b301["id"], "--db", db, cwd=tmp_path)
    assert "the loader is fine" in shown.stdout
    with closing(sqlite3.connect(db)) as conn:
        dump = "\n".join(conn.iterdump())
    assert "the loader is fine" in dump
    for text in (shown.stdout, dump):
        assert "Zq8Sup9ressKey7xW" not in text and token[4:16] not in text
