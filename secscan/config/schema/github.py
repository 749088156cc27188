"""The schema of ``[github]`` (its values: :class:`secscan.config.github.GithubConfig`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from secscan.config.github import is_loopback
from secscan.config.schema.base import DAY_S, ConfigModel, PathText
from secscan.config.values import MAX_TIMEOUT_S


class GithubConfig(ConfigModel):
    """Validates :class:`secscan.config.github.GithubConfig` (documented there)."""

    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")
    api_url: str = "https://api.github.com"
    token_file: PathText | None = Field(
        default=None,
        description="file holding the token; a relative name is looked up in $CREDENTIALS_DIRECTORY",
    )
    ref: str | None = Field(default=None, pattern=r"^refs/(heads|tags|pull)/.+$")
    commit_sha: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{40}$")
    checkout_uri: str | None = Field(default=None, pattern=r"^file://")
    upload_on_nightly: bool = True
    timeout_s: float = Field(default=30.0, gt=0, le=MAX_TIMEOUT_S)
    wait_for_processing_s: float = Field(
        default=120.0, ge=0, le=DAY_S, description="how long an upload polls its processing status inline"
    )
    poll_interval_s: float = Field(default=5.0, gt=0, le=DAY_S)
    sync_on_nightly: bool = True
    pull_dismissals: bool = True  # GitHub dismissals -> local triage decisions
    push_dismissals: bool = True  # local false-positive / accepted-risk -> GitHub dismissals

    @field_validator("api_url")
    @classmethod
    def _https_or_loopback(cls, value: str) -> str:
        parts = urlsplit(value)
        host = parts.hostname or ""
        if not host or parts.scheme not in ("https", "http"):
            raise ValueError("must be an https:// URL such as https://api.github.com")
        if parts.scheme == "http" and not is_loopback(host):
            raise ValueError("must use https (plain http is allowed only on loopback)")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("must be a plain base URL without credentials, query or fragment")
        return value.rstrip("/")
