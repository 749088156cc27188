"""The store's connection pool and transactions over the stdlib driver (``secscan.store.sqlite.db``)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from secscan.core.errors import StoreError
from secscan.fs.paths import database_file, default_db_path
from secscan.store.sqlite.db import Database, scalar


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "t.db")
    with db.transaction(write=True) as conn:
        conn.execute("CREATE TABLE t (v INTEGER)")
    return db


def test_a_failed_transaction_rolls_back_and_its_connection_is_reused(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with pytest.raises(ZeroDivisionError), db.transaction(write=True) as conn:
        conn.execute("INSERT INTO t VALUES (1)")
        first = conn
        raise ZeroDivisionError
    with db.transaction(write=False) as conn:
        assert conn is first and conn.in_transaction  # the pooled connection, in a new transaction
        assert scalar(conn, "SELECT count(*) FROM t") == 0
    db.close()


def test_a_nested_transaction_gets_its_own_connection(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with db.transaction(write=False) as outer, db.transaction(write=True) as inner:
        assert inner is not outer
        inner.execute("INSERT INTO t VALUES (2)")
    with db.transaction(write=False) as conn:
        assert scalar(conn, "SELECT v FROM t") == 2
    db.close()


def test_threads_share_the_pool_without_errors(tmp_path: Path) -> None:
    db = _db(tmp_path)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                with db.transaction(write=i % 2 == 0) as conn:
                    if i % 2 == 0:
                        conn.execute("INSERT INTO t VALUES (?)", (n,))
                    else:
                        scalar(conn, "SELECT count(*) FROM t")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.transaction(write=False) as conn:
        assert scalar(conn, "SELECT count(*) FROM t") == 4 * 25
    db.close()


def test_close_lets_a_running_transaction_finish_then_closes_its_connection(tmp_path: Path) -> None:
    db = _db(tmp_path)
    inside, closed = threading.Event(), threading.Event()

    def writer() -> None:
        with db.transaction(write=True) as conn:
            conn.execute("INSERT INTO t VALUES (7)")
            inside.set()
            closed.wait(10)
            conn.execute("INSERT INTO t VALUES (8)")

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(10)
    db.close()
    closed.set()
    thread.join()
    assert db._all == [] and db._idle == []
    with sqlite3.connect(tmp_path / "t.db") as check:
        assert sorted(v for (v,) in check.execute("SELECT v FROM t")) == [7, 8]
    check.close()


def test_every_statement_reaches_the_trace_callback(tmp_path: Path) -> None:
    db = _db(tmp_path)
    seen: list[str] = []
    db.trace(seen.append)
    with db.transaction(write=True) as conn:
        conn.execute("INSERT INTO t VALUES (3)")
    assert seen[0] == "BEGIN IMMEDIATE" and "INSERT INTO t VALUES (3)" in seen and seen[-1] == "COMMIT"
    db.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("state/s.db", Path("state/s.db").resolve()),
        ("sqlite:///state/s.db", Path("state/s.db").resolve()),
        ("sqlite:////srv/secscan/s.db", Path("/srv/secscan/s.db")),
        ("sqlite+pysqlite:////srv/secscan/s.db", Path("/srv/secscan/s.db")),
        ("~/s.db", Path.home() / "s.db"),
    ],
)
def test_database_file_of_paths_and_urls(given: str, expected: Path) -> None:
    assert database_file(given) == expected


def test_database_file_defaults_to_the_xdg_state_directory() -> None:
    assert database_file(None) == default_db_path().resolve()


@pytest.mark.parametrize(
    "url", ["postgresql://u@h/db", "sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro", "mysql:///x"]
)
def test_other_urls_are_refused_without_echoing_credentials(url: str) -> None:
    with pytest.raises(StoreError, match="is not supported; use an SQLite file path") as info:
        database_file(url)
    assert "@" not in str(info.value)


def test_a_writer_kept_out_too_long_says_the_database_is_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding the write lock past the busy timeout: the error says so and what to
    do, not 'is the disk full?'; the timeout is long enough for another run's large recording."""
    from datetime import UTC, datetime

    from secscan.core.model import RunId
    from secscan.store import open_store
    from secscan.store.sqlite import db as sqlite_db

    assert sqlite_db.BUSY_TIMEOUT_MS >= 60_000
    path = tmp_path / "s.db"
    open_store(path).close()
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_MS", 100)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with open_store(path) as store, pytest.raises(StoreError) as caught:
            store.begin_run(RunId("r1"), "/srv/app", "app", datetime(2026, 1, 1, tzinfo=UTC))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert str(caught.value) == (
        f"database {path} is locked: another process kept it busy for over 0.1 s (a large run or SLA sweep "
        "being recorded, or a process stopped mid-write); try again"
    )
