"""The optional cache files (settings memo, code tables, compiled OSV index, semgrep pack memo,
result cache) in a folder that cannot be written: the command runs as it would without them, says
so at most once per cache, and never fails or prints a traceback (not even at exit)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.cli_helpers import secscan
from tests.conftest import EXAMPLE

OSV = EXAMPLE / "osv"


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A path below a regular file: nothing can be created there, not even by root."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder\n")
    return blocker / "cache"


def _ids(stdout: str) -> set[str]:
    return {f["id"] for f in json.loads(stdout)["findings"]}


def _clean(stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert "internal error" not in stderr, stderr
    warnings = Counter(line.split(" WARNING ", 1)[1] for line in stderr.splitlines() if " WARNING " in line)
    assert all(n == 1 for n in warnings.values()), stderr


def _run(tmp_path: Path, name: str, cache_home: Path, *extra: str) -> tuple[int, set[str], str]:
    (tmp_path / name).mkdir()  # each its own database and, beside it, its own result cache
    proc = secscan(
        "run", EXAMPLE, "--osv-db", OSV, "--format", "json", "--db", tmp_path / name / "d.db", *extra,
        cwd=tmp_path, env={"XDG_CACHE_HOME": str(cache_home)}, timeout=600,
    )  # fmt: skip
    _clean(proc.stderr)
    return proc.returncode, _ids(proc.stdout), proc.stderr


def test_a_cache_home_that_cannot_be_created_gives_the_result_of_a_writable_one(
    tmp_path: Path, blocked: Path
) -> None:
    expected = _run(tmp_path, "writable", tmp_path / "xdg")
    assert expected[0] == 1 and expected[1]  # the example has findings at the default --fail-on
    got = _run(tmp_path, "blocked", blocked)
    assert got[:2] == expected[:2]
    assert "OSV index folder" in got[2] and "reading the OSV database directly" in got[2]
    assert not blocked.exists()
    env = {"XDG_CACHE_HOME": str(blocked)}
    listed = secscan("findings", "--db", tmp_path / "blocked" / "d.db", cwd=tmp_path, env=env)
    assert listed.returncode == 0 and listed.stderr == ""


def test_a_result_cache_that_cannot_be_created_makes_a_cold_run(tmp_path: Path, blocked: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[cache]\npath = "{blocked / "results.db"}"\n')
    expected = _run(tmp_path, "writable", tmp_path / "xdg")
    got = _run(tmp_path, "blocked", blocked, "--config", str(config))
    assert got[:2] == expected[:2]
    assert f"result cache {blocked / 'results.db'} cannot be used" in got[2]
