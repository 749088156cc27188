"""Configuration of ``[report]: where the daemon writes the dashboard``."""

from __future__ import annotations

from secscan.config_base import ConfigModel


class ReportConfig(ConfigModel):
    """``[report]: where the daemon writes the dashboard``."""
