"""A scanner left with nothing of its kind to scan closes the findings of the files deleted since.

Deleting the last Python file, requirement file or lockfile makes its scanner ``skipped`` (nothing
to scan). Skipped scanners close nothing, so those findings stayed open for ever (and breached
their SLA, paging about code that no longer exists), while deleting one file of two closed its
findings. A skip because nothing is left is an ``ok`` scan of no file: the deleted files' findings
close. A tree with no file at all closes nothing (a checkout that is not there is not a fix).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from secscan.app.run import RunRequest, RunResult, run
from secscan.config.settings import build_settings
from secscan.core.model import FindingState, ScannerStatus
from secscan.store import FindingQuery, open_store
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.e2e

BANDIT_HIT = "import subprocess\nsubprocess.call(cmd, shell=True)\n"


def _scan(root: Path, tmp: Path, only: tuple[str, ...], osv: bool = False) -> RunResult:
    raw = {"scanners": {"pip-audit": {"osv_db": str(EXAMPLE / "osv")}}} if osv else {}
    request = RunRequest(
        root, build_settings(raw), sarif_path=tmp / "out.sarif", only=only, osv_db=EXAMPLE / "osv" if osv else None,
        db=str(tmp / "secscan.db"), target_name="app", use_cache=False,
    )  # fmt: skip
    return run(request)


def _open(tmp: Path, tool: str) -> list[str]:
    with open_store(tmp / "secscan.db") as store:
        return sorted(t.path for t in store.list_findings(FindingQuery(target="app")) if t.tool == tool and t.is_open)


def test_deleting_the_last_python_file_closes_its_bandit_findings(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "a.py").write_text(BANDIT_HIT)
    (root / "README.md").write_text("docs\n")
    first = _scan(root, tmp_path, ("bandit",))
    assert first.run.findings and _open(tmp_path, "bandit") == ["a.py", "a.py"]

    (root / "a.py").unlink()
    second = _scan(root, tmp_path, ("bandit",))
    [bandit] = second.run.scanners
    assert bandit.status is ScannerStatus.SKIPPED and bandit.nothing_to_scan, bandit.reason
    assert {f.location.path for f in second.run.fixed} == {"a.py"} and len(second.run.fixed) == 2
    assert _open(tmp_path, "bandit") == []
    with open_store(tmp_path / "secscan.db") as store:
        [fixed, *_] = store.list_findings(FindingQuery(target="app", states=frozenset({FindingState.FIXED})))
        reasons = [e.reason for e in store.history(fixed.fingerprint)]
    assert "bandit had nothing of its kind left to scan; a.py was deleted" in reasons


def test_deleting_the_requirement_file_and_lockfile_closes_their_findings(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    shutil.copy(EXAMPLE / "requirements.txt", root / "requirements.txt")
    (root / "worker").mkdir()
    shutil.copy(EXAMPLE / "worker" / "poetry.lock", root / "worker" / "poetry.lock")
    (root / "main.py").write_text("x = 1\n")
    only = ("pip-audit", "lockfile-audit")
    _scan(root, tmp_path, only, osv=True)
    assert _open(tmp_path, "pip-audit") and _open(tmp_path, "lockfile-audit")

    (root / "requirements.txt").unlink()
    (root / "worker" / "poetry.lock").unlink()
    second = _scan(root, tmp_path, only, osv=True)
    assert all(s.status is ScannerStatus.SKIPPED and s.nothing_to_scan for s in second.run.scanners)
    assert _open(tmp_path, "pip-audit") == [] and _open(tmp_path, "lockfile-audit") == []


def test_an_empty_tree_closes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "a.py").write_text(BANDIT_HIT)
    _scan(root, tmp_path, ("bandit",))
    (root / "a.py").unlink()
    second = _scan(root, tmp_path, ("bandit",))
    [bandit] = second.run.scanners
    assert bandit.status is ScannerStatus.SKIPPED and second.run.fixed == ()
    assert _open(tmp_path, "bandit") == ["a.py", "a.py"]


def test_a_skip_that_could_not_look_closes_nothing(tmp_path: Path) -> None:
    """lockfile-audit without an OSV database is skipped too, but it could not look: the
    findings of a lockfile that is still there stay open (and so would a deleted one's, were
    the skip not for want of lockfiles)."""
    root = tmp_path / "app"
    (root / "worker").mkdir(parents=True)
    shutil.copy(EXAMPLE / "worker" / "poetry.lock", root / "worker" / "poetry.lock")
    _scan(root, tmp_path, ("lockfile-audit",), osv=True)
    before = _open(tmp_path, "lockfile-audit")
    assert before
    second = _scan(root, tmp_path, ("lockfile-audit",))
    [audit] = second.run.scanners
    assert audit.status is ScannerStatus.SKIPPED and not audit.nothing_to_scan, audit.reason
    assert _open(tmp_path, "lockfile-audit") == before and second.run.fixed == ()
