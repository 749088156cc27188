"""Locks: one daemon per database, one run per target; waits are bounded, refusals are clear."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from secscan.app import run as app
from secscan.config.settings import build_settings
from secscan.fs.locks import LockError, daemon_lock, daemon_running, lock_dir, target_idle, target_lock

HOLD = """
import sys, time
from secscan.fs.locks import target_lock
with target_lock(sys.argv[1], "app", wait_s=0, holder="secscan daemon"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_second_daemon_lock_on_the_same_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with daemon_lock(db):
        refused = pytest.raises(LockError, match=r"another secscan daemon is already running .*pid \d+")
        with refused, daemon_lock(f"sqlite:///{db}"):
            pass
        assert daemon_running(db) is not None
        with daemon_lock(tmp_path / "other.db"):  # another database is independent
            pass
    assert daemon_running(db) is None
    with daemon_lock(db):  # released
        pass
    assert lock_dir(db) == tmp_path / "s.db.locks"


def test_target_lock_waits_a_bounded_time_then_names_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockError) as info, target_lock(db, "app", wait_s=0.3):
            pass
        message = str(info.value)
        assert "'app' is being scanned by secscan daemon of app" in message and f"pid {holder.pid}" in message
        assert "\n" not in message
        with target_idle(db, "app") as idle:
            assert not idle
        with target_lock(db, "other", wait_s=0):  # another target is independent
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(10)
    with target_idle(db, "app") as idle:  # the kernel released it with the process
        assert idle


def test_target_lock_wait_ends_early_on_cancel(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    cancel = threading.Event()
    with target_lock(db, "app", wait_s=0):
        threading.Timer(0.2, cancel.set).start()
        with pytest.raises(LockError), target_lock(db, "app", wait_s=600, cancel=cancel):
            pass
        assert cancel.is_set()


def test_secscan_run_refuses_a_target_another_run_holds(tmp_path: Path) -> None:
    target = tmp_path / "app"
    target.mkdir()
    (target / "a.py").write_text("x = 1\n")
    db = tmp_path / "s.db"
    settings = build_settings(
        {"scanners": {"detect-secrets": {"enabled": False}, "pip-audit": {"enabled": False}}}
    )
    request = app.RunRequest(target=target, settings=settings, sarif_path=tmp_path / "o.sarif", db=str(db),
                             lock_wait_s=0.2)  # fmt: skip
    with target_lock(db, "app", wait_s=0, holder="secscan daemon"), pytest.raises(LockError, match="'app'"):
        app.run(request)
    assert not (tmp_path / "o.sarif").exists()  # nothing ran, nothing was written


PROBE = """
import sys
from secscan.fs.locks import target_idle
with target_idle(sys.argv[1], "app") as idle:
    print("idle" if idle else "held")
"""


def _probe(db: Path) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, str(db)], capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


def test_a_lock_survives_other_descriptors_of_its_file_being_closed_in_the_process(tmp_path: Path) -> None:
    """The locks are ``flock`` locks, owned by one open file description: unlike SQLite's POSIX
    locks, closing another descriptor of the file in this process (reading the holder, a failed
    attempt of another thread) does not release them."""
    db = tmp_path / "s.db"
    with target_lock(db, "app", wait_s=0):
        lock_file = next(lock_dir(db).glob("target-*.lock"))
        assert "secscan run of app" in lock_file.read_text()  # opens and closes the file
        with target_idle(db, "app") as idle:  # another thread's failed attempt: open, flock, close
            assert not idle
        assert _probe(db) == "held"
    assert _probe(db) == "idle"
