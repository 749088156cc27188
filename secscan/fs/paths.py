"""Where the store lives: the XDG state directory by default, or the file a path or an
``sqlite:///`` URL names (the locks beside it need the same answer as the store); and where
secscan keeps derived data (the XDG cache directory)."""

from __future__ import annotations

import os
import re
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
