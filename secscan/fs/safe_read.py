"""Reading files secscan does not control: never a FIFO or a device, never unbounded.

A scanned repository is untrusted, and so is every file secscan reads from it itself (its
``secscan.toml`` and the policy files that names, ``.secscan/suppressions.toml``, requirement
files, ``CODEOWNERS``). A name there can be a FIFO (a read that never returns), ``/dev/zero`` or a
huge file (a read that never ends), or a symbolic link out of the repository. So every such file
is opened non-blocking, checked with ``fstat`` to be a regular file, and read up to a limit:

* :func:`read_regular` reads a path that may be anywhere (a trusted ``--config`` and the files it
  names), following symbolic links;
* :func:`read_inside` reads a repo-relative path under a root, opening each component relative
  to the one above it with ``O_NOFOLLOW``: no symbolic link is followed anywhere on the way;
* :func:`open_regular` opens a path as :func:`read_regular` does, for a caller that reads it in
  chunks (a SARIF log) or words a failure to open it itself (a credential file:
  :mod:`secscan.fs.secret_file`).

Every problem is one :class:`~secscan.core.errors.InputError` line naming the file (exit 2).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from secscan.core.errors import InputError
from secscan.core.printable import printable

MAX_CONFIG_BYTES = 1_000_000
"""The size limit of a configuration or policy file (``secscan.toml``, ``[policy]`` files)."""

_FILE = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _too_large(what: str, shown: str, limit: int) -> InputError:
    return InputError(f"{what} {shown} is larger than {limit} bytes; trim it or point at another file")


def _checked(fd: int, limit: int | None, what: str, path: object) -> int:
    """The size of the freshly opened ``fd`` (closed here when it is refused): a regular file of
    at most ``limit`` bytes (None: of any size), else InputError."""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _kind(info.st_mode)
            raise InputError(f"{what} {printable(str(path))} is {kind}; it must be a regular file")
        if limit is not None and info.st_size > limit:
            raise _too_large(what, printable(str(path)), limit)
    except BaseException:
        os.close(fd)
        raise
    return info.st_size


def _read_fd(fd: int, limit: int, what: str, path: object) -> bytes:
    """Read a freshly opened descriptor (closed here): a regular file of at most ``limit`` bytes."""
    size = _checked(fd, limit, what, path)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        data = fh.read(size + 1)  # the size fstat gave, not the limit: no buffer of ``limit`` bytes
        if len(data) > size:  # it grew since: read on, to one byte past the limit at most
            data += fh.read(limit + 1 - len(data))
    if len(data) > limit:
        raise _too_large(what, printable(str(path)), limit)
    return data


def open_regular(path: Path, limit: int | None, what: str) -> BinaryIO:
    """``path`` opened for reading (symbolic links followed) without waiting for a FIFO's writer,
    once ``fstat`` shows a regular file of at most ``limit`` bytes (None: a caller that bounds
    what it reads itself, a gzip file's decompressed size say; either way the caller stops at its
    limit, as the file may grow). Raises OSError when it cannot be opened, InputError when it is
    not a regular file or is larger than ``limit``."""
    fd = os.open(path, _FILE)
    _checked(fd, limit, what, path)
    return os.fdopen(fd, "rb")


def read_regular(path: Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file at ``path`` (symbolic links followed). Raises InputError."""
    try:
        return _read_fd(os.open(path, _FILE), limit, what, path)
    except OSError as exc:
        shown = printable(str(path))
        raise InputError(f"cannot read {what} {shown}: {exc.strerror}; check the path") from None


def read_inside(root: Path, relpath: str, limit: int, what: str) -> bytes | None:
    """The bytes of ``root/relpath`` without following any symbolic link below ``root``.

    ``None`` when the file (or a folder on the way) does not exist. Raises InputError when a
    component is a symbolic link, the file is not a regular file, or it is larger than ``limit``.
    """
    *folders, name = relpath.split("/")
    shown = printable(str(root / relpath))
    try:
        fd = os.open(root, _DIR)
    except OSError as exc:
        raise InputError(f"cannot read {what} {shown}: {exc.strerror}; check the path") from None
    try:
        for part in folders:
            try:
                below = os.open(part, _DIR | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                return None
            os.close(fd)
            fd = below
        try:
            file_fd = os.open(name, _FILE | os.O_NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            return None
        return _read_fd(file_fd, limit, what, shown)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise InputError(
                f"{what} {shown} is reached through a symbolic link (or a non-folder on its path); "
                "secscan never follows links in a scanned repository: make it a regular file"
            ) from None
        raise InputError(f"cannot read {what} {shown}: {exc.strerror}; check its permissions") from None
    finally:
        os.close(fd)


__all__ = ["MAX_CONFIG_BYTES", "open_regular", "read_inside", "read_regular"]
