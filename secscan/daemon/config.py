"""Configuration of ``[daemon]: schedules, targets, health endpoint``."""

from __future__ import annotations

from secscan.config_base import ConfigModel


class DaemonConfig(ConfigModel):
    """``[daemon]: schedules, targets, health endpoint``."""
