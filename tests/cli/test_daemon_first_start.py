"""The daemon's first start creates its database with one log line of its own, not Alembic's."""

from __future__ import annotations

from pathlib import Path

from tests.daemon.daemon_helpers import make_setup, start, stop, wait_for


def test_first_start_logs_one_migration_line(tmp_path: Path) -> None:
    setup = make_setup(tmp_path)
    config = setup.config("0 0 3 1 1 *")  # nightly far away: nothing runs
    log = tmp_path / "daemon.log"
    proc = start(config, log)
    try:
        wait_for("the health endpoint", lambda: setup.health()[0] == 200, log=log)
    finally:
        stop(proc, log)
    text = log.read_text()
    assert "Running upgrade" not in text and "alembic" not in text.lower(), text
    assert text.count("migrating database") == 1, text
