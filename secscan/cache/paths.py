"""Where the result cache lives: ``[cache] path``, else beside the lifecycle database; the
compiled OSV indexes live in ``osv-index/`` beside it."""

from __future__ import annotations

from pathlib import Path

from secscan.cache.config import CacheConfig
from secscan.store.paths import default_db_path

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


def osv_index_folder(config: CacheConfig, db: str | None) -> Path | None:
    """Where ``secscan run`` keeps the compiled indexes of offline OSV databases: ``osv-index/``
    in the result cache's folder (whether or not the run uses the cache: the index is a derived
    form of the dataset, not a cache of results), or None when ``[cache] osv_index`` is off."""
    return cache_path(config, db).parent / OSV_INDEX_FOLDER if config.osv_index else None
