"""Credential files (a token, routing key, webhook URL, DSN or password in a file, a systemd
credential in ``$CREDENTIALS_DIRECTORY``): read without ever blocking, and never more than a
credential's worth.

Every ``*_file`` setting of ``[notify.*]`` and ``[github] token_file`` is read here, when the
configuration is checked (before a scan starts) and again when a channel or the uploader is
built. The file is opened non-blocking and checked with ``fstat``
(:func:`~secscan.fs.safe_read.open_regular`), so a FIFO (a read that would wait for a writer
forever), a device or a folder is refused at once, as is a file over :data:`MAX_SECRET_BYTES`.

A file that cannot be opened (not there yet, no permission) or is empty is a
:class:`~secscan.core.errors.MissingSecretError` that ``may_appear``: a credential being mounted
or rotated, which delivery waits for. One that is there but can never be a credential (not a
regular file, too large, not UTF-8) is a plain :class:`~secscan.core.errors.ConfigError`: waiting
cannot fix it, so even a command that only queues (``secscan run --no-notify``) stops on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secscan.core.errors import ConfigError, InputError, MissingSecretError
from secscan.core.printable import printable
from secscan.fs.safe_read import open_regular

if TYPE_CHECKING:
    from pathlib import Path

MAX_SECRET_BYTES = 64 * 1024
"""The size limit of a credential file: far more than any token, key, URL or password."""


def read_secret_file(path: Path, what: str) -> str:
    """The text of the credential file at ``path`` (symbolic links followed), stripped.

    ``what`` names the setting in the messages (``"[github] token_file"``). Raises
    MissingSecretError (``may_appear``) when the file cannot be opened or is empty, ConfigError
    when it is not a regular file, is larger than :data:`MAX_SECRET_BYTES` or is not UTF-8.
    """
    shown = printable(str(path))
    try:
        with open_regular(path, MAX_SECRET_BYTES, what) as fh:
            data = fh.read(MAX_SECRET_BYTES + 1)
    except InputError as exc:  # a FIFO, a device, a folder, too large: waiting cannot help
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise MissingSecretError(
            f"cannot read {what} {shown}: {exc.strerror}; check the path and its permissions", may_appear=True
        ) from None
    if len(data) > MAX_SECRET_BYTES:  # it grew after it was opened
        raise ConfigError(f"{what} {shown} is larger than {MAX_SECRET_BYTES} bytes; is it the right file?")
    try:
        value = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {shown} is not UTF-8 text; write the value into it as text") from None
    if not value:
        raise MissingSecretError(f"{what} {shown} is empty; write the value into it", may_appear=True)
    return value


__all__ = ["MAX_SECRET_BYTES", "read_secret_file"]
