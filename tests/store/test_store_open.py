"""Opening the store: create-or-migrate, pragmas, newer schemas refused, paths and URLs."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import secscan.store.sqlite.tables  # noqa: F401 - registers the models
from secscan.app.tracking import record_run
from secscan.core.errors import StoreError
from secscan.store import default_db_path, open_store
from secscan.store.sqlite.migrate import SCHEMA_REVISION, head_revision, sqlalchemy_engine
from secscan.store.sqlite.store import SqliteStore
from tests.store.builders import POLICY, T0, fnd, make_run


def test_open_creates_the_schema_at_head_and_reopens(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "dir" / "s.db"
    with open_store(db) as store:
        assert store.schema_revision == head_revision() == SCHEMA_REVISION
        record_run(store, make_run("r1", [fnd(1)]), T0, POLICY)
    with open_store(f"sqlite:///{db}") as store:
        assert len(store.list_findings()) == 1


def test_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        assert isinstance(store, SqliteStore)
        with store.database.connection() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        assert isinstance(store, SqliteStore)
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), store.database.transaction(True) as conn:
            conn.execute(
                "INSERT INTO history (finding_id, at, event, to_state, actor, reason) "
                "VALUES (999, 0, 'opened', 'new', 'x', '')"
            )


def test_write_transactions_begin_immediate(tmp_path: Path) -> None:
    """A writer takes the lock at BEGIN: a second writer waits, it does not fail later."""
    db = tmp_path / "s.db"
    with open_store(db) as store:
        assert isinstance(store, SqliteStore)
        statements: list[str] = []
        store.database.trace(statements.append)
        record_run(store, make_run("r1", [fnd(1)]), T0, POLICY)
        store.list_findings()
    assert "BEGIN IMMEDIATE" in statements
    assert "BEGIN DEFERRED" in statements


def test_schema_matches_the_models(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    open_store(db).close()
    engine = sqlalchemy_engine(db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_the_schema_revision_constant_is_the_migrations_head() -> None:
    assert head_revision() == SCHEMA_REVISION


@pytest.mark.parametrize("new", [False, True], ids=["up to date", "new"])
def test_an_up_to_date_or_new_database_is_used_without_loading_sqlalchemy(tmp_path: Path, new: bool) -> None:
    """Importing SQLAlchemy costs about 0.15 s: only upgrading an older schema needs it (a new
    database is created from the head schema's statements, ``schema_head``)."""
    db = tmp_path / "s.db"
    if not new:
        open_store(db).close()
    code = (
        "import sys; from secscan.store import open_store; "
        f"store = open_store({str(db)!r}); store.list_findings(); store.close(); "
        "print(sorted(m for m in ('alembic', 'sqlalchemy', 'sqlmodel') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_newer_database_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    open_store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.close()
    with pytest.raises(StoreError) as info:
        open_store(db)
    assert str(info.value) == (
        f"database {db} has schema revision 0099, newer than this secscan (max {SCHEMA_REVISION}); upgrade secscan"
    )


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open or migrate database"):
        open_store(db)


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite://", "sqlite:///:memory:"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreError, match="not supported"):
        open_store(url)


def test_default_path_follows_xdg(tmp_path: Path) -> None:
    assert default_db_path({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "secscan" / "secscan.db"
    assert default_db_path({"XDG_STATE_HOME": "relative"}) == Path.home() / ".local/state/secscan/secscan.db"
    assert default_db_path({}) == Path.home() / ".local/state/secscan/secscan.db"


def test_a_new_database_and_its_directory_are_private(tmp_path: Path) -> None:
    db = tmp_path / "state" / "secscan" / "secscan.db"
    with open_store(db) as store:
        store.outbox("alerts").enqueue("x", "k", {}, datetime(2026, 11, 26, tzinfo=UTC))  # WAL in use
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for path in db.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path.name


def test_an_uncreatable_database_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match=r"cannot create database .*; check the path"):
        open_store(blocker / "secscan.db")
