"""Configuration of ``[github]: the repository, API URL and token source for code scanning uploads``."""

from __future__ import annotations

from secscan.config_base import ConfigModel


class GithubConfig(ConfigModel):
    """``[github]: the repository, API URL and token source for code scanning uploads``."""
