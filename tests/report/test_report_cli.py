"""``secscan report`` as main() runs it: formats, stdout, period, errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_history import History

from secscan import cli
from secscan.store import Store

DB = tuple[Store, History]


def _db(store: Store) -> str:
    return str(store.database.path)  # type: ignore[attr-defined]


def test_report_to_files(history_db: DB, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = history_db
    for fmt in ("html", "md", "json"):
        out = tmp_path / f"r.{fmt}"
        code = cli.main(
            ["report", "--db", _db(store), "--format", fmt, "--output", str(out), "--since", "12w"]
        )
        assert code == 0, capsys.readouterr().err
        assert out.stat().st_size > 1000
        assert f"report written to {out}" in capsys.readouterr().err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["since_s"] == 12 * 7 * 86400 and doc["targets"] == ["alpha", "beta"]


def test_report_to_stdout_for_one_target(history_db: DB, capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = history_db
    code = cli.main(["report", "--db", _db(store), "--format", "json", "--output", "-", "--target", "beta"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["targets"] == ["beta"] and {g["name"] for g in doc["top_targets"]} == {"beta"}


def test_period_on_stdout(history_db: DB, capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = history_db
    code = cli.main(["report", "--db", _db(store), "--format", "md", "--output", "-", "--period", "2026-11"])
    assert code == 0 and capsys.readouterr().out.startswith("# Compliance evidence: 2026-11")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "month 13"),
        (["--since", "30x"], "duration"),
        (["--target", "gamma"], "no target named 'gamma'"),
        (["--format", "pdf"], "invalid choice"),
    ],
)
def test_bad_requests_exit_2(
    history_db: DB, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    store, _ = history_db
    code = cli.main(["report", "--db", _db(store), "--output", str(tmp_path / "r.html"), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_missing_database_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["report", "--db", str(tmp_path / "none.db"), "--output", str(tmp_path / "r.html")])
    assert code == 2 and "no database at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_config_sets_the_defaults(history_db: DB, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, _ = history_db
    config = tmp_path / "secscan.toml"
    config.write_text('[report]\nformat = "md"\nsince_days = 7\nmax_rows = 2\n')
    out = tmp_path / "r.out"
    assert cli.main(["report", "--db", _db(store), "--config", str(config), "--output", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Security dashboard") and "trends over the last 7d" in text
    assert "Showing the 2 due first of" in text
    config.write_text('[report]\nrepositories = { beta = "http://insecure.example/acme/beta" }\n')
    assert cli.main(["report", "--db", _db(store), "--config", str(config), "--output", str(out)]) == 2
    assert "repositories" in capsys.readouterr().err
