"""git blame for MTTD: right commit times, graceful failures, and a hostile repository stays inert."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secscan.fs import gitinfo

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

DAY1 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
DAY2 = datetime(2024, 2, 20, 18, 30, tzinfo=UTC)


def _git(repo: Path, *args: str, when: datetime | None = None) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.invalid",
        "GIT_COMMITTER_NAME": "c",
        "GIT_COMMITTER_EMAIL": "c@example.invalid",
    }
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """app.py: lines 1-3 committed on DAY1, line 4 added on DAY2."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", ".")
    (root / "app.py").write_text("import os\nx = 1\nos.system(x)\n")
    _git(root, "add", "app.py")
    _git(root, "commit", "-q", "-m", "one", when=DAY1)
    (root / "app.py").write_text("import os\nx = 1\nos.system(x)\neval(x)\n")
    _git(root, "commit", "-q", "-am", "two", when=DAY2)
    return root


def test_blame_gives_the_commit_time_of_each_wanted_line(repo: Path) -> None:
    found = gitinfo.blame_lines(repo, "app.py", [3, 4, 1])
    assert found is not None and sorted(found) == [1, 3, 4]
    assert found[3].committed_at == DAY1 and found[4].committed_at == DAY2
    assert found[4].author_time == DAY2 and len(found[4].commit) == 40
    assert found[1].commit == found[3].commit != found[4].commit


def test_lines_past_the_end_are_left_out(repo: Path) -> None:
    assert set(gitinfo.blame_lines(repo, "app.py", [2, 4, 9]) or {}) == {2, 4}
    assert gitinfo.blame_lines(repo, "app.py", [50, 60]) == {}


def test_many_files_one_blame_each(repo: Path) -> None:
    (repo / "lib.py").write_text("a = 1\n")
    _git(repo, "add", "lib.py")
    _git(repo, "commit", "-q", "-m", "lib", when=DAY2)
    origins = gitinfo.line_origins(repo, {"app.py": [1], "lib.py": [1], "missing.py": [1]})
    assert {k: v.committed_at for k, v in origins.items()} == {("app.py", 1): DAY1, ("lib.py", 1): DAY2}


def test_untracked_missing_and_absolute_paths_give_none(repo: Path) -> None:
    (repo / "new.py").write_text("y = 2\n")
    assert gitinfo.blame_lines(repo, "new.py", [1]) is None
    assert gitinfo.blame_lines(repo, "nope.py", [1]) is None
    assert gitinfo.blame_lines(repo, str(repo / "app.py"), [1]) is None
    assert gitinfo.blame_lines(repo, "app.py", []) is None


def test_not_a_repository_or_no_git_gives_none(tmp_path: Path, repo: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "app.py").write_text("x = 1\n")
    assert gitinfo.blame_lines(plain, "app.py", [1]) is None
    assert gitinfo.blame_lines(repo, "app.py", [1], git="secscan-no-such-git") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    _git(empty, "init", "-q", ".")
    (empty / "app.py").write_text("x = 1\n")
    assert gitinfo.blame_lines(empty, "app.py", [1]) is None  # no HEAD yet


def _make_hostile(repo: Path, marker: Path) -> None:
    """Every config and attribute knob that can make git run a program writes ``marker``."""
    script = repo.parent / "evil.sh"
    script.write_text(f"#!/bin/sh\necho pwned >> {marker}\ncat\n")
    script.chmod(0o755)
    (repo / ".gitattributes").write_text("* diff=evil filter=evil\n")
    for key, value in (
        ("core.fsmonitor", str(script)),
        ("core.pager", str(script)),
        ("core.hooksPath", str(repo.parent)),
        ("diff.evil.textconv", str(script)),
        ("diff.evil.command", str(script)),
        ("diff.external", str(script)),
        ("filter.evil.clean", str(script)),
        ("filter.evil.smudge", str(script)),
        ("filter.evil.process", str(script)),
        ("blame.ignoreRevsFile", "does-not-exist"),
    ):
        _git(repo, "config", key, value)
    with (repo / "app.py").open("a") as fh:  # an uncommitted change: git would read the worktree
        fh.write("print(x)\n")


def test_a_hostile_repository_runs_nothing(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    _make_hostile(repo, marker)
    found = gitinfo.blame_lines(repo, "app.py", [1, 4, 5])
    assert found is not None and found[4].committed_at == DAY2 and 5 not in found
    assert gitinfo.line_origins(repo, {"app.py": [3]})[("app.py", 3)].committed_at == DAY1
    assert not marker.exists()
    # the control: a plain blame of the same repository does run the planted programs
    subprocess.run(
        ["git", "blame", "--no-ignore-revs-file", "-L", "1,2", "--", "app.py"],
        cwd=repo,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": "/dev/null"},
        capture_output=True,
        check=False,
    )
    assert marker.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_repository_of_another_owner_needs_explicit_trust(repo: Path) -> None:
    for path in (repo, *repo.rglob("*")):
        os.chown(path, 65534, 65534, follow_symlinks=False)
    assert gitinfo.blame_lines(repo, "app.py", [1]) is None
    found = gitinfo.blame_lines(repo, "app.py", [1], trust_other_owner=True)
    assert found is not None and found[1].committed_at == DAY1


def test_a_timeout_gives_none(repo: Path) -> None:
    assert gitinfo.blame_lines(repo, "app.py", [1], timeout=1e-9) is None


def test_parse_porcelain_and_ranges() -> None:
    sha = "a" * 40
    text = (
        f"{sha} 1 7 2\nauthor a\nauthor-time 1700000000\ncommitter-time 1700000100\n"
        f"filename app.py\n\tline seven\n{sha} 2 8\n\tline eight\n"
    )
    found = gitinfo.parse_porcelain(text)
    assert sorted(found) == [7, 8] and found[8].committed_at == datetime.fromtimestamp(1700000100, UTC)
    assert found[7].author_time == datetime.fromtimestamp(1700000000, UTC)
    assert gitinfo.ranges([30, 1, 2, 5, 0, -3]) == [(1, 5), (30, 30)]
