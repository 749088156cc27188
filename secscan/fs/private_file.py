"""Files secscan keeps for itself in the user's cache folder and later trusts enough to load
(pickled settings, compiled code): written whole or not at all, read only when whole, this user's,
and nobody else's to write.

A file is ``HEAD SHA256\\n`` then its body, the SHA-256 being the body's, so a torn or damaged
file is never handed back. It is written to a temporary file beside it (created exclusively,
mode 0600, in a folder created 0700) and renamed into place: a reader sees the old file or the
new one. It is read through a descriptor opened without following a link, and only if it is a
regular file owned by this user that neither the group nor others may write.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def _header(head: bytes, body: bytes) -> bytes:
    import hashlib  # at the first read or write, not where this module is imported (start-up)

    return head + b" " + hashlib.sha256(body).hexdigest().encode()


def read_private(path: Path, head: bytes) -> bytes | None:
    """The body of the file at ``path`` written with ``head``, or None when there is none or it is
    torn, damaged, of another head, not a regular file, foreign or open to others' writes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
            return None
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    found, _, body = data.partition(b"\n")
    return body if found == _header(head, body) else None


def write_private(path: Path, head: bytes, body: bytes) -> bool:
    """Store ``body`` under ``head`` at ``path``, whole or not at all; False when it could not be
    stored (which is never an error for these files: they are derived and made again). A folder
    that cannot be created or written (under a regular file, read-only, full) raises nothing,
    not even while the temporary file that was never made is cleaned up."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(_header(head, body) + b"\n" + body)
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):  # ENOTDIR, EACCES, EROFS: there may be nothing to remove
            temporary.unlink()
        return False
    return True
