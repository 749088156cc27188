"""The compiled OSV index in real runs: pip-audit (through the loopback server) and lockfile-audit
(its own process) find exactly what a direct load finds, and the index is compiled once."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from secscan.app import run as app
from secscan.app.pipeline import run_scan
from secscan.config.settings import build_settings, load_settings
from secscan.core.model import ScannerStatus
from secscan.fs.exclusions import build_skips
from secscan.fs.inventory import build_inventory
from secscan.scanners.osv.signature import SETTLE_NS, dataset_signature
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

LOCKFILES = REPO / "tests" / "scanners" / "lockfiles"
DATABASE = LOCKFILES / "osv"  # npm, PyPI and crates.io records, part of the checkout
SCANNERS = ("pip-audit", "lockfile-audit")
PINS = "jinja2==2.10\nurllib3==1.26.4\npyyaml==5.3\nrequests==2.31.0\n"


def settled(dataset: Path) -> Path:
    """``dataset``, once it is settled: a checkout a few seconds old is not (waits at most 2 s)."""
    signature = dataset_signature(dataset)
    if not signature.settled:
        time.sleep((signature.newest_ns + SETTLE_NS - signature.taken_ns) / 1e9 + 0.05)
    assert dataset_signature(dataset).settled
    return dataset


@pytest.fixture
def target(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(LOCKFILES, root, ignore=shutil.ignore_patterns("osv", "README.md"))
    (root / "requirements.txt").write_text(PINS, encoding="utf-8")
    return root


def _findings(target: Path, index: Path | None) -> dict[str, list[object]]:
    outcome = run_scan(target, build_settings({}), only=SCANNERS, osv_db=settled(DATABASE), osv_index=index)
    results = {str(r.name): r for r in outcome.run.scanners}
    assert all(r.status is ScannerStatus.OK for r in results.values()), [r.reason for r in results.values()]
    return {tool: list(r.findings) for tool, r in results.items()}


def _compiled(records: list[logging.LogRecord]) -> list[str]:
    """Which processes compiled the index: the main process logs it, lockfile-audit's says so."""
    found = ["main" for r in records if r.name == "secscan.scanners.osv.compile" and "compiled" in r.getMessage()]
    notes = [r.getMessage() for r in records if "lockfile-audit: OSV records from" in r.getMessage()]
    return found + ["lockfile-audit" for note in notes if "(compiled)" in note]


def test_both_scanners_find_through_the_index_what_a_direct_load_finds(
    target: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    direct = _findings(target, None)
    assert len(direct["pip-audit"]) >= 3 and len(direct["lockfile-audit"]) >= 30
    caplog.set_level(logging.DEBUG)
    cold = _findings(target, tmp_path / "index")
    assert cold == direct
    assert _compiled(caplog.records) == ["main"] or _compiled(caplog.records) == ["lockfile-audit"]
    caplog.clear()
    warm = _findings(target, tmp_path / "index")
    assert warm == direct
    assert _compiled(caplog.records) == []
    assert any("(found)" in r.getMessage() for r in caplog.records)
    assert len(list((tmp_path / "index").glob("*.sqlite"))) == 1


def _cli_run(repo: Path, db: Path, config: Path | None = None, *, use_cache: bool = False) -> app.RunResult:
    db.parent.mkdir(parents=True, exist_ok=True)
    request = app.RunRequest(
        target=repo,
        settings=load_settings(config),
        sarif_path=db.parent / "out.sarif",
        only=("lockfile-audit",),
        osv_db=settled(DATABASE),
        db=str(db),
        use_cache=use_cache,
    )
    return app.run(request)


def _config(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "secscan-test.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_a_cold_run_keeps_the_index_in_the_cache_home_unless_told_not_to(
    target: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    folder = tmp_path / "cache-home" / "secscan" / "osv-index"
    first = _cli_run(target, tmp_path / "state" / "secscan.db")
    (index,) = folder.glob("*.sqlite")
    inode = index.stat().st_ino
    assert not (tmp_path / "state" / "secscan-cache.db").exists()  # --no-cache: no result cache
    again = _cli_run(target, tmp_path / "another-state" / "secscan.db")  # any database shares it
    fingerprints = [f.fingerprint for f in first.outcome.run.findings]
    assert [f.fingerprint for f in again.outcome.run.findings] == fingerprints
    assert list(folder.glob("*.sqlite")) == [index] and index.stat().st_ino == inode  # not compiled again
    # a result cache elsewhere, used or not, shares it too: a first cached run compiles nothing
    moved = _config(tmp_path, f'[cache]\npath = "{tmp_path / "var" / "cache.db"}"\n')
    _cli_run(target, tmp_path / "state" / "secscan.db", moved)
    from secscan.scanners.cache import audit

    def not_again(root: Path, limit: int) -> str | None:
        raise AssertionError(f"{root} hashed again: its index recorded the hash")

    monkeypatch.setattr(audit, "tree_digest", not_again)
    cached = _cli_run(target, tmp_path / "third-state" / "secscan.db", moved, use_cache=True)
    assert [f.fingerprint for f in cached.outcome.run.findings] == fingerprints
    assert (tmp_path / "var" / "cache.db").exists() and not (tmp_path / "var" / "osv-index").exists()
    assert list(folder.glob("*.sqlite")) == [index] and index.stat().st_ino == inode
    shutil.rmtree(folder)
    _cli_run(target, tmp_path / "state" / "secscan.db", _config(tmp_path, "[cache]\nosv_index = false\n"))
    assert not folder.exists()


def test_the_index_folder_inside_the_target_is_never_scanned(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``XDG_CACHE_HOME`` inside the target puts the index folder there: it is one of the run's outputs."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(target / "xdg"))
    _cli_run(target, target / "secscan.db")
    assert any((target / "xdg" / "secscan" / "osv-index").glob("*.sqlite"))
    request = app.RunRequest(target=target, settings=load_settings(None), db=str(target / "secscan.db"))
    assert target / "xdg" / "secscan" / "osv-index" in app.own_outputs(request, None)
    skips, _ = build_skips(target.resolve(), app.own_outputs(request, None), include_ignored=True)
    files = build_inventory(target.resolve(), (), 10**7, skips).files
    assert "npm-v3/package-lock.json" in files
    assert not [f for f in files if f.startswith("xdg/")]
