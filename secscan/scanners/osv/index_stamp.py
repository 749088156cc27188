"""The files of the compiled OSV index folder, by name, and their stamps (the protocol is
:mod:`secscan.scanners.osv.index_store`'s): what a run needs to read a stamp without loading the
index's code (its matching and version engines), as a run does that only names the dataset
(:func:`recorded_content`, for the result cache).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secscan.scanners.osv.signature import DatasetSignature

FORMAT = 1
"""The index file's layout version (its SQLite ``user_version``, and part of every file's name):
bump it when the tables' meaning changes."""


@dataclass(frozen=True)
class IndexNames:
    """The files of one dataset (``D``) and signature (``S``) in the index folder ``folder``."""

    folder: Path
    dataset: str
    signature: str

    @property
    def stem(self) -> str:
        return f"{self.dataset}-{self.signature}"

    @property
    def index(self) -> Path:
        return self.folder / f"{self.stem}.sqlite"

    @property
    def stamp(self) -> Path:
        return self.folder / f"{self.stem}.json"

    @property
    def lock(self) -> Path:
        return self.folder / f"{self.dataset}.lock"

    def temp(self, suffix: str = "sqlite") -> Path:
        return self.folder / f"{self.stem}.{suffix}.{os.getpid()}-{os.urandom(4).hex()}.tmp"


def index_names(folder: Path, signature: DatasetSignature) -> IndexNames:
    dataset = hashlib.sha256(os.fsencode(signature.path)).hexdigest()[:16]
    keyed = hashlib.sha256(f"osv-index/{FORMAT}/{signature.digest}".encode()).hexdigest()[:24]
    return IndexNames(folder, dataset, keyed)


def file_stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def read_stamp(path: Path, signature: DatasetSignature | None = None) -> dict[str, Any] | None:
    """The stamp, or None when it is missing or not one (without ``signature``: only its dataset
    is asked for, of a stamp that may be an older secscan's)."""
    try:
        stamp = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if (
        not isinstance(stamp, dict)
        or stamp.get("format") != FORMAT
        or not isinstance(stamp.get("sha256"), str)
        or not isinstance(stamp.get("stat"), list)
    ):
        return None
    if signature is not None and (
        stamp.get("signature") != signature.digest
        or not isinstance(stamp.get("content", 0), str | None)  # None: over CONTENT_LIMIT, unreadable
    ):
        return None
    return stamp


def sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_stamp(names: IndexNames, sha256: str, signature: DatasetSignature, content: str | None) -> None:
    stamp = {
        "format": FORMAT,
        "sha256": sha256,
        "stat": file_stat(names.index),
        "dataset": str(signature.path),
        "signature": signature.digest,
        "content": content,
    }
    temp = names.temp("json")
    try:
        temp.write_text(json.dumps(stamp), encoding="ascii")
        sync(temp)
        temp.replace(names.stamp)
    finally:
        temp.unlink(missing_ok=True)
    sync(names.folder)


def recorded_content(signature: DatasetSignature, folder: Path) -> str | None:
    """The content hash of the dataset (:func:`~secscan.fs.digest.tree_digest` with
    :data:`~secscan.scanners.osv.signature.CONTENT_LIMIT`) that the build of its index for
    ``signature`` recorded; None when there is none: no index was built for this signature (or
    an older secscan's, whose stamp has no hash: the index is rebuilt), or the dataset is not
    settled (then it gets no index).

    The stamp is trusted as the index is: written by this user in a folder only it may write. It
    does not depend on the index file being whole: the hash describes the dataset, which is
    unchanged since the build as long as its signature is.
    """
    if not signature.settled:
        return None
    stamp = read_stamp(index_names(folder, signature).stamp, signature)
    content = stamp.get("content") if stamp is not None else None
    return content if isinstance(content, str) else None
