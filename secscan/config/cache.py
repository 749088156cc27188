"""``[cache]``: the incremental result cache (validated by :mod:`secscan.config.schema.cache`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class CacheConfig:
    """``[cache]``: where per-file scanner results and dependency audits are kept, and how many.

    ``path`` defaults to ``secscan-cache.db`` beside the lifecycle database (the XDG state
    directory by default). When the file outgrows ``max_bytes`` the least recently used entries
    are evicted. Audits answered by an online vulnerability service are reused for
    ``online_ttl_hours``; those of an offline OSV database for as long as its content is unchanged.
    ``osv_index``: keep compiled indexes of the offline OSV databases (a derived form of each
    dataset, rebuilt whenever it changes; cold runs use them too): in
    ``$XDG_CACHE_HOME/secscan/osv-index/``, shared whatever ``path`` is (beside ``path`` only
    when there is no home folder).
    """

    enabled: bool = True
    path: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    online_ttl_hours: float = 12.0
    osv_index: bool = True
