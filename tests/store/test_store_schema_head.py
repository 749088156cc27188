"""A new SQLite database is created from the head schema's statements (``schema_head``), which
must build exactly what the migrations build; older databases still go through Alembic."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from secscan.store.sqlite import migrate, schema_dump, schema_head
from secscan.store.sqlite.db import Database
from secscan.store.sqlite.migrate import SCHEMA_REVISION, ensure_schema, migrate_with_alembic
from secscan.store.sqlite.store import open_store


def _master(path: Path) -> list[tuple[object, ...]]:
    """Everything the schema is made of (SQLite's own autoindexes included), and the revision row."""
    with sqlite3.connect(path) as conn:
        query = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        rows = conn.execute(query).fetchall()
        rows += conn.execute("SELECT 'revision', version_num, '', '' FROM alembic_version").fetchall()
        rows += [("pragma", p, "", str(conn.execute(f"PRAGMA {p}").fetchone()[0]))
                 for p in ("user_version", "application_id")]
    conn.close()
    return rows


def test_a_new_database_has_exactly_the_schema_the_migrations_build(tmp_path: Path) -> None:
    fast, slow = tmp_path / "fast.db", tmp_path / "slow.db"
    open_store(fast).close()
    assert migrate_with_alembic(slow) == SCHEMA_REVISION
    assert _master(fast) == _master(slow)
    assert ("revision", SCHEMA_REVISION, "", "") in _master(fast)


def test_the_statements_are_those_of_the_current_migrations(tmp_path: Path) -> None:
    built = tmp_path / "head.db"
    migrate_with_alembic(built)
    expected = schema_dump.render(migrate.head_revision(), schema_dump.statements(built))
    current = Path(schema_head.__file__).read_text(encoding="utf-8")
    assert current == expected, "schema_head.py is stale: run python -m secscan.store.sqlite.schema_dump"


def test_a_database_with_other_tables_is_not_created_from_the_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    used: list[Path] = []
    monkeypatch.setattr(migrate, "migrate_with_alembic", lambda p: used.append(p) or SCHEMA_REVISION)
    db = Database(path)
    try:
        assert ensure_schema(db) == SCHEMA_REVISION
    finally:
        db.close()
    assert used == [path]  # left to Alembic, which upgrades what is there
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
    conn.close()


def test_statements_of_another_revision_are_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_head, "REVISION", "0001")  # a migration added, the dump not rerun
    used: list[Path] = []
    real = migrate.migrate_with_alembic
    monkeypatch.setattr(migrate, "migrate_with_alembic", lambda p: used.append(p) or real(p))
    path = tmp_path / "s.db"
    open_store(path).close()
    assert used == [path]
    slow = tmp_path / "slow.db"
    real(slow)
    assert _master(path) == _master(slow)


def test_two_openers_of_one_new_database_both_get_the_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        try:
            start.wait()
            open_store(path).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    slow = tmp_path / "slow.db"
    migrate_with_alembic(slow)
    assert _master(path) == _master(slow)
