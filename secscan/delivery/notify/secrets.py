"""Channel secrets (routing keys, webhook URLs, passwords) from the environment or a file.

Secrets are read when a channel is built (when the config is checked and for delivery), never
stored in the outbox, the database or a log line (each value read is remembered by
:mod:`secscan.core.logsecrets`, whose filter redacts it from every log record); a missing one is a
:class:`MissingSecretError` naming the setting, not the value: one read from a file may still
appear, one from the environment cannot (nor a ``*_env`` setting that is not a variable's name:
it may hold the secret itself).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.core.errors import MissingSecretError
from secscan.core.logsecrets import remember
from secscan.fs.secret_file import read_secret_file

if TYPE_CHECKING:
    from secscan.config.settings import Settings

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""An environment variable's name. Any other value is never repeated in a message: it may be the
secret itself, put in ``url_env`` instead of the environment."""


def config_path(path: Path | None, settings: Settings) -> Path | None:
    """``path`` relative to the config file that named it (absolute paths stay as they are)."""
    if path is None or path.is_absolute() or settings.source is None:
        return path
    return settings.source.resolve().parent / path


def read_secret(env: str | None, file: Path | None, settings: Settings, what: str) -> str:
    """The value of ``file`` (stripped) when given, else of the environment variable ``env``.
    The file is read by :func:`~secscan.fs.secret_file.read_secret_file`: a FIFO, a device or a
    file over 64 KiB is refused at once (ConfigError), never waited on."""
    if file is not None:
        path = config_path(file, settings)
        assert path is not None  # noqa: S101 - file is not None
        return remember(read_secret_file(path, f"{what} file"))
    if env and not _ENV_NAME.fullmatch(env):  # the secret itself, put where its variable's name goes
        raise MissingSecretError(
            f"{what} is not set: its *_env setting is not the name of an environment variable (letters, "
            "digits and _); export the secret in a variable and name that, or give its file",
            may_appear=False,
        )
    value = os.environ.get(env or "", "").strip()
    if not value:
        raise MissingSecretError(
            f"{what} is not set: export {env} or give its file in the config", may_appear=False
        )
    return remember(value)
