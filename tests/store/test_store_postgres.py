"""What only the PostgreSQL backend has: URL forms, the schema created once by racing processes,
the extra missing, the column types revision 0009 fixes and the bulk paths' schema of 0010."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from secscan.core.errors import StoreError
from secscan.fs.urls import is_postgres, postgres_url
from secscan.store import open_store
from secscan.store.sqlite.migrate import SCHEMA_REVISION
from tests.postgres import PostgresServer, raw_rows

_OPEN = (
    "import sys; from secscan.store import open_store; "
    "s = open_store(sys.argv[1]); print(s.schema_revision)"
)


def test_url_forms_select_the_backend() -> None:
    for url in ("postgresql://u@h/db", "postgresql+psycopg://u@h:5433/db", "postgres://u@/db?host=/run"):
        assert is_postgres(url)
    for other in ("sqlite:///x.db", "/var/lib/secscan.db", "x.db", None):
        assert not is_postgres(other)
    parsed = postgres_url("postgresql+psycopg://alice:s3cret@db.example:5433/secscan?sslmode=require")
    assert parsed.conninfo == "postgresql://alice:s3cret@db.example:5433/secscan?sslmode=require"
    assert parsed.display == "postgresql://alice:***@db.example:5433/secscan"
    with pytest.raises(StoreError, match="names no database"):
        postgres_url("postgresql://alice@db.example/")


def test_two_processes_create_the_schema_of_an_empty_database_at_once(
    postgres_server: PostgresServer, postgres_empty_url: str
) -> None:
    racers = [
        subprocess.Popen([sys.executable, "-c", _OPEN, postgres_empty_url], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in racers]
    assert [p.returncode for p in racers] == [0, 0, 0]
    assert outputs == [SCHEMA_REVISION] * 3
    with open_store(postgres_empty_url) as store:
        rows = raw_rows(store.database, "SELECT version_num FROM alembic_version")  # type: ignore[attr-defined]
    assert rows == [(SCHEMA_REVISION,)]


def test_the_driver_suffix_opens_the_same_database(postgres_url: str) -> None:
    with open_store(postgres_url.replace("postgresql://", "postgresql+psycopg://")) as store:
        assert store.schema_revision == SCHEMA_REVISION


def test_revision_0009_gives_postgresql_its_types(postgres_url: str) -> None:
    with open_store(postgres_url) as store:
        columns = dict(
            ((table, column), kind)
            for table, column, kind in raw_rows(
                store.database,  # type: ignore[attr-defined]
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public'",
            )
        )
        indexes = dict(
            raw_rows(store.database, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")  # type: ignore[attr-defined]
        )
    assert columns["texts", "hash"] == columns["findings", "baseline_sig"] == "bigint"
    assert columns["findings", "first_seen"] == columns["history", "at"] == "bigint"
    for table in ("findings", "alert_incidents", "alert_incident_members"):
        assert columns[table, "fingerprint"] == "text"
    assert str(indexes["ix_findings_triage_until"]).endswith("WHERE (triage_until IS NOT NULL)")


def test_revision_0010_keeps_only_the_foreign_keys_that_act(postgres_url: str) -> None:
    """The sweep's SLA rows update in place (no index on their due time, room on each page);
    the checks of never-deleted parents are gone, the keys that clear a deleted run stay."""
    with open_store(postgres_url) as store:
        keys = {
            (str(table), str(rule))
            for table, rule in raw_rows(
                store.database,  # type: ignore[attr-defined]
                "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid::regclass::text IN ('findings', 'finding_sla', 'history')",
            )
        }
        indexes = {row[0] for row in raw_rows(store.database, "SELECT indexname FROM pg_indexes")}  # type: ignore[attr-defined]
        options = raw_rows(store.database, "SELECT reloptions FROM pg_class WHERE relname = 'finding_sla'")  # type: ignore[attr-defined]
    assert keys == {
        ("findings", "FOREIGN KEY (last_run_id) REFERENCES runs(id) ON DELETE SET NULL"),
        ("history", "FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE SET NULL"),
    }
    assert "ix_finding_sla_next" not in indexes
    assert options == [(["fillfactor=70"],)]


def test_a_postgresql_url_without_the_extra_is_one_line_exit_2(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; from secscan.cli.main import main; "
        "sys.exit(main(['findings', '--db', 'postgresql://alice:s3cret@db.example/secscan']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "secscan: error: postgresql://alice:***@db.example/secscan is a PostgreSQL database, which needs "
        "the postgres extra (psycopg is missing): pip install 'secscan[postgres]'"
    ]
