"""Updating a target's checkout before its nightly scan: fetch + forced checkout of the branch."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from secscan.core.errors import TargetError
from secscan.daemon.gitupdate import update_checkout

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@e", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_update_checks_out_the_fetched_branch(tmp_path: Path) -> None:
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    git(upstream, "init", "-q", "-b", "main")
    (upstream / "a.py").write_text("A = 1\n")
    git(upstream, "add", "a.py")
    git(upstream, "commit", "-q", "-m", "one")
    git(tmp_path, "clone", "-q", str(upstream), "checkout")
    checkout = tmp_path / "checkout"
    (upstream / "b.py").write_text("B = 2\n")
    git(upstream, "add", "b.py")
    git(upstream, "commit", "-q", "-m", "two")
    (checkout / "a.py").write_text("local edit\n")  # the daemon's checkout is a mirror: overwritten
    head = update_checkout(checkout, "origin", "main")
    assert head == git(upstream, "rev-parse", "HEAD")
    assert (checkout / "b.py").read_text() == "B = 2\n" and (checkout / "a.py").read_text() == "A = 1\n"


def test_a_missing_branch_is_a_clear_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    with pytest.raises(TargetError, match=r"git fetch in .* failed: .*; check the remote and branch"):
        update_checkout(repo, "origin", "main", timeout=30)
