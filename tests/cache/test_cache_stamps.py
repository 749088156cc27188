"""The stamp shortcut to files' content hashes (issue 18): never a stale hash.

Each test would fail if the shortcut trusted a stamp it must not: a rewrite that kept the size
and the ``mtime`` (``ctime``), a change in the same clock tick as the stamp (the racy rule), a
rename over the file (inode), a file deleted and recreated; and random edits, checked against
a cache-less scan.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secscan.config.cache import CacheConfig
from secscan.config.policy import load_policy
from secscan.core.model import Finding, Location, Severity, ToolName
from secscan.core.redact import Redactor
from secscan.scanners.cache import stamps
from secscan.scanners.cache.db import ResultCache
from secscan.scanners.cache.session import CacheSession
from secscan.scanners.cache.stamps import FileHashes
from secscan.scanners.interface import (
    CommandResult,
    FileOutput,
    FileOutputs,
    Plan,
    ScanJob,
    Scanner,
    ScanOutput,
)
from secscan.scanners.per_file import merge
from secscan.scanners.runner import run_scanner

TICK_S = 0.03
"""Longer than a tick of the kernel's coarse clock, which file timestamps come from."""


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _later() -> int:
    """A clock an hour ahead: every stamp taken is settled, even against changes made after it,
    which leaves the stamp's own fields as the only guard (what the tests using it check)."""
    return time.time_ns() + 3600 * 10**9


def _hashes(
    cache_file: Path, root: Path, paths: Sequence[str], clock: Callable[[], int] = time.time_ns
) -> tuple[dict[str, bytes], int]:
    """One run's hashes of ``paths`` and how many files it read."""
    with ResultCache(cache_file, CacheConfig().max_bytes) as cache:
        files = FileHashes(cache, clock)
        found = files.hashes(root, paths)
        files.save()
        return found, files.read


def _rewrite_keeping_mtime(path: Path, data: bytes) -> None:
    before = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.py").write_bytes(b"one\n")
    (root / "b.py").write_bytes(b"two\n")
    first, read = _hashes(tmp_path / "c.db", root, ["a.py", "b.py"], _later)
    assert read == 2 and first == {"a.py": _sha(b"one\n"), "b.py": _sha(b"two\n")}
    assert _hashes(tmp_path / "c.db", root, ["a.py", "b.py"]) == (first, 0)


