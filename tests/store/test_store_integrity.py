"""Database integrity under concurrency: threads of one process and other processes share the file.

SQLite's locks belong to the process; a descriptor of the database file opened and closed by
secscan itself (it used to do that in every ``open_store``) drops the locks of all the process's
connections, and another process then checkpoints the WAL under them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secscan.fs import sqlitefile
from secscan.scanners.cache.db import ResultCache
from secscan.store import open_store

STATUS_PROCESSES = 25  # in all, spread over the trials (each costs ~0.6 s of CPU to start)
AT_ONCE = 3
TRIALS = 3
PACE_S = 0.005


def _sqlite3_cli() -> str:
    found = shutil.which("sqlite3")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("the sqlite3 CLI (Debian package sqlite3) is required in CI")
        pytest.skip("the sqlite3 CLI is not installed (apt-get install sqlite3)")
    return found


class _Hammer:
    """Two writer threads and one thread that opens and closes stores, until stopped."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in (1, 2)]
        self.threads.append(threading.Thread(target=self._reopen))

    def _write(self, n: int) -> None:
        try:
            with open_store(self.db) as store:
                i = 0
                while not self.stop.is_set():
                    i += 1
                    now = datetime.now(UTC)
                    store.begin_run(f"w{n}-{i}", "/src", f"target-{n}", now)
                    store.put_daemon_state(f"writer-{n}", {"i": i}, now)
                    self.stop.wait(PACE_S)  # steady writes; flat out, the WAL outgrows checkpoints
        except Exception as exc:
            self.errors.append(f"writer {n}: {exc}")

    def _reopen(self) -> None:
        try:
            while not self.stop.is_set():
                open_store(self.db).close()
                self.stop.wait(PACE_S)
        except Exception as exc:
            self.errors.append(f"open_store: {exc}")

    def __enter__(self) -> _Hammer:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


def _status(db: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "secscan", "status", "--db", str(db), "--format", "json"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _cli_loop(db: Path, cli: str, stop: threading.Event, failures: list[str]) -> None:
    """The sqlite3 CLI reading the database, again and again, until ``stop``."""
    while not stop.is_set():
        argv = [cli, "-cmd", ".timeout 10000", str(db), "SELECT count(*) FROM runs;"]  # a busy timeout
        read = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if read.returncode or read.stderr:
            failures.append(f"sqlite3 CLI: {read.stderr.strip()}")
        stop.wait(0.05)


def _trial(db: Path, cli: str, status_processes: int) -> list[str]:
    open_store(db).close()
    failures: list[str] = []
    with _Hammer(db) as hammer:
        reader = threading.Thread(target=_cli_loop, args=(db, cli, hammer.stop, failures))
        reader.start()
        for start in range(0, status_processes, AT_ONCE):
            batch = [_status(db) for _ in range(min(AT_ONCE, status_processes - start))]
            for proc in batch:
                _out, err = proc.communicate(timeout=300)
                if proc.returncode:
                    failures.append(f"secscan status exit {proc.returncode}: {err.decode()[-300:]}")
    reader.join(60)
    with sqlite3.connect(db) as conn:
        check = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    return failures + hammer.errors + ([] if check == ["ok"] else [f"integrity_check: {check[:3]}"])


def test_threads_and_processes_sharing_the_database_never_corrupt_it(tmp_path: Path) -> None:
    cli = _sqlite3_cli()
    for trial in range(TRIALS):
        share = STATUS_PROCESSES // TRIALS + (trial < STATUS_PROCESSES % TRIALS)  # 9, 8, 8
        assert _trial(tmp_path / f"trial-{trial}" / "secscan.db", cli, share) == [], f"trial {trial}"


def test_create_private_never_opens_an_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "state" / "s.db"
    assert sqlitefile.create_private(db) is True
    assert db.stat().st_size == 0 and (db.stat().st_mode & 0o777) == 0o600
    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: opened.append(str(p)) or real_open(p, *a, **k))
    assert sqlitefile.create_private(db) is False
    open_store(db).close()
    assert str(db) not in opened
    assert [p.name for p in db.parent.iterdir() if p.name.endswith(".new")] == []  # no stray temporary


def test_a_damaged_cache_is_moved_aside_not_deleted(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    path.write_bytes(b"not a database, " * 512)
    with ResultCache(path, 10**8) as cache:
        cache.put_many([(b"k", b"v")], now=1)
        assert cache.get_many([b"k"], now=1) == {b"k": b"v"}
    aside = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == b"not a database, " * 512


def test_move_aside_keeps_the_database_and_its_wal_and_shm_together(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").write_text(suffix or "db")
    aside = sqlitefile.move_aside(path)
    assert aside is not None and not any(Path(f"{path}{s}").exists() for s in ("", "-wal", "-shm"))
    assert [Path(f"{aside}{s}").read_text() for s in ("", "-wal", "-shm")] == ["db", "-wal", "-shm"]
    assert sqlitefile.move_aside(path) is None
