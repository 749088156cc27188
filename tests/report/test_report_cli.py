"""``secscan report`` as main() runs it: formats, stdout, period, errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from report_history import History

from secscan.cli import main as cli
from secscan.store import Store

DB = tuple[Store, History]


def _db(store: Store) -> str:
    """What ``--db`` takes for ``store``: its file, or its PostgreSQL URL."""
    database = store.database  # type: ignore[attr-defined]
    return str(getattr(database, "path", None) or database.conninfo)


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


def test_new_report_keys_in_a_config(
    history_db: DB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = history_db
    config = tmp_path / "secscan.toml"
    config.write_text(
        '[report]\nformat = "json"\nscore_baseline = 40\nexpiring_days = 30\n'
        'areas = { "bandit" = "infrastructure" }\n'
    )
    out = tmp_path / "r.json"
    assert cli.main(["report", "--db", _db(store), "--config", str(config), "--output", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["score"]["baseline"] == 40 and doc["triage"]["expiring_within_s"] == 30 * 86400
    infra = next(a for a in doc["score"]["areas"] if a["area"] == "infrastructure")
    assert sum(infra["open"].values()) > 0  # bandit's findings, filed where the config says
    config.write_text('[report]\nareas = { "bandit" = "frontend" }\n')
    assert cli.main(["report", "--db", _db(store), "--config", str(config), "--output", str(out)]) == 2
    assert "areas" in capsys.readouterr().err
    config.write_text("[report]\nscore_baseline = 101\n")
    assert cli.main(["report", "--db", _db(store), "--config", str(config), "--output", str(out)]) == 2


def test_the_report_loads_neither_a_plotting_library_nor_the_scanners(history_db: DB, tmp_path: Path) -> None:
    """``secscan report`` stays light (issue 19): the charts are templates, and the command does not
    import the scan pipeline. Timings are in benchmarks/bench_report.py."""
    store, _ = history_db
    out = tmp_path / "r.html"
    code = (
        "import sys; from secscan.cli import main as cli; rc = cli.main(sys.argv[1:]); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'numpy', 'PIL', 'fontTools') or m in ('secscan.app.pipeline', 'secscan.app.run', "
        "'secscan.scanners.registry', 'secscan.cli.console')); print(rc, heavy)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "report", "--db", _db(store), "--output", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == "0 []" and out.read_text().count('class="chart"') == 5


def test_pyproject_has_no_plotting_dependency() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    deps = text[text.index("dependencies = [") : text.index("[project.optional-dependencies]")]
    for name in ("matplotlib", "numpy", "pillow", "fonttools"):
        assert f'"{name}' not in deps.lower()
