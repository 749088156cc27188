"""Advisory file locks (``flock``) that keep secscan processes from stepping on each other.

* One daemon per database: :func:`daemon_lock` is taken for the daemon's whole life; a second
  daemon on the same database is refused at once.
* One run per target: :func:`target_lock` is taken by ``secscan run`` and by the daemon's nightly
  job around a scan and its recording, so two runs of one target never interleave. A second
  run waits a bounded time, then is refused with a clear message.
* Other shared files: :func:`file_lock` (the compiled OSV index is built under one, once, by the
  first process that needs it).

The locks live beside the database (``<db>.locks/``). ``flock`` locks belong to the open file
description, so the kernel releases them when the process dies, even on ``kill -9``; a stale
lock file is harmless. They are deliberately not POSIX ``fcntl``/``lockf`` locks (SQLite's kind),
which belong to the process: closing *any* descriptor of the file (reading the holder, another
thread's failed attempt) would release them, and two threads of one process would never
exclude each other. Like the database in WAL mode, the folder must be on a local file system
(NFS emulates ``flock`` with POSIX locks). Scanners are started with ``close_fds``, so a
leftover scanner never holds a lock.
Each lock file records its holder (pid, start time, purpose) for the error message.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from secscan.core.errors import SecscanError

POLL_S = 0.2


class LockError(SecscanError):
    """Another secscan process holds a lock this one needs (exit code 2)."""


def database_path(db: str | Path | None) -> Path:
    """The file of database ``db`` (a path, an ``sqlite:///`` URL, or None for the default).

    A PostgreSQL database has no file here: it stands for a node-local name in the XDG state
    folder (``postgresql-<digest of the URL>.db``), beside which its lock files and the daemon's
    SARIF logs live. Runs on other hosts are kept apart by the database's own advisory locks.
    """
    from secscan.fs.paths import (
        database_file,  # validates the URL like open_store does
        default_db_path,
    )
    from secscan.fs.urls import is_postgres

    if is_postgres(db):
        digest = hashlib.sha256(str(db).encode()).hexdigest()[:16]
        return default_db_path().with_name(f"postgresql-{digest}.db")
    return database_file(db)


def lock_dir(db: str | Path | None) -> Path:
    """The folder of the lock files of database ``db``: ``<db>.locks`` beside it."""
    database = database_path(db)
    return database.with_name(database.name + ".locks")


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"{info['holder']} (pid {int(info['pid'])}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another secscan process"


def _try_lock(path: Path, holder: str) -> int | None:
    """An fd holding an exclusive lock on ``path``, or None if another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    since = datetime.now(UTC).isoformat(timespec="seconds")
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "since": since, "holder": holder}).encode(), 0)
    return fd


def _release(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _acquire(path: Path, holder: str, wait_s: float, cancel: threading.Event | None) -> int | None:
    try:
        deadline = time.monotonic() + wait_s
        while True:
            fd = _try_lock(path, holder)
            if fd is not None or time.monotonic() >= deadline or (cancel is not None and cancel.is_set()):
                return fd
            if cancel is not None:
                cancel.wait(POLL_S)
            else:
                time.sleep(POLL_S)
    except OSError as exc:
        raise LockError(
            f"cannot create lock file {path}: {exc.strerror}; check that the database folder is writable"
        ) from exc


@contextlib.contextmanager
def daemon_lock(db: str | Path | None) -> Iterator[None]:
    """Hold the database's daemon lock, or refuse at once with :class:`LockError`."""
    path = lock_dir(db) / "daemon.lock"
    fd = _acquire(path, "secscan daemon", 0, None)
    if fd is None:
        raise LockError(
            f"another secscan daemon is already running on this database: {_holder(path)}; "
            "stop it first, or give this one another database"
        )
    try:
        yield
    finally:
        _release(fd)


def daemon_running(db: str | Path | None) -> str | None:
    """Who holds the daemon lock of ``db`` (for ``secscan status``), or None if nobody does."""
    path = lock_dir(db) / "daemon.lock"
    if not path.exists():
        return None
    fd = _try_lock(path, "secscan status")
    if fd is None:
        return _holder(path)
    _release(fd)
    return None


def _target_path(db: str | Path | None, target: str) -> Path:
    digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:24]
    return lock_dir(db) / f"target-{digest}.lock"


@contextlib.contextmanager
def target_lock(
    db: str | Path | None,
    target: str,
    *,
    wait_s: float,
    holder: str = "secscan run",
    cancel: threading.Event | None = None,
) -> Iterator[None]:
    """Hold the run lock of ``target``, waiting up to ``wait_s`` seconds (or until ``cancel``).

    Raises :class:`LockError` when another run keeps it.
    """
    path = _target_path(db, target)
    fd = _acquire(path, f"{holder} of {target}", wait_s, cancel)
    if fd is None:
        raise LockError(
            f"target {target!r} is being scanned by {_holder(path)}; waited {wait_s:g} s; "
            "let that run finish and try again"
        )
    try:
        yield
    finally:
        _release(fd)


@contextlib.contextmanager
def target_idle(db: str | Path | None, target: str) -> Iterator[bool]:
    """Take the target's run lock if nobody holds it; yields whether it did (no waiting)."""
    fd = _acquire(_target_path(db, target), f"recovery of {target}", 0, None)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            _release(fd)


@contextlib.contextmanager
def file_lock(path: Path, holder: str, wait_s: float) -> Iterator[bool]:
    """Hold the lock file ``path`` (created with its folder), waiting up to ``wait_s`` seconds;
    yields whether it was taken. Raises :class:`LockError` when the file cannot be created."""
    fd = _acquire(path, holder, wait_s, None)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            _release(fd)


def lock_holder(path: Path) -> str:
    """Who holds (or last held) the lock file ``path``, for a message."""
    return _holder(path)
