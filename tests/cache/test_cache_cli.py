"""``secscan run --format json`` reports the hit rate; ``secscan cache stats|clear``; ``--no-cache``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cache_helpers import copy_example

from secscan.cli import main as cli
from secscan.config.settings import build_settings
from secscan.scanners.cache.paths import cache_path, osv_index_folder

pytestmark = pytest.mark.e2e


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def _run(capsys: pytest.CaptureFixture[str], target: Path, db: Path, *extra: str) -> dict[str, object]:
    code, out = _cli(capsys, "run", str(target), "--db", str(db), "--format", "json", "--fail-on", "none",
                     "--scanner", "bandit", "--sarif", str(db.parent.parent / "out.sarif"), *extra)  # an existing folder
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def test_run_reports_hits_and_cache_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = copy_example(tmp_path / "app")
    db = tmp_path / "state" / "secscan.db"
    cold = _run(capsys, target, db)
    warm = _run(capsys, target, db)
    off = _run(capsys, target, db, "--no-cache")
    files = cold["cache"]["misses"]  # type: ignore[index]
    assert cold["cache"] == {"enabled": True, "hits": 0, "misses": files} and files > 0
    assert warm["cache"] == {"enabled": True, "hits": files, "misses": 0}
    assert off["cache"] == {"enabled": False, "hits": 0, "misses": 0}

    code, out = _cli(capsys, "cache", "stats", "--db", str(db), "--format", "json")
    stats = json.loads(out)
    assert code == 0 and stats["path"] == str(tmp_path / "state" / "secscan-cache.db")
    # an entry per file, and bandit's merged output that the warm run (all hits) remembered
    assert (stats["entries"], stats["hits"], stats["misses"]) == (files + 1, files, files)
    assert stats["hit_rate"] == 0.5 and stats["file_bytes"] > 0

    code, out = _cli(capsys, "cache", "clear", "--db", str(db))
    assert code == 0 and f"{files + 1} entries removed" in out
    code, out = _cli(capsys, "cache", "stats", "--db", str(db))
    assert code == 0 and "entries:   0" in out
    assert _run(capsys, target, db)["cache"] == cold["cache"]


def test_cache_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    default = build_settings({}).cache
    assert cache_path(default, None) == tmp_path / "xdg" / "secscan" / "secscan-cache.db"
    assert cache_path(default, str(tmp_path / "a" / "x.db")) == tmp_path / "a" / "secscan-cache.db"
    assert cache_path(default, f"sqlite:///{tmp_path}/b/y.db") == tmp_path / "b" / "secscan-cache.db"
    configured = build_settings({"cache": {"path": str(tmp_path / "c.db")}}).cache
    assert cache_path(configured, str(tmp_path / "a" / "x.db")) == tmp_path / "c.db"


def test_the_osv_index_folder_is_shared_whatever_the_result_cache_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One folder for a ``--no-cache`` run and a run with any ``[cache] path``: the index one
    compiles is the index the other opens (beside ``[cache] path`` only without a home folder)."""
    shared = tmp_path / "xdg" / "secscan" / "osv-index"
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    default = build_settings({}).cache
    configured = build_settings({"cache": {"path": str(tmp_path / "elsewhere" / "c.db")}}).cache
    assert osv_index_folder(default, env) == osv_index_folder(configured, env) == shared
    assert osv_index_folder(build_settings({"cache": {"osv_index": False}}).cache, env) is None

    def no_home() -> Path:
        raise RuntimeError("no home folder")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert osv_index_folder(configured, {}) == tmp_path / "elsewhere" / "osv-index"
    assert osv_index_folder(default, {}) is None


def test_cache_section_is_refused_in_an_untrusted_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "repo"
    target.mkdir()
    (target / "secscan.toml").write_text('[cache]\npath = "/tmp/elsewhere.db"\n')
    code = cli.main(["run", str(target), "--db", str(tmp_path / "db.sqlite")])
    assert code == 2 and "[cache]" in capsys.readouterr().err


def test_unusable_cache_path_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = tmp_path / "c.toml"
    config.write_text(f'[cache]\npath = "{blocker}/cache.db"\n')
    code = cli.main(["cache", "stats", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be opened" in err and len(err.strip().splitlines()) == 1
    # a scan never fails because of its cache: it runs cold
    target = copy_example(tmp_path / "app")
    code, out = _cli(capsys, "run", str(target), "--config", str(config), "--db", str(tmp_path / "db.sqlite"),
                     "--scanner", "bandit", "--format", "json", "--fail-on", "none",
                     "--sarif", str(tmp_path / "s.sarif"))
    assert code == 0 and json.loads(out)["cache"]["enabled"] is False
