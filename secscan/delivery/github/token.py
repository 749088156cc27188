"""The GitHub token: read from a file (systemd credentials) or ``GITHUB_TOKEN``, never shown.

The value is wrapped in :class:`pydantic.SecretStr`, whose ``repr`` and ``str`` hide it, so an
accidental log line or exception message cannot carry it; :func:`scrub` removes it from any
text secscan is about to log, store or raise, and :mod:`secscan.core.logsecrets` from every log record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from secscan.config.github import GithubConfig
from secscan.core.errors import MissingSecretError
from secscan.core.logsecrets import remember
from secscan.fs.secret_file import read_secret_file

ENV_VAR = "GITHUB_TOKEN"


def _token_path(config: GithubConfig, env: Mapping[str, str]) -> Path | None:
    if config.token_file is None:
        return None
    path = config.token_file.expanduser()
    credentials = env.get("CREDENTIALS_DIRECTORY")
    if not path.is_absolute() and credentials:
        path = Path(credentials) / path
    return path


def resolve_token(config: GithubConfig, env: Mapping[str, str] | None = None) -> SecretStr:
    """The token: ``token_file`` when configured (read by
    :func:`~secscan.fs.secret_file.read_secret_file`: never a FIFO or a device, at most 64 KiB),
    else ``$GITHUB_TOKEN``. Raises ConfigError."""
    env = os.environ if env is None else env
    path = _token_path(config, env)
    if path is not None:
        return SecretStr(remember(read_secret_file(path, "[github] token_file")))
    value = env.get(ENV_VAR, "").strip()
    if not value:
        raise MissingSecretError(
            f"no GitHub token: set {ENV_VAR} or [github] token_file (a file or systemd credential)",
            may_appear=False,
        )
    return SecretStr(remember(value))


def scrub(text: str, token: SecretStr | None) -> str:
    """``text`` with every occurrence of the token replaced (defence in depth)."""
    if token is None:
        return text
    value = token.get_secret_value()
    return text.replace(value, "[REDACTED]") if value else text
