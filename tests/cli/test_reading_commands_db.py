"""Commands that only read a database refuse one that is not there, or is no database, and create
nothing; a run refused for its ``--db`` or ``--scanner`` leaves nothing behind either.

Before the fix ``secscan status --db typo/x.db`` (and ``alerts``, ``github status``) created
``typo/`` and an empty database and exited 0, ``cache stats --db /dev/null`` created
``/dev/secscan-cache.db``, ``cache clear --db <a text file>`` reported success, and a run refused
for a ``--db`` that is no database left a ``<db>.locks/`` folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from secscan.cli.main import main

APP = Path(__file__).resolve().parents[2] / "examples" / "vulnerable-app"

READERS = [
    ["status"],
    ["alerts"],
    ["alerts", "--dead"],
    ["alerts", "retry", "1"],
    ["github", "status"],
    ["cache", "stats"],
    ["cache", "clear"],
    ["findings"],
]


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert (
        captured.out == "" and captured.err.startswith("secscan: error: ") and captured.err.count("\n") == 1
    )
    return captured.err


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("SECSCAN_DB", raising=False)


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
@pytest.mark.parametrize("db", ["typo/x.db", "sqlite:///typo/x.db"])
def test_a_missing_database_is_refused_and_nothing_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], db: str
) -> None:
    assert main([*argv, "--db", db]) == 2
    err = _one_error(capsys)
    assert f"no database at {tmp_path / 'typo' / 'x.db'}; record a run first" in err
    assert _tree(tmp_path) == []


def test_alerts_deliver_of_a_missing_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("")
    assert main(["alerts", "deliver", "--config", str(config), "--db", "typo/x.db"]) == 2
    assert "no database at" in _one_error(capsys) and _tree(tmp_path) == ["c.toml"]


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_a_file_that_is_no_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    assert main([*argv, "--db", str(text)]) == 2
    err = _one_error(capsys)
    assert str(text) in err and ("is not an SQLite database" in err or "file is not a database" in err)
    assert _tree(tmp_path) == ["notes.txt"] and text.read_text() == "not a database\n"


@pytest.mark.parametrize("command", ["stats", "clear"])
@pytest.mark.parametrize("db", ["/dev/null", "{tmp}"])
def test_the_cache_commands_refuse_a_db_that_is_no_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, db: str
) -> None:
    before = set(os.listdir("/dev"))
    path = db.format(tmp=tmp_path)
    assert main(["cache", command, "--db", path]) == 2
    err = _one_error(capsys)
    assert f"database {path} is {'a folder' if path == str(tmp_path) else 'not a regular file'}" in err
    assert set(os.listdir("/dev")) <= before and _tree(tmp_path) == []


def test_status_before_the_daemon_ever_ran_shows_the_schedule_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --db: the configured (here the default) database is missing because the daemon has not
    run yet. That is a state, not a typo: status says so and shows what the daemon will do."""
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert (
        f"database: none at {tmp_path / 'state' / 'secscan' / 'secscan.db'} yet; the daemon has not run"
        in out
    )
    assert "nightly" in out and "daemon: not running" in out
    assert main(["status", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["missing_database"] == str(tmp_path / "state" / "secscan" / "secscan.db")
    assert document["runs"] == [] and set(document["outboxes"]) == {"uploads", "alerts"}
    assert _tree(tmp_path) == []


@pytest.mark.parametrize("kind", ["text", "fifo"])
def test_a_run_refused_for_its_database_leaves_no_lock_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    db = tmp_path / "s.db"
    if kind == "fifo":
        os.mkfifo(db)
    else:
        db.write_text("not a database\n")
    code = main(["run", str(APP), "--db", str(db), "--scanner", "posture", "-o", str(tmp_path / "s.sarif")])
    assert code == 2
    assert f"cannot open or migrate database {db}" in _one_error(capsys)
    assert _tree(tmp_path) == ["s.db"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--scanner", "nosuch"], "--scanner nosuch: no such scanner; choose from bandit, "),
        (
            ["--scanner", "lockfile-audit", "--osv-db", "/nonexistent.zip"],
            "OSV database /nonexistent.zip does not",
        ),
    ],
)
def test_a_run_refused_for_its_scanners_creates_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], expected: str
) -> None:
    code = main(["run", str(APP), "--db", str(tmp_path / "s.db"), "-o", str(tmp_path / "s.sarif"), *extra])
    assert code == 2 and expected in _one_error(capsys)
    assert _tree(tmp_path) == []
