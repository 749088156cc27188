"""The schema of ``[cache]`` (its values: :class:`secscan.config.cache.CacheConfig`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from secscan.config.cache import DEFAULT_MAX_BYTES
from secscan.config.schema.base import ConfigModel


class CacheConfig(ConfigModel):
    """``[cache]``: where per-file scanner results and dependency audits are kept, and how many.

    ``path`` defaults to ``secscan-cache.db`` beside the lifecycle database (the XDG state
    directory by default). When the file outgrows ``max_bytes`` the least recently used entries
    are evicted. Audits answered by an online vulnerability service are reused for
    ``online_ttl_hours``; those of an offline OSV database for as long as its content is unchanged.
    ``osv_index``: keep compiled indexes of the offline OSV databases (a derived form of each
    dataset, rebuilt whenever it changes; cold runs use them too): in ``osv-index/`` beside
    ``path`` when it is set, else in ``$XDG_CACHE_HOME/secscan/osv-index/``.
    """

    enabled: bool = True
    path: Path | None = None
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024 * 1024, description="bytes on disk")
    online_ttl_hours: float = Field(default=12.0, gt=0, description="hours an online audit is reused")
    osv_index: bool = True
