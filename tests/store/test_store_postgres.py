"""What only the PostgreSQL backend has: URL forms, the schema created once by racing processes,
the extra missing, the column types revision 0009 fixes, the bulk paths' schema of 0010, and the
run lock that keeps hosts sharing the database from scanning one target at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from secscan.app.cancel import held_across_hosts, interrupt_orphaned_runs
from secscan.core.errors import StoreError
from secscan.core.model import RunId
from secscan.fs.locks import LockError
from secscan.fs.urls import is_postgres, postgres_url
from secscan.store import open_store
from secscan.store.sqlite.migrate import SCHEMA_REVISION
from tests.postgres import PostgresServer, raw_rows
from tests.store.builders import T0, fnd, make_run, write_new

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
    """Runs and sweeps update rows in place (no index on the SLA due time, room on each page);
    the checks of parents never deleted while referenced are gone, the key that clears a deleted
    run from history stays."""
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
        options = dict(
            raw_rows(
                store.database,  # type: ignore[attr-defined]
                "SELECT relname, reloptions FROM pg_class WHERE relname IN ('findings', 'finding_sla')",
            )
        )
    assert keys == {
        ("history", "FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE SET NULL"),
    }
    assert "ix_finding_sla_next" not in indexes
    assert options == {"findings": ["fillfactor=50"], "finding_sla": ["fillfactor=70"]}


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


@pytest.mark.parametrize("command", [["findings"], ["status"], ["db", "migrate"], ["fleet", "migrate"]])
def test_a_malformed_postgresql_url_is_one_line_exit_2_without_its_password(command: list[str]) -> None:
    url = "postgresql://alice:s3cret@[::1/secscan"  # the IPv6 host's "]" is missing
    done = subprocess.run([sys.executable, "-m", "secscan", *command, "--db", url],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "secscan: error: the PostgreSQL URL is malformed (Invalid IPv6 URL); use postgresql://USER@HOST:PORT/DBNAME"
    ]


def test_a_run_lock_keeps_a_target_to_one_holder_across_connections(postgres_url: str) -> None:
    """Two stores on one database stand for two hosts: one target is held by one at a time."""
    with open_store(postgres_url) as here, open_store(postgres_url) as there:
        with here.target_lock("web") as held:
            assert held
            with there.target_lock("web", wait_s=0.3) as other:
                assert not other
            with there.target_lock("api") as other:
                assert other
            write_new(here, make_run("r1", [fnd(1)], target="web"))  # the recording's own lock is another
        with there.target_lock("web") as again:
            assert again


def test_a_run_held_on_another_host_is_not_taken_for_a_dead_one(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # this host's file locks
    with open_store(postgres_url) as here, open_store(postgres_url) as there:
        there.begin_run(RunId("r1"), "/srv/web", "web", T0)
        with there.target_lock("web"):  # the other host is still scanning
            assert interrupt_orphaned_runs(here, postgres_url, T0) == []
        assert interrupt_orphaned_runs(here, postgres_url, T0) == ["r1"]  # it died without a word


def test_a_second_run_of_a_target_held_on_another_host_is_refused(postgres_url: str) -> None:
    with open_store(postgres_url) as here, open_store(postgres_url) as there:
        with (
            there.target_lock("web"),
            pytest.raises(LockError, match="another host"),
            held_across_hosts(here, "web", wait_s=0.2),
        ):
            pytest.fail("the lock was taken twice")
        with held_across_hosts(here, "web", wait_s=0.0):
            pass


def test_a_store_on_one_host_adds_no_lock_of_its_own(tmp_path: Path) -> None:
    with (
        open_store(tmp_path / "s.db") as one,
        open_store(tmp_path / "s.db") as two,
        one.target_lock("web") as held,
        two.target_lock("web") as also,
    ):
        assert held and also  # the file lock beside the database keeps runs apart
