"""One remembered settings entry on disk (:mod:`secscan.config.memo`): written whole or not at all,
read only when whole, this user's, and nobody else's to write.

An entry is ``FORMAT KEY SHA256\\n`` then a pickle of ``(facts, settings)``; the SHA-256 is the
pickle's, so a torn or damaged file is never unpickled.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from pathlib import Path

from secscan.config.values import Settings

FORMAT = b"secscan-settings-memo 1"
SUFFIX = ".memo"

Fact = tuple[str, str, bool]
"""A file a configuration names: its path, where it resolved to, and whether it was a file."""
Entry = tuple[list[Fact], Settings]


def _is_fact(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and isinstance(value[2], bool)
    )


def read(folder: Path, key: str) -> Entry | None:
    """The entry of ``key``, or None when there is none or it is torn, damaged, foreign or
    open to others' writes."""
    try:
        fd = os.open(folder / f"{key}{SUFFIX}", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
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
    head, _, body = data.partition(b"\n")
    if head != b" ".join((FORMAT, key.encode(), hashlib.sha256(body).hexdigest().encode())):
        return None
    try:
        facts, settings = pickle.loads(body)  # noqa: S301 - checked above: whole, ours, only ours to write
    except Exception:  # a file that does not unpickle is no entry, whatever it raises
        return None
    if not isinstance(settings, Settings) or not isinstance(facts, list) or not all(map(_is_fact, facts)):
        return None
    return facts, settings


def write(folder: Path, key: str, facts: list[Fact], settings: Settings, keep: int) -> None:
    """Store the entry of ``key`` (a temporary file renamed into place), then remove the oldest
    entries beyond ``keep``. Failing to store is not an error: the next command validates again."""
    body = pickle.dumps((facts, settings), protocol=pickle.HIGHEST_PROTOCOL)
    data = b" ".join((FORMAT, key.encode(), hashlib.sha256(body).hexdigest().encode())) + b"\n" + body
    temporary = folder / f".{key}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        temporary.replace(folder / f"{key}{SUFFIX}")
    except OSError:
        temporary.unlink(missing_ok=True)
        return
    _prune(folder, keep)


def _prune(folder: Path, keep: int) -> None:
    try:
        entries = [
            e for e in os.scandir(folder) if e.name.endswith(SUFFIX) and e.is_file(follow_symlinks=False)
        ]
        if len(entries) <= keep:
            return
        entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns)
        for entry in entries[: len(entries) - keep]:
            Path(entry.path).unlink()
    except OSError:
        return  # another command pruned at the same time
