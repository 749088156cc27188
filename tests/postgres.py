"""A throwaway PostgreSQL server for the test session, started from the machine's binaries.

One server per test session (per xdist worker), on a unix socket in a temporary folder, with
``trust`` authentication for the session's own superuser ``secscan``. Each test gets a database
of its own: ``CREATE DATABASE ... TEMPLATE`` of an empty template, or of one already migrated to
head (cloning a migrated template costs a few milliseconds; migrating costs a second).

``initdb`` refuses to run as root: as root, the server runs as the ``postgres`` system user (or
``nobody``) through ``runuser``. Without the binaries the PostgreSQL half of the suite skips with
the reason, except under ``SECSCAN_REQUIRE_POSTGRES=1`` (``.ci/run`` sets it), where it fails.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_POSTGRES = "SECSCAN_REQUIRE_POSTGRES"
SUPERUSER = "secscan"
_SEARCH = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (``$SECSCAN_PG_BIN``, Debian's, or on ``PATH``)."""
    candidates = [os.environ.get("SECSCAN_PG_BIN", ""), *_SEARCH]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def unavailable(reason: str) -> None:
    """Skip (or fail under ``SECSCAN_REQUIRE_POSTGRES=1``) a test that needs PostgreSQL."""
    if os.environ.get(REQUIRE_POSTGRES) == "1":
        pytest.fail(f"{reason}; {REQUIRE_POSTGRES}=1 requires it", pytrace=False)
    pytest.skip(reason)


def _run_as() -> list[str]:
    """The command prefix that runs the server as a non-root user (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


@dataclass
class PostgresServer:
    """A running server: its socket folder and how to reach a database on it."""

    bin: Path
    root: Path
    socket_dir: Path
    port: int = 5432
    _names = itertools.count()

    def url(self, database: str, driver: str = "postgresql") -> str:
        """A libpq/SQLAlchemy URL of ``database`` over the unix socket."""
        return f"{driver}://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def conninfo(self, database: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={database}"

    def admin(self, *statements: str) -> None:
        """Run statements in autocommit on the ``postgres`` database (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def create_database(self, template: str = "template0") -> str:
        """A new database cloned from ``template``; returns its name."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server(bin_dir: Path, root: Path) -> PostgresServer:
    """initdb a cluster under ``root`` and start it (``pg_ctl`` waits until it accepts)."""
    prefix = _run_as()
    data, sockets = root / "data", root / "run"
    sockets.mkdir(parents=True)
    if prefix:
        user = pwd.getpwnam(prefix[2])
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
        root.chmod(0o755)
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
         "--encoding=UTF8", "--locale=C", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = (
        f"-c listen_addresses='' -c unix_socket_directories={sockets} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
        "-c shared_buffers=128MB"
    )
    subprocess.run(
        [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
         "-t", "60", "-o", options, "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    return PostgresServer(bin_dir, root, sockets)


def stop_server(server: PostgresServer) -> None:
    subprocess.run(
        [*_run_as(), str(server.bin / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate", "-w",
         "stop"],
        check=False, capture_output=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (skips or fails as :func:`unavailable` says)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install 'secscan[postgres]')")
    bin_dir = postgres_bin()
    if bin_dir is None:
        unavailable("no PostgreSQL binaries (initdb, pg_ctl); install them with apt-get install postgresql")
        raise AssertionError("unreachable")
    root = Path(tempfile.mkdtemp(prefix="secscan-pg-"))
    try:
        server = start_server(bin_dir, root)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        pytest.fail(f"could not start PostgreSQL from {bin_dir}: {detail}", pytrace=False)
    try:
        yield server
    finally:
        stop_server(server)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A database migrated to head once per session: the template of :func:`postgres_url`."""
    from secscan.store import open_store

    name = postgres_server.create_database()
    open_store(postgres_server.url(name)).close()
    return name


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A fresh database of this test, at the head schema revision."""
    name = postgres_server.create_database(postgres_template)
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture
def postgres_empty_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh empty database of this test (no schema yet)."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


BACKENDS = ("sqlite-file", "postgresql")
"""The store backends the contract tests run over."""


@contextmanager
def backend_url(
    request: pytest.FixtureRequest, backend: str, folder: Path, name: str = "secscan.db"
) -> Iterator[str]:
    """A fresh store location of ``backend``: a file in ``folder``, or a database of the
    session's server cloned from the migrated template (dropped afterwards). Usable from a
    fixture of any scope."""
    if backend == "sqlite-file":
        yield str(folder / name)
        return
    if backend != "postgresql":
        raise AssertionError(backend)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(request.getfixturevalue("postgres_template"))
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


def raw_rows(database: object, sql: str) -> list[tuple[object, ...]]:
    """Rows of ``sql`` read straight from a store's database (``store.database``), past the store."""
    conninfo = getattr(database, "conninfo", None)
    if conninfo is not None:
        import psycopg

        with psycopg.connect(conninfo) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]  # type: ignore[arg-type]
    import sqlite3

    with sqlite3.connect(getattr(database, "path")) as conn:  # noqa: B009
        return [tuple(r) for r in conn.execute(sql).fetchall()]
