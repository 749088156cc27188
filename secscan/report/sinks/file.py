"""Write the SARIF log (or any JSON document) to a file, atomically.

The document is written to a temporary file beside the target path and renamed over it, so a
reader never sees a half-written log and a failure leaves the previous file untouched.
"""

from __future__ import annotations

import glob
import os
import re
import stat
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secscan.core.errors import SinkError
from secscan.core.model import ScanRun
from secscan.fs.names import json_dumps
from secscan.report.sinks.interface import Delivery, Sink


def check_writable(path: Path, what: str = "") -> Path:
    """Fail fast (SinkError, exit 2) when ``path`` could not be written atomically, before any
    work is done: the folder must exist and take a new file (one is created and removed at
    once), and an existing ``path`` must be a regular file (not a folder, device or FIFO).
    Nothing is left behind."""
    name = f"{what} {path}" if what else str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise SinkError(f"cannot write {name}: {exc.strerror}; pick another path") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise SinkError(f"cannot write {name}: it is a folder; give a file name in it")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise SinkError(f"cannot write {name}: it is not a regular file; pick another path")
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise SinkError(
            f"cannot write {name}: folder {folder} does not exist; create it or pick another path"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise SinkError(
            f"cannot write {name}: cannot create a file in {folder} ({exc.strerror}); pick another path"
        ) from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)
    return path


def write_text_atomic(path: Path, text: str, *, what: str = "", mode: int | None = None) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it, fsync and a rename, so a
    reader never sees half a file and a failure leaves the old one. The file keeps mkstemp's
    private mode unless ``mode`` is given. ``what`` names the file in errors ("report").
    Raises SinkError."""
    name = f"{what} {path}" if what else str(path)
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise SinkError(
            f"cannot write {name}: folder {folder} does not exist; create it or pick another path"
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise SinkError(f"cannot write {name}: {exc.strerror}; check the path and free space") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise SinkError(f"cannot write {name}: {exc.strerror}; check the path and free space") from None
    _remove_stale(path)
    return path


STALE_AFTER_S = 3600.0
"""A temporary file of an output older than this was left by a writer that died (``kill -9``)."""

_MKSTEMP_MIDDLE = re.compile(r"[a-z0-9_]{8}")


def _remove_stale(path: Path) -> None:
    """Remove the temporary files of ``path`` that writers killed mid-write left beside it (only
    names :func:`write_text_atomic` makes, only regular files, only ones an hour old: a writer
    that is still at work keeps its own), so that a daemon's folders do not fill with them."""
    folder = path.parent if str(path.parent) else Path()
    prefix = f".{path.name}."
    now = time.time()
    for leftover in folder.glob(glob.escape(prefix) + "*.tmp"):
        middle = leftover.name[len(prefix) : -len(".tmp")]
        try:
            info = leftover.lstat()
            ours = _MKSTEMP_MIDDLE.fullmatch(middle) and stat.S_ISREG(info.st_mode)
            if ours and now - info.st_mtime > STALE_AFTER_S:
                leftover.unlink()
        except OSError:
            continue  # gone meanwhile, or not ours to remove: the write itself succeeded


def write_json_atomic(path: Path, document: Mapping[str, Any]) -> None:
    """Compact JSON (the C encoder; indenting takes five times as long on a large log). A path's
    surrogate escapes are written as ``\\uDCxx`` (:mod:`secscan.fs.names`)."""
    write_text_atomic(path, json_dumps(document, separators=(",", ":")) + "\n")


class FileSink(Sink):
    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def deliver(self, run: ScanRun, sarif: Mapping[str, Any]) -> Delivery:
        write_json_atomic(self.path, sarif)
        return Delivery(sink=self.name, location=str(self.path))
