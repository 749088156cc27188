"""``[github]``: the repository, API URL, token source, upload and sync options (validated by
:mod:`secscan.config.schema.github`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    host = host.lower().strip("[]")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class GithubConfig:
    """``[github]``: where secscan uploads SARIF and syncs alert dismissals.

    Only a trusted config file (``--config``) may hold this section: it decides where findings
    are sent. The token is never part of the configuration: it comes from ``token_file`` (e.g. a
    systemd credential) or the ``GITHUB_TOKEN`` environment variable.
    """

    repository: str
    api_url: str = "https://api.github.com"
    token_file: Path | None = None
    ref: str | None = None
    commit_sha: str | None = None
    checkout_uri: str | None = None
    upload_on_nightly: bool = True
    timeout_s: float = 30.0
    wait_for_processing_s: float = 120.0
    poll_interval_s: float = 5.0
    sync_on_nightly: bool = True
    pull_dismissals: bool = True  # GitHub dismissals -> local triage decisions
    push_dismissals: bool = True  # local false-positive / accepted-risk -> GitHub dismissals

    @property
    def api_host(self) -> str:
        return (urlsplit(self.api_url).hostname or "").lower()

    @property
    def owner_repo(self) -> tuple[str, str]:
        owner, _, name = self.repository.partition("/")
        return owner, name
