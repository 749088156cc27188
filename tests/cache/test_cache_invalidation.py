"""What invalidates cached results (issue 7): a scanner upgrade, a change of config, rules,
excludes or severity policy, a change of the OSV database; and what is never cached: an
interrupted run, a timed-out scanner."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from cache_helpers import Runner, copy_example, entries, settings_for

from secscan.app.pipeline import ScanHooks, run_scan
from secscan.core.model import ScannerResult, ScannerStatus
from secscan.scanners.bandit import BanditScanner
from secscan.scanners.cache.audit import AuditEntries
from secscan.scanners.cache.db import ResultCache

pytestmark = pytest.mark.e2e

BANDIT = ["bandit"]


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "app")


def _cold_equals_warm(run: Runner, target: Path, settings: object, only: list[str]) -> tuple[int, int]:
    warm = run(target, settings, only=only)
    cold = run(target, settings, only=only, use_cache=False)
    assert warm.comparable() == cold.comparable()
    return warm.cache["hits"], warm.cache["misses"]


def test_scanner_upgrade_invalidates(tmp_path: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Runner(tmp_path, monkeypatch)
    settings = settings_for(target, tmp_path / "cache.db")
    first = run(target, settings, only=BANDIT)
    monkeypatch.setattr(BanditScanner, "version", lambda self: "1.99.0")
    upgraded = run(target, settings, only=BANDIT)
    assert upgraded.cache == {"enabled": True, "hits": 0, "misses": first.cache["misses"]}
    assert upgraded.commands
    assert {s["version"] for s in upgraded.document["scanners"]} == {"1.99.0"}


def test_config_and_rules_changes_invalidate(
    tmp_path: Path, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Runner(tmp_path, monkeypatch)
    cache = tmp_path / "cache.db"
    rules = target / "bandit.yaml"
    rules.write_text("skips: ['B105']\n")
    with_rules = settings_for(target, cache, {"scanners": {"bandit": {"args": ["-c", "bandit.yaml"]}}})
    run(target, with_rules, only=BANDIT)
    assert _cold_equals_warm(run, target, with_rules, BANDIT)[1] == 0  # unchanged: all hits

    rules.write_text("skips: ['B608']\n")  # the rules file changed, not the argument
    hits, misses = _cold_equals_warm(run, target, with_rules, BANDIT)
    assert hits == 0 and misses > 0

    other_args = settings_for(target, cache, {"scanners": {"bandit": {"args": ["-s", "B101"]}}})
    hits, misses = _cold_equals_warm(run, target, other_args, BANDIT)
    assert hits == 0 and misses > 0


def test_excludes_and_policy_changes_invalidate(
    tmp_path: Path, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Runner(tmp_path, monkeypatch)
    cache = tmp_path / "cache.db"
    run(target, settings_for(target, cache), only=BANDIT)
    excluded = settings_for(target, cache, {"scan": {"extend_exclude": ["osv"]}})
    assert _cold_equals_warm(run, target, excluded, BANDIT)[0] == 0

    policy = tmp_path / "severity.toml"
    policy.write_text('[bandit.rules]\nB105 = "critical"\n')
    stricter = settings_for(target, cache, {"policy": {"severity": str(policy)}})
    assert _cold_equals_warm(run, target, stricter, BANDIT)[0] == 0
    warm = run(target, stricter, only=BANDIT)
    assert warm.cache["misses"] == 0
    assert any(f["rule"] == "B105" and f["severity"] == "critical" for f in warm.document["findings"])


ADVISORY = """\
id: PYSEC-2099-1
summary: A new advisory published after the first scan
details: rich before 99 mishandles something.
modified: "2099-01-01T00:00:00Z"
affected:
- package:
    name: requests
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: "99.0"
"""


def test_osv_database_change_is_picked_up(
    tmp_path: Path, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Runner(tmp_path, monkeypatch)
    loads: list[Path] = []
    from secscan.scanners.osv import deferred

    real = deferred.DeferredDatabase

    def counting(path: Path, index_folder: Path | None = None) -> object:
        loads.append(path)
        return real(path, index_folder)

    monkeypatch.setattr(deferred, "DeferredDatabase", counting)
    settings = settings_for(target, tmp_path / "cache.db")
    first = run(target, settings, only=["pip-audit"])
    assert len(loads) == 1
    again = run(target, settings, only=["pip-audit"])
    assert again.commands == () and again.cache["misses"] == 0 and again.comparable() == first.comparable()
    assert len(loads) == 1  # every pin answered by the cache: the OSV database is not even loaded
    assert not any(f["rule"] == "PYSEC-2099-1" for f in first.document["findings"])

    (target / "osv" / "requests" / "PYSEC-2099-1.yaml").write_text(ADVISORY)
    hits, misses = _cold_equals_warm(run, target, settings, ["pip-audit"])
    assert hits == 0 and misses > 0
    latest = run(target, settings, only=["pip-audit"])
    assert any(f["rule"] == "PYSEC-2099-1" for f in latest.document["findings"])


def test_an_osv_record_edited_in_place_with_its_old_size_and_mtime_is_picked_up(
    tmp_path: Path, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cp -p``, ``touch -r``, ``unzip``: an edit that keeps the file's size and modification
    time still changes the database's identity (its ``ctime`` changed), never a stale answer."""
    from secscan.scanners.cache import audit
    from secscan.scanners.osv import signature

    def settled(path: Path) -> signature.DatasetSignature:  # as if the copy were seconds old
        return signature.dataset_signature(path, lambda: time.time_ns() + 10 * 10**9)

    monkeypatch.setattr(audit, "dataset_signature", settled)
    run = Runner(tmp_path, monkeypatch)
    settings = settings_for(target, tmp_path / "cache.db")
    first = run(target, settings, only=["pip-audit"])
    assert any(f["rule"] == "PYSEC-2023-74" for f in first.document["findings"])
    assert run(target, settings, only=["pip-audit"]).cache["misses"] == 0  # remembered, reused
    record = target / "osv" / "requests" / "PYSEC-2023-74.yaml"
    before = record.stat()
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("name: requests", "name: requestz"), encoding="utf-8")  # same size
    os.utime(record, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (record.stat().st_size, record.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    edited = run(target, settings, only=["pip-audit"])
    assert edited.cache["hits"] == 0
    assert not any(f["rule"] == "PYSEC-2023-74" for f in edited.document["findings"])


def test_online_audits_expire_after_the_ttl(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c.db", 10**8) as cache:
        old = AuditEntries(cache, b"k", lambda: "online:x", now=1000, max_age_s=3600)
        assert old.get("requests", "2.0") is None
        old.put("requests", "2.0", [{"id": "PYSEC-1", "fix_versions": [], "aliases": [], "description": ""}])
        cache.put_many(old.entries(), 1000)
        fresh = AuditEntries(cache, b"k", lambda: "online:x", now=1000 + 3600, max_age_s=3600)
        assert fresh.get("requests", "2.0") == [
            {"id": "PYSEC-1", "fix_versions": [], "aliases": [], "description": ""}
        ]
        stale = AuditEntries(cache, b"k", lambda: "online:x", now=1000 + 3601, max_age_s=3600)
        assert stale.get("requests", "2.0") is None
        other_service = AuditEntries(cache, b"k", lambda: "online:y", now=1000, max_age_s=3600)
        assert other_service.get("requests", "2.0") is None


def test_an_interrupted_run_caches_nothing(tmp_path: Path, target: Path) -> None:
    cache = tmp_path / "cache.db"
    cancel = threading.Event()

    def first_done(result: ScannerResult) -> None:
        cancel.set()  # the others are cancelled; even the finished one is not cached

    outcome = run_scan(
        target, settings_for(target, cache), cancel=cancel, cache=cache, hooks=ScanHooks(on_done=first_done)
    )
    assert any(s.status is not ScannerStatus.OK for s in outcome.run.scanners)
    assert entries(cache) == []


def test_a_timed_out_scanner_is_not_cached(tmp_path: Path, target: Path) -> None:
    cache = tmp_path / "cache.db"
    settings = settings_for(target, cache, {"scanners": {"bandit": {"timeout": 0.01}}})
    outcome = run_scan(target, settings, only=["bandit", "detect-secrets"], cache=cache)
    statuses = {s.name: s.status for s in outcome.run.scanners}
    assert statuses == {"bandit": ScannerStatus.TIMEOUT, "detect-secrets": ScannerStatus.OK}
    again = run_scan(target, settings_for(target, cache), only=["bandit", "detect-secrets"], cache=cache)
    by_name = {s.name: s for s in again.run.scanners}
    assert by_name["bandit"].status is ScannerStatus.OK and by_name["bandit"].duration_s > 0.01
    assert again.cache.hits == len([f for f in by_name["detect-secrets"].scope])


def test_an_uncacheable_pip_audit_still_gets_its_vulnerability_service(
    tmp_path: Path, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loopback OSV server serves only when pip-audit will ask it. A pip-audit whose key cannot
    be pinned down (a file its arguments name cannot be hashed) runs uncached, and must be
    served, not left waiting on an accepted but unanswered connection until its timeout."""
    from secscan.scanners.cache import session as cache_session

    real = cache_session.scanner_key

    def unpinnable(scanner: object, *args: object) -> bytes | None:
        return None if getattr(scanner, "name", "") == "pip-audit" else real(scanner, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_session, "scanner_key", unpinnable)
    run = Runner(tmp_path, monkeypatch)
    pip_audit = {"timeout": 30, "osv_db": str(target / "osv")}  # a hang would end at the timeout
    settings = settings_for(target, tmp_path / "cache.db", {"scanners": {"pip-audit": pip_audit}})
    scan = run(target, settings, only=["pip-audit"])
    [status] = scan.document["scanners"]
    assert status["status"] == "ok", status
    assert scan.commands and any(f["tool"] == "pip-audit" for f in scan.document["findings"])


def test_cached_audits_keep_their_scores_and_a_cvss_upgrade_invalidates_them(
    tmp_path: Path, target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 18: a cached pip-audit answer scores no CVSS vector again (its excerpt keeps the
    record's score), and the ``cvss`` version is part of its key."""
    from secscan.scanners import pip_audit
    from secscan.scanners.osv import severity

    run = Runner(tmp_path, monkeypatch)
    settings = settings_for(target, tmp_path / "cache.db")
    scored: list[str] = []
    real_score = severity.cvss_base_score

    def counting(kind: str, vector: str) -> float | None:
        scored.append(vector)
        return real_score(kind, vector)

    monkeypatch.setattr(severity, "cvss_base_score", counting)
    first = run(target, settings, only=["pip-audit"])
    assert scored  # the example's advisories carry CVSS vectors
    scored.clear()
    again = run(target, settings, only=["pip-audit"])
    assert again.cache["misses"] == 0 and again.comparable() == first.comparable()
    assert scored == []  # the severities came from the cached scores

    real_version = pip_audit.installed_version
    monkeypatch.setattr(
        pip_audit, "installed_version", lambda name: "99.0" if name == "cvss" else real_version(name)
    )
    upgraded = run(target, settings, only=["pip-audit"])
    assert upgraded.cache["hits"] == 0 and upgraded.cache["misses"] > 0
    assert scored and upgraded.comparable() == first.comparable()
