"""``secscan db migrate`` and ``secscan db copy``: an installation moves from SQLite to PostgreSQL
(and back) with its history and triage, checked finding by finding after the copy."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from secscan.cli import main as cli
from secscan.store import FindingQuery, Store, open_store
from secscan.store.sqlite.migrate import SCHEMA_REVISION
from secscan.store.transfer import copy_store, verify

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_history import T0, build_history


def _same_lifecycle(a: Store, b: Store) -> int:
    """Every finding, its history and the triage decisions of the period agree; returns how many
    findings were compared."""
    findings = a.list_findings(FindingQuery())
    assert findings and b.list_findings(FindingQuery()) == findings
    for f in findings:
        assert b.history(f.fingerprint, f.target) == a.history(f.fingerprint, f.target)
    start, end = T0 - timedelta(days=1), T0 + timedelta(days=60)
    assert b.evidence(start, end) == a.evidence(start, end)  # decisions, expiries, events, runs
    assert b.runs(limit=1000) == a.runs(limit=1000)
    return len(findings)


def test_copy_from_sqlite_to_postgresql_and_back(
    tmp_path: Path, postgres_empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "a.db"
    with open_store(source) as store:
        build_history(store, {"alpha": str(tmp_path / "alpha"), "beta": str(tmp_path / "beta")})
    assert cli.main(["db", "copy", "--from", f"sqlite:///{source}", "--to", postgres_empty_url]) == 0
    out = capsys.readouterr().out
    assert "every row verified against the source" in out
    with open_store(source) as a, open_store(postgres_empty_url) as b:
        assert _same_lifecycle(a, b) > 20
        assert f"copied {len(a.list_findings())} findings" in out
        back = tmp_path / "back.db"
        with open_store(back) as c:
            copy_store(b, c)
            assert verify(b, c) == []
            _same_lifecycle(a, c)
    with open_store(postgres_empty_url) as b:  # the copy goes on working: new ids follow the copied
        build_history(b, {"gamma": str(tmp_path / "gamma")}, days=2)
        assert b.list_findings(FindingQuery(target="gamma"))


def test_copy_refuses_a_destination_with_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for db in (first, second):
        with open_store(db) as store:
            build_history(store, {"alpha": str(tmp_path / "alpha")}, days=1)
    assert cli.main(["db", "copy", "--from", str(first), "--to", str(second)]) == 2
    assert "already holds data" in capsys.readouterr().err
    assert cli.main(["db", "copy", "--from", str(tmp_path / "none.db"), "--to", str(second)]) == 2
    assert "no database at" in capsys.readouterr().err


def test_migrate_creates_or_upgrades_the_schema(
    tmp_path: Path, postgres_empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for db in (str(tmp_path / "new.db"), postgres_empty_url):
        assert cli.main(["db", "migrate", "--db", db]) == 0
        assert capsys.readouterr().out.strip() == f"database is at schema revision {SCHEMA_REVISION}"
