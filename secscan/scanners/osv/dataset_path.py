"""Whether a configured OSV database can be one, decided before any scanner starts.

A dataset is a folder of OSV records or a ``.zip`` of them (:mod:`secscan.scanners.osv.reader`
reads both). Anything else (a missing path, a plain file, a FIFO, a device) is refused here with
one ``stat``, rather than after the scanners ran, when the database is first opened.
"""

from __future__ import annotations

import stat
from pathlib import Path

from secscan.core.errors import InputError


def check_dataset_path(path: Path, setting: str) -> None:
    """Raise InputError naming ``path`` and ``setting`` (where it was given) unless ``path`` is a
    folder or a regular ``.zip`` file (symbolic links followed)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        raise InputError(f"OSV database {path} does not exist; check {setting}") from None
    if stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and path.suffix.lower() == ".zip"):
        return
    raise InputError(
        f"OSV database {path} is neither a folder nor a .zip file; point {setting} at one of those"
    )
