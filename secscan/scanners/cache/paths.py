"""Where the result cache lives (``[cache] path``, else beside the lifecycle database), and the
compiled OSV indexes (``osv-index/`` beside ``[cache] path``, else in the XDG cache directory)."""

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
    is off, or there is no home folder). ``osv-index/`` beside ``[cache] path`` when it is set,
    else ``$XDG_CACHE_HOME/secscan/osv-index`` (``~/.cache/...``; a relative ``XDG_CACHE_HOME`` is
    ignored, as the XDG base directory spec requires). An index is a derived form of a dataset,
    shared by every lifecycle database and used whether or not a run uses the result cache."""
    if not config.osv_index:
        return None
    if config.path is not None:
        return config.path.expanduser().parent / OSV_INDEX_FOLDER
    home = cache_home(env)
    return home / OSV_INDEX_FOLDER if home is not None else None
