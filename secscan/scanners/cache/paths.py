"""Where the result cache lives (``[cache] path``, else beside the lifecycle database), and the
compiled OSV indexes (in the XDG cache directory)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from secscan.config.cache import CacheConfig
from secscan.fs.paths import cache_home, default_db_path

CACHE_NAME = "secscan-cache.db"
OSV_INDEX_FOLDER = "osv-index"


def cache_path(config: CacheConfig, db: str | None) -> Path:
    """``config.path``, or ``secscan-cache.db`` in the folder of the lifecycle database ``db``
    (a file path or ``sqlite:///`` URL; ``None`` or another kind of URL: the XDG state directory)."""
    if config.path is not None:
        return config.path.expanduser()
    if db is None:
        return default_db_path().with_name(CACHE_NAME)
    if "://" not in db:
        return Path(db).expanduser().resolve().with_name(CACHE_NAME)
    if db.startswith("sqlite:///") and len(db) > len("sqlite:///"):
        database = db.removeprefix("sqlite:///").split("?", 1)[0]
        return Path(database).expanduser().resolve().with_name(CACHE_NAME)
    return default_db_path().with_name(CACHE_NAME)


def cache_for_run(config: CacheConfig, db: str | None, use_cache: bool) -> Path | None:
    """The cache file a ``secscan run`` uses, or None for a cold run (``--no-cache``, disabled)."""
    return cache_path(config, db) if use_cache and config.enabled else None


def osv_index_folder(config: CacheConfig, env: Mapping[str, str] | None = None) -> Path | None:
    """Where runs keep the compiled indexes of offline OSV databases (None: ``[cache] osv_index``
    is off). ``$XDG_CACHE_HOME/secscan/osv-index`` (``~/.cache/...``; a relative ``XDG_CACHE_HOME``
    is ignored, as the XDG base directory spec requires), whatever ``[cache] path`` says: an
    index is a derived form of a dataset, shared by every lifecycle database and result cache and
    used whether or not a run uses the result cache, so a run with a new result cache finds the
    index a ``--no-cache`` run compiled (issue 7's cold-run target). Only without a home folder
    is it ``osv-index/`` beside ``[cache] path`` (None when that is not set either)."""
    if not config.osv_index:
        return None
    home = cache_home(env)
    if home is not None:
        return home / OSV_INDEX_FOLDER
    return config.path.expanduser().parent / OSV_INDEX_FOLDER if config.path is not None else None
