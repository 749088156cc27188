"""The installed version of a scanner's distribution, for the result cache's keys (issue 18).

Every run asks for the versions of the scanners it may use: they are part of each cached
result's key. :func:`importlib.metadata.version` answers that, but it costs an unchanged re-run
more than its own scanners do: importing it loads the ``email``, ``zipfile`` and ``csv``
packages, and each call parses the whole ``METADATA`` file (long description included) as an
e-mail message.

:func:`installed_version` gives the same answer for the common case, a ``*.dist-info`` folder
in a folder on ``sys.path`` (what pip, uv and installers following the binary distribution
format write), by reading the metadata's header up to its ``Version`` field. The folders'
listings are remembered only for as long as each folder's modification time is unchanged (as
``importlib.metadata`` itself does), so a long-running daemon sees an upgrade at its next run.
Anything else (an ``.egg-info``, a zip on ``sys.path``, a folder it cannot read, metadata
without a version) goes to :func:`importlib.metadata.version`, which stays the reference: a
test compares the two over every distribution installed beside secscan.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_NORMALIZE = re.compile(r"[-_.]+")
_HEADER_LIMIT = 64 * 1024
_listings: dict[str, tuple[int, dict[str, list[str]]]] = {}


class NotInstalledError(LookupError):
    """No distribution of that name is installed (:class:`importlib.metadata.PackageNotFoundError`)."""


def _normalized(name: str) -> str:
    return _NORMALIZE.sub("_", name).lower()


def _metadata_folders(folder: str) -> dict[str, list[str]]:
    """``folder``'s ``*.dist-info`` and ``*.egg-info`` entries by normalised project name,
    remembered while the folder's modification time is unchanged."""
    mtime = Path(folder).stat().st_mtime_ns
    known = _listings.get(folder)
    if known is not None and known[0] == mtime:
        return known[1]
    found: dict[str, list[str]] = {}
    for child in Path(folder).iterdir():
        entry = child.name
        low = entry.lower()
        if low.endswith((".dist-info", ".egg-info")):
            found.setdefault(_normalized(low.rpartition(".")[0].partition("-")[0]), []).append(entry)
    _listings[folder] = (mtime, found)
    return found


def _header_version(metadata: Path) -> str | None:
    """The ``Version`` field of a core metadata file's header (which ends at the first empty line)."""
    with metadata.open("rb") as handle:
        head = handle.read(_HEADER_LIMIT)
    for line in head.decode("utf-8", "replace").splitlines():
        if not line.strip():
            return None
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "version":
            return value.strip() or None
    return None


def _fast(name: str) -> str | None:
    """The version from the first folder on ``sys.path`` holding metadata of ``name``, when that
    is exactly one ``.dist-info`` folder; None when the reference lookup must decide."""
    wanted = _normalized(name)
    for entry in sys.path:
        folder = entry or "."
        try:
            entries = _metadata_folders(folder).get(wanted)
        except OSError:
            if Path(folder).exists():
                return None  # a zip file on the path: the reference lookup searches inside it
            continue  # a missing entry: nothing to find there
        if entries is None:
            continue
        if len(entries) != 1 or not entries[0].lower().endswith(".dist-info"):
            return None  # an egg-info, or two installs side by side
        try:
            return _header_version(Path(folder, entries[0], "METADATA"))
        except OSError:
            return None
    return None


def installed_version(name: str) -> str:
    """The version of the installed distribution ``name``; :class:`NotInstalledError` if there is none."""
    version = _fast(name)
    if version is not None:
        return version
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise NotInstalledError(name) from exc
