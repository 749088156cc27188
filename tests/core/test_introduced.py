"""MTTD's commit times for a target anywhere in a git work tree: its top or a sub-folder of it."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secscan.app.introduced import introduced_times
from secscan.core import sla
from secscan.core.model import FindingState, Severity, ToolName
from secscan.core.ports.store import TrackedFinding
from secscan.fs import gitinfo

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

DAY1 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
DAY2 = datetime(2024, 2, 20, 18, 30, tzinfo=UTC)
SEEN = datetime(2024, 3, 1, tzinfo=UTC)


def _git(repo: Path, *args: str, when: datetime) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.invalid",
        "GIT_COMMITTER_NAME": "c",
        "GIT_COMMITTER_EMAIL": "c@example.invalid",
        "GIT_AUTHOR_DATE": when.isoformat(),
        "GIT_COMMITTER_DATE": when.isoformat(),
    }
    subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """services/api/app.py (line 2 added on DAY2), services/web/x.py and top.py, all committed."""
    root = tmp_path / "mono"
    api = root / "services" / "api"
    api.mkdir(parents=True)
    (root / "services" / "web").mkdir()
    _git(root, "init", "-q", ".", when=DAY1)
    (api / "app.py").write_text("import os\n")
    (root / "services" / "web" / "x.py").write_text("eval(1)\n")
    (root / "top.py").write_text("eval(2)\n")
    _git(root, "add", ".", when=DAY1)
    _git(root, "commit", "-q", "-m", "one", when=DAY1)
    (api / "app.py").write_text("import os\nos.system(x)\n")
    _git(root, "commit", "-q", "-am", "two", when=DAY2)
    return root


def _finding(path: str, line: int, n: int = 1) -> TrackedFinding:
    return TrackedFinding(
        fingerprint=f"{n:064x}",
        target="t",
        tool=ToolName("bandit"),
        rule_id="B1",
        path=path,
        line=line,
        message="m",
        severity=Severity.HIGH,
        state=FindingState.NEW,
        first_seen=SEEN,
        last_seen=SEEN,
        sla=sla.start(SEEN),
    )


def test_a_target_in_a_sub_folder_gets_commit_times(monorepo: Path) -> None:
    target = monorepo / "services" / "api"
    found = introduced_times(target, [_finding("app.py", 1, 1), _finding("app.py", 2, 2)])
    assert found == {f"{1:064x}": DAY1, f"{2:064x}": DAY2}


def test_the_top_of_the_work_tree_still_works(monorepo: Path) -> None:
    found = introduced_times(monorepo, [_finding("services/api/app.py", 2), _finding("top.py", 1, 2)])
    assert found == {f"{1:064x}": DAY2, f"{2:064x}": DAY1}


def test_blame_stays_inside_the_sub_folder(monorepo: Path) -> None:
    target = monorepo / "services" / "api"
    escaping = [_finding("../web/x.py", 1, 1), _finding("../../top.py", 1, 2), _finding("/etc/passwd", 1, 3)]
    assert introduced_times(target, escaping) == {}


def test_outside_any_work_tree_or_untracked_gives_nothing(monorepo: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x\n")
    assert introduced_times(plain, [_finding("a.py", 1)]) == {}
    (monorepo / "services" / "api" / "new.py").write_text("x\n")  # not committed
    assert introduced_times(monorepo / "services" / "api", [_finding("new.py", 1)]) == {}


def test_work_tree_names_the_top_and_the_sub_folder(monorepo: Path, tmp_path: Path) -> None:
    assert gitinfo.work_tree(monorepo) == (monorepo.resolve(), "")
    assert gitinfo.work_tree(monorepo / "services" / "api") == (monorepo.resolve(), "services/api")
    assert gitinfo.work_tree(tmp_path) is None


def test_a_path_spelled_with_dot_slash_is_blamed_inside_the_sub_folder(monorepo: Path) -> None:
    finding = replace(_finding("app.py", 2), path="./app.py")
    assert introduced_times(monorepo / "services" / "api", [finding]) == {f"{1:064x}": DAY2}
