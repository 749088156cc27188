"""SQLite files on disk: created private without ever being opened, moved aside instead of deleted.

SQLite's locks are POSIX advisory locks (``fcntl``), which belong to the *process*: closing any
descriptor of a database file drops every lock the process holds on it, including those of the
SQLite connections of other threads. Another process may then checkpoint the WAL, or reset it,
under those connections, and the database is corrupted (SQLite's "How To Corrupt An SQLite
Database File", section 2.2). So secscan never opens a database file (or its ``-wal`` and
``-shm`` files) itself in a process that may hold connections:

* :func:`create_private` makes a new, empty file (mode 0600) under a temporary name, closes it
  while nobody else can know it, and hard-links it into place (which fails harmlessly when the
  file already exists). An empty file is a valid empty SQLite database, and SQLite gives the
  ``-wal`` and ``-shm`` files the database file's mode.
* :func:`move_aside` renames a damaged database and its ``-wal`` and ``-shm`` files out of the
  way, so that a process still using them keeps consistent files (SQLite refuses its writes to a
  moved database) and the next open starts afresh. Nothing is deleted.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

SUFFIXES = ("", "-wal", "-shm")
"""The database file and the files SQLite keeps beside it in WAL mode."""

_CREATE = threading.Lock()
_KEPT: list[int] = []  # see _create_exclusive


HEADER = b"SQLite format 3\x00"
"""The first bytes of every SQLite database file."""


def is_database(path: Path) -> bool:
    """Whether ``path`` starts as an SQLite database does, or is empty (SQLite takes an empty file
    for a new database). Reads the first bytes only, never through SQLite (which would leave
    ``-wal`` and ``-shm`` files). Only for a process that holds no connection to ``path``
    (``secscan cache``): closing this descriptor would drop its SQLite locks (module docs)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        head = os.read(fd, len(HEADER))
    finally:
        os.close(fd)
    return head in (b"", HEADER)


def create_private(path: Path) -> bool:
    """Create ``path`` (and its folder, mode 0700) as an empty file of mode 0600 if it is missing.

    Never opens ``path`` itself. Returns whether it created the file. Raises OSError.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.path.lexists(path):
        return False
    fd, fresh = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)  # mode 0600
    os.close(fd)  # a new inode that no connection can have open
    try:
        os.link(fresh, path)
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system: create in place, once per process
        return _create_exclusive(path)
    finally:
        Path(fresh).unlink()
    return True


def _create_exclusive(path: Path) -> bool:
    """The fallback for file systems without hard links: create ``path`` in place and keep its
    descriptor open for the life of the process, since closing it could drop the locks of a
    connection another thread opened meanwhile."""
    with _CREATE:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            return False
        _KEPT.append(fd)
        return True


def move_aside(path: Path) -> Path | None:
    """Rename ``path`` and its ``-wal`` and ``-shm`` files to ``<path>.damaged-<time>-<pid>`` (with
    the same suffixes); returns the new name of the database file, or None if it was missing."""
    stamp = f"damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    aside = path.with_name(f"{path.name}.{stamp}")
    moved = None
    for suffix in SUFFIXES:
        try:
            Path(f"{path}{suffix}").rename(f"{aside}{suffix}")
        except FileNotFoundError:
            continue
        if not suffix:
            moved = aside
    return moved
