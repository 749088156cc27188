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
from secscan.core.errors import ConfigError, MissingSecretError
from secscan.core.logsecrets import remember

ENV_VAR = "GITHUB_TOKEN"
MAX_TOKEN_FILE = 64 * 1024


def _token_path(config: GithubConfig, env: Mapping[str, str]) -> Path | None:
    if config.token_file is None:
        return None
    path = config.token_file.expanduser()
    credentials = env.get("CREDENTIALS_DIRECTORY")
    if not path.is_absolute() and credentials:
        path = Path(credentials) / path
    return path


def resolve_token(config: GithubConfig, env: Mapping[str, str] | None = None) -> SecretStr:
    """The token: ``token_file`` when configured, else ``$GITHUB_TOKEN``. Raises ConfigError."""
    env = os.environ if env is None else env
    path = _token_path(config, env)
    if path is not None:
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_TOKEN_FILE + 1)
        except OSError as exc:
            raise MissingSecretError(
                f"[github] token_file {path} cannot be read ({exc.strerror}); check the path and its "
                "permissions",
                may_appear=True,
            ) from None
        if len(raw) > MAX_TOKEN_FILE:
            raise ConfigError(f"[github] token_file {path} is too large to be a token; check the path")
        value = raw.decode("utf-8", "replace").strip()
        if not value:
            raise MissingSecretError(
                f"[github] token_file {path} is empty; write the token into it", may_appear=True
            )
        return SecretStr(remember(value))
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
