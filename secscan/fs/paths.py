"""Where the store lives: the XDG state directory by default, or the file a path or an
``sqlite:///`` URL names (the locks beside it need the same answer as the store); and where
secscan keeps derived data (the XDG cache directory)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from secscan.core.errors import StoreError


def default_db_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/secscan/secscan.db``, else ``~/.local/state/secscan/secscan.db``.

    A relative ``XDG_STATE_HOME`` is ignored, as the XDG base directory spec requires.
    """
    env = os.environ if env is None else env
    state = env.get("XDG_STATE_HOME", "")
    base = Path(state) if state and Path(state).is_absolute() else Path.home() / ".local" / "state"
    return base / "secscan" / "secscan.db"


def cache_home(env: Mapping[str, str] | None = None) -> Path | None:
    """``$XDG_CACHE_HOME/secscan``, else ``~/.cache/secscan``: secscan's derived data (compiled
    OSV indexes, remembered settings). A relative ``XDG_CACHE_HOME`` is ignored, as the XDG base
    directory spec requires; None when there is no home folder to be found."""
    env = os.environ if env is None else env
    cache = env.get("XDG_CACHE_HOME", "")
    try:
        base = Path(cache) if cache and Path(cache).is_absolute() else Path.home() / ".cache"
    except RuntimeError:  # no home folder to be found
        return None
    return base / "secscan"


_SQLITE_URL = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<database>[^?#]+)")


def database_file(url_or_path: str | Path | None) -> Path:
    """The database file of a path, an ``sqlite:///FILE`` URL, or None (the XDG default).

    Raises StoreError for any other URL (secscan stores findings in SQLite files only).
    """
    text = str(default_db_path() if url_or_path is None else url_or_path)
    if "://" not in text:
        return Path(text).expanduser().resolve()
    match = _SQLITE_URL.fullmatch(text)
    if match is None or match["database"] == ":memory:":
        scheme = text.split("://", 1)[0]
        raise StoreError(
            f"database URL {scheme}://... is not supported; use an SQLite file path, sqlite:///FILE "
            "or a postgresql:// URL"
        )
    return Path(match["database"]).expanduser().resolve()


def existing_database(db: str | Path | None) -> Path | None:
    """The database file a reading command opens (``None`` for a PostgreSQL URL), which must be
    there already: reading never creates a database, nor the folder it would be in.

    Raises StoreError when nothing is at that path, or something that is not a regular file (a
    folder, ``/dev/null``, a FIFO).
    """
    from secscan.fs.urls import is_postgres

    if is_postgres(db):
        return None
    path = database_file(db)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise StoreError(
            f"no database at {path}; record a run first (secscan run, secscan ingest) or pass --db"
        ) from None
    except OSError as exc:
        raise StoreError(
            f"cannot read database {path}: {exc.strerror}; pass --db with the database file"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise StoreError(f"database {path} is {kind}; pass --db with the database file")
    return path
