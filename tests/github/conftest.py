"""Fixtures of the GitHub upload tests: the fake API, a git checkout, a store, settings."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from github_fakes import CANARY, OWNER, REPO, T0, Clock, FakeGithub

from secscan.config.settings import Settings, build_settings
from secscan.store import Store, open_store


@pytest.fixture
def fake_github(schemas: Path) -> Iterator[FakeGithub]:
    with FakeGithub(schemas) as fake:
        yield fake
    assert fake.errors == [], "requests broke the published contract"


@pytest.fixture
def git_repo(tmp_path: Path) -> tuple[Path, str]:
    """A checkout on branch ``main`` with one commit: (root, commit sha)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "demo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    for argv in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *argv], cwd=root, env=env, check=True, capture_output=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, env=env, check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    return root, sha


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def env() -> dict[str, str]:
    return {"GITHUB_TOKEN": CANARY}


@pytest.fixture
def make_settings(fake_github: FakeGithub) -> Callable[..., Settings]:
    def make(**github: Any) -> Settings:
        section = {
            "repository": f"{OWNER}/{REPO}",
            "api_url": fake_github.url,
            "wait_for_processing_s": 0.5,
            "poll_interval_s": 0.01,
        } | github
        return build_settings({"github": section})

    return make


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "secscan.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with open_store(db_path) as s:
        yield s
