"""The schema of ``[cache]`` (its values: :class:`secscan.config.cache.CacheConfig`)."""

from __future__ import annotations

from pydantic import Field

from secscan.config.cache import DEFAULT_MAX_BYTES
from secscan.config.schema.base import YEAR_S, ConfigModel, PathText


class CacheConfig(ConfigModel):
    """Validates :class:`secscan.config.cache.CacheConfig` (documented there)."""

    enabled: bool = True
    path: PathText | None = None
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024 * 1024, description="bytes on disk")
    online_ttl_hours: float = Field(
        default=12.0, gt=0, le=YEAR_S / 3600, description="hours an online audit is reused"
    )
    osv_index: bool = True
