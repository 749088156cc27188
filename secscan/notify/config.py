"""Configuration of ``[notify]: channels, routing and SSRF allow-list``."""

from __future__ import annotations

from secscan.config_base import ConfigModel


class NotifyConfig(ConfigModel):
    """``[notify]: channels, routing and SSRF allow-list``."""
