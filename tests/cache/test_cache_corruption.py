"""A damaged cache entry or file is detected and ignored: the file is re-scanned, never crashed on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cache_helpers import Runner, copy_example, entries, settings_for

from secscan.scanners.cache.codec import pack
from secscan.scanners.cache.db import digest

pytestmark = pytest.mark.e2e

SCANNERS = ["bandit", "detect-secrets"]


def _damage(cache: Path, key: bytes, value: bytes, *, fix_digest: bool) -> None:
    with sqlite3.connect(cache) as conn:
        conn.execute(
            "UPDATE entries SET value = ?, digest = CASE WHEN ? THEN ? ELSE digest END WHERE key = ?",
            (value, fix_digest, digest(key, value), key),
        )


@pytest.mark.parametrize(
    ("how", "fix_digest"),
    [("flipped byte", False), ("valid digest, malformed value", True), ("valid digest, wrong shape", True)],
)
def test_damaged_entries_are_rescanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, fix_digest: bool
) -> None:
    run = Runner(tmp_path, monkeypatch)
    target = copy_example(tmp_path / "app")
    cache = tmp_path / "cache.db"
    settings = settings_for(target, cache)
    cold = run(target, settings, only=SCANNERS)
    stored = entries(cache)
    damaged = stored[: len(stored) // 2]
    for key, value in damaged:
        bad = {
            "flipped byte": value[:-1] + bytes([value[-1] ^ 0x01]),
            "valid digest, malformed value": b"z" + b"not zlib",
            "valid digest, wrong shape": pack({"c": True, "f": [["B101"]], "r": [], "n": []}),
        }[how]
        _damage(cache, key, bad, fix_digest=fix_digest)

    warm = run(target, settings, only=SCANNERS)
    assert warm.cache["misses"] == len(damaged) and warm.cache["hits"] == len(stored) - len(damaged)
    assert warm.comparable() == cold.comparable()
    # re-scanned and stored again, intact (a scanner none of whose entries was damaged also gets
    # its remembered whole output, secscan.scanners.cache.whole: which one depends on the keys' order)
    after = entries(cache)
    assert set(stored) <= set(after) and len(after) - len(stored) <= len(SCANNERS)
    assert run(target, settings, only=SCANNERS).cache["misses"] == 0


@pytest.mark.parametrize("content", [b"this is not a database" * 100, b""])
def test_a_damaged_cache_file_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    run = Runner(tmp_path, monkeypatch)
    target = copy_example(tmp_path / "app")
    cache = tmp_path / "cache.db"
    cache.write_bytes(content)
    settings = settings_for(target, cache)
    first = run(target, settings, only=["bandit"])
    assert {s["status"] for s in first.document["scanners"]} == {"ok"}
    assert entries(cache) and run(target, settings, only=["bandit"]).cache["misses"] == 0


def test_an_older_schema_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = Runner(tmp_path, monkeypatch)
    target = copy_example(tmp_path / "app")
    cache = tmp_path / "cache.db"
    with sqlite3.connect(cache) as conn:
        conn.execute("CREATE TABLE entries (key TEXT, value TEXT)")
        conn.execute("INSERT INTO entries VALUES ('k', 'v')")
        conn.execute("PRAGMA user_version = 0")
    settings = settings_for(target, cache)
    assert run(target, settings, only=["bandit"]).cache["hits"] == 0
    assert run(target, settings, only=["bandit"]).cache["misses"] == 0
