"""Configuration of ``[cache]: the incremental result cache``."""

from __future__ import annotations

from secscan.config_base import ConfigModel


class CacheConfig(ConfigModel):
    """``[cache]: the incremental result cache``."""
