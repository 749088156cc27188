"""Every output path is checked before any work starts: exit 2 with one line, no run recorded,
nothing left behind (issue 13)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secscan.cli import main as cli
from secscan.store import open_store

BAD_OUTPUTS = [
    ("{tmp}/no-such-folder/out.sarif", "folder {tmp}/no-such-folder does not exist"),
    ("/proc/secscan-out.sarif", "cannot create a file in /proc"),
    ("{tmp}/a-folder", "it is a folder"),
    ("/dev/null", "it is not a regular file"),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    (tmp_path / "a-folder").mkdir()
    return root


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.mark.parametrize(("output", "needle"), BAD_OUTPUTS)
def test_run_refuses_an_unwritable_sarif_path_before_scanning(
    output: str, needle: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "state" / "secscan.db"
    before = _listing(tmp_path)
    sarif = output.format(tmp=tmp_path)
    code = cli.main(["run", str(repo), "--db", str(db), "--scanner", "bandit", "--sarif", sarif])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle.format(tmp=tmp_path) in lines[0], err
    assert "bandit" not in err  # no scanner started (the progress line names each scanner)
    if db.exists():
        with open_store(db) as store:
            assert store.runs() == ()
    assert _listing(tmp_path) == before  # no probe file, no half-written log
    assert _listing(tmp_path / "a-folder") == []


def test_a_writable_sarif_path_leaves_no_probe_file(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code = cli.main(["run", str(repo), "--db", str(tmp_path / "s.db"), "--scanner", "bandit",
                     "--sarif", str(out / "x.sarif"), "--fail-on", "none"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert _listing(out) == ["x.sarif"]


@pytest.mark.parametrize(("output", "needle"), BAD_OUTPUTS)
def test_report_refuses_an_unwritable_output_before_reading_the_database(
    output: str, needle: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    with open_store(db):
        pass
    before = _listing(tmp_path)
    code = cli.main(["report", "--db", str(db), "--output", output.format(tmp=tmp_path)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle.format(tmp=tmp_path) in lines[0], err
    assert _listing(tmp_path) == before and _listing(tmp_path / "a-folder") == []