def test_a_rewrite_with_the_same_size_and_restored_mtime_is_seen_by_its_ctime(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.py").write_bytes(b"key = 1\n")
    _hashes(tmp_path / "c.db", root, ["a.py"], _later)
    time.sleep(TICK_S)
    before = (root / "a.py").stat()
    _rewrite_keeping_mtime(root / "a.py", b"key = 2\n")
    after = (root / "a.py").stat()
    kept = ("st_size", "st_mtime_ns", "st_ino")
    assert [getattr(after, k) for k in kept] == [getattr(before, k) for k in kept]
    assert _hashes(tmp_path / "c.db", root, ["a.py"]) == ({"a.py": _sha(b"key = 2\n")}, 1)


def _frozen_clock(monkeypatch: pytest.MonkeyPatch, at_ns: int) -> None:
    """A file system whose timestamps never move (every change in one tick, at ``at_ns``)."""

    def frozen(st: os.stat_result) -> os.stat_result:
        a, m, c = at_ns / 1e9, at_ns / 1e9, at_ns / 1e9
        return os.stat_result((*st[:7], int(a), int(m), int(c), a, m, c, at_ns, at_ns, at_ns), {})

    monkeypatch.setattr(stamps, "_stat", lambda path: frozen(os.stat(path)))
    monkeypatch.setattr(stamps, "_fstat", lambda fd: frozen(os.fstat(fd)))


def test_a_file_changed_in_the_racy_window_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Timestamps frozen at "now": the rewrite below leaves the whole stamp as it was (same size,
    # times and inode), as a change in the stamp's own clock tick does; only the racy rule (the
    # stamp is not older than the window when taken) makes the second run read the file.
    _frozen_clock(monkeypatch, time.time_ns())
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.py").write_bytes(b"key = 1\n")
    _hashes(tmp_path / "c.db", root, ["a.py"])
    _rewrite_keeping_mtime(root / "a.py", b"key = 2\n")
    assert _hashes(tmp_path / "c.db", root, ["a.py"]) == ({"a.py": _sha(b"key = 2\n")}, 1)


def test_a_stamp_older_than_the_window_is_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The counterpart of the racy test: with the same frozen timestamps safely in the past, the
    # stamp is trusted and the file is not read (so the racy test shows the racy rule at work).
    _frozen_clock(monkeypatch, time.time_ns() - 10 * stamps.SETTLE_NS)
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.py").write_bytes(b"key = 1\n")
    first, _ = _hashes(tmp_path / "c.db", root, ["a.py"])
    assert _hashes(tmp_path / "c.db", root, ["a.py"]) == (first, 0)


def test_a_file_renamed_over_with_the_same_stamp_values_is_seen_by_its_inode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Times frozen in the past: size and times of the replacement equal the original's, only
    # the inode tells them apart.
    _frozen_clock(monkeypatch, time.time_ns() - 10 * stamps.SETTLE_NS)
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.py").write_bytes(b"key = 1\n")
    _hashes(tmp_path / "c.db", root, ["a.py"])
    (root / "new").write_bytes(b"key = 2\n")
    (root / "new").replace(root / "a.py")
    assert _hashes(tmp_path / "c.db", root, ["a.py"]) == ({"a.py": _sha(b"key = 2\n")}, 1)


def test_a_file_deleted_and_recreated_is_read_again(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.py").write_bytes(b"key = 1\n")
    (root / "b.py").write_bytes(b"other\n")
    _hashes(tmp_path / "c.db", root, ["a.py", "b.py"], _later)
    time.sleep(TICK_S)
    old = (root / "a.py").stat()
    (root / "a.py").unlink()
    assert _hashes(tmp_path / "c.db", root, ["a.py", "b.py"], _later) == ({"b.py": _sha(b"other\n")}, 0)
    (root / "a.py").write_bytes(b"key = 2\n")  # the inode number may well be reused
    os.utime(root / "a.py", ns=(old.st_atime_ns, old.st_mtime_ns))
    assert _hashes(tmp_path / "c.db", root, ["a.py", "b.py"]) == (
        {"a.py": _sha(b"key = 2\n"), "b.py": _sha(b"other\n")},
        1,
    )


def test_only_the_last_runs_paths_keep_a_row(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (root / name).write_bytes(name.encode())
    _hashes(tmp_path / "c.db", root, ["a.py", "b.py", "c.py"])
    _hashes(tmp_path / "c.db", root, ["a.py"])
    with ResultCache(tmp_path / "c.db", CacheConfig().max_bytes) as cache:
        assert list(cache.stamps(os.fsencode(root))) == [b"a.py"]
        cache.clear()
        assert cache.stamps(os.fsencode(root)) == {}


def test_a_damaged_row_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _frozen_clock(monkeypatch, time.time_ns() - 10 * stamps.SETTLE_NS)
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.py").write_bytes(b"key = 1\n")
    _hashes(tmp_path / "c.db", root, ["a.py"])
    with ResultCache(tmp_path / "c.db", CacheConfig().max_bytes) as cache:
        cache._conn.execute("UPDATE stamps SET value = CAST(substr(value, 1, 48) || zeroblob(32) AS BLOB)")
    assert _hashes(tmp_path / "c.db", root, ["a.py"]) == ({"a.py": _sha(b"key = 1\n")}, 1)
    with ResultCache(tmp_path / "c.db", CacheConfig().max_bytes) as cache:
        cache._conn.execute("UPDATE stamps SET value = 'text'")
    assert _hashes(tmp_path / "c.db", root, ["a.py"]) == ({"a.py": _sha(b"key = 1\n")}, 1)


class Todo(Scanner):
    """A file-local scanner of ``TODO`` lines that runs no process (its plan is empty)."""

    name = ToolName("todo")
    file_local = True

    def version(self) -> str:
        return "1"

    def plan(self, job: ScanJob) -> Plan:
        return Plan()

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        files = {}
        for path in job.files:
            lines = (job.root / path).read_bytes().splitlines()
            found = tuple(
                Finding(self.name, "TODO", "a TODO", Location(path, n), Severity.LOW)
                for n, line in enumerate(lines, 1)
                if b"TODO" in line
            )
            files[path] = FileOutput(findings=found)
        return FileOutputs(files)


def _findings(tmp: Path, root: Path, cache_file: Path | None) -> list[tuple[str, int | None]]:
    files = tuple(sorted(p.name for p in root.iterdir()))
    workdir = tmp / f"work{time.monotonic_ns()}"
    job = ScanJob(root, files, workdir, load_policy())
    scanner: Scanner = Todo()
    if cache_file is None:
        result = run_scanner(scanner, job, 30)
    else:
        session = CacheSession.open(cache_file, CacheConfig())
        assert session is not None
        with session:
            scanner, job = session.prepare(scanner, job, excludes=())
            result = run_scanner(scanner, job, 30)
            session.commit([(scanner, result)], Redactor(), False)
    return sorted((f.location.path, f.location.start_line) for f in result.findings)


def _content(rng: random.Random, size: int) -> bytes:
    lines = [rng.choice((b"TODO", b"done", b"odds")) for _ in range(max(1, size // 5))]
    return b"\n".join(lines)[:size].ljust(size, b"\n")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_give_what_a_cache_less_run_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.setattr(stamps, "_clock", _later)  # every stamp trusted: the shortcut at its boldest
    rng = random.Random(seed)
    root = tmp_path / "tree"
    root.mkdir()
    for i in range(6):
        (root / f"f{i}.txt").write_bytes(_content(rng, 20))
    cache_file = tmp_path / "cache.db"
    for _ in range(12):
        assert _findings(tmp_path, root, cache_file) == _findings(tmp_path, root, None)
        time.sleep(TICK_S)
        for _ in range(rng.randint(1, 3)):
            path = root / f"f{rng.randrange(8)}.txt"
            op = rng.choice(("same-size", "append", "delete", "rename-over", "touch", "create"))
            if not path.exists():
                path.write_bytes(_content(rng, 20))
            elif op == "same-size":
                _rewrite_keeping_mtime(path, _content(rng, path.stat().st_size))
            elif op == "append":
                path.write_bytes(path.read_bytes() + b"TODO\n")
            elif op == "delete":
                path.unlink()
            elif op == "rename-over":
                old = path.stat()
                (root / "swap").write_bytes(_content(rng, old.st_size))
                os.utime(root / "swap", ns=(old.st_atime_ns, old.st_mtime_ns))
                (root / "swap").replace(path)
            elif op == "touch":
                path.touch()
    assert _findings(tmp_path, root, cache_file) == _findings(tmp_path, root, None)


def test_a_cache_of_the_previous_schema_keeps_its_entries(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c.db", CacheConfig().max_bytes) as cache:
        cache.put_many([(b"k", b"v")], 1)
        cache._conn.execute("DROP TABLE stamps")
        cache._conn.execute("PRAGMA user_version = 2")
    with ResultCache(tmp_path / "c.db", CacheConfig().max_bytes) as cache:
        assert cache.get_many([b"k"], 1) == {b"k": b"v"}
        assert cache.stamps(b"/") == {}


def test_text_hashes_are_those_of_the_texts_the_identities_read(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    split = b"a" * ((1 << 20) - 1) + "é".encode()  # a character across two reads
    binary = b"MZ\xff\x00" * 300_000  # over a read: its text is read in pieces too
    files = {"ok.py": "é = 1\n".encode(), "split.txt": split, "bin.exe": binary, "cut.txt": b"x\xc3"}
    for name, data in files.items():
        (root / name).write_bytes(data)
    texts = {n: _sha(d.decode("utf-8", "replace").encode()) for n, d in files.items()}
    with ResultCache(tmp_path / "c.db", CacheConfig().max_bytes) as cache:
        for reads in (4, 0):  # read, then from the stamps
            hashes = FileHashes(cache, _later)
            assert hashes.text_hashes(root, list(files)) == texts
            assert hashes.hashes(root, list(files)) == {n: _sha(d) for n, d in files.items()}
            assert hashes.read == reads
            hashes.save()


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=9))
def test_the_text_digest_read_in_pieces_is_that_of_the_whole(data: bytes, size: int) -> None:
    pieces = iter([data[i : i + size] for i in range(0, len(data), size)])
    assert stamps.text_digest(lambda: next(pieces, b"")) == _sha(data.decode("utf-8", "replace").encode())
