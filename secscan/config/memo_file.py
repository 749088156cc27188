"""One remembered settings entry on disk (:mod:`secscan.config.memo`): written whole or not at all,
read only when whole, this user's, and nobody else's to write.

An entry is ``FORMAT KEY SHA256\\n`` then a pickle of ``(facts, settings)``; the SHA-256 is the
pickle's, so a torn or damaged file is never unpickled.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from secscan.config.values import Settings
from secscan.fs.private_file import read_private, write_private

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
    open to others' writes (:func:`~secscan.fs.private_file.read_private`)."""
    body = read_private(folder / f"{key}{SUFFIX}", FORMAT + b" " + key.encode())
    if body is None:
        return None
    try:
        facts, settings = pickle.loads(body)  # noqa: S301 - checked: whole, ours, only ours to write
    except Exception:  # a file that does not unpickle is no entry, whatever it raises
        return None
    if not isinstance(settings, Settings) or not isinstance(facts, list) or not all(map(_is_fact, facts)):
        return None
    return facts, settings


def write(folder: Path, key: str, facts: list[Fact], settings: Settings, keep: int) -> None:
    """Store the entry of ``key`` (a temporary file renamed into place), then remove the oldest
    entries beyond ``keep``. Failing to store is not an error: the next command validates again."""
    body = pickle.dumps((facts, settings), protocol=pickle.HIGHEST_PROTOCOL)
    if write_private(folder / f"{key}{SUFFIX}", FORMAT + b" " + key.encode(), body):
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
