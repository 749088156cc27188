"""The folder of compiled OSV indexes: an index is used only when it is fresh and whole, and it
is built once, by the first process that needs it.

Per dataset (``D``: a hash of its resolved path) and signature (``S``: a hash of the index
format and of :func:`~secscan.scanners.osv.signature.dataset_signature`), the folder holds:

- ``D-S.sqlite``: the index, written under another name and renamed into place once complete
  and synced, so a reader never sees half of one;
- ``D-S.json``: its stamp: the SHA-256 of the file and its ``stat`` (inode, size, ``mtime``,
  ``ctime``) when installed, the dataset's path, its signature, and its content hash
  (:func:`~secscan.fs.digest.tree_digest`, taken by the build after the signature: what the
  result cache names the dataset by, read here instead of hashing the dataset again, see
  :func:`recorded_content`). Any write to the index changes its
  ``ctime``, so an index whose ``stat`` still equals the stamp is the file that was installed;
  otherwise it is hashed again, and one whose hash differs (truncated, overwritten, garbage) is
  deleted and rebuilt, never used. A wrong format, foreign file or missing stamp is rebuilt too;
- ``D.lock``: the build lock. A process that finds no usable index takes it, looks again (another
  process may have just built it), else builds; the others wait. A builder killed mid-way leaves
  a ``.tmp`` file, removed by the next builder of that dataset.

After a build, the indexes of the dataset's other signatures are deleted, and those of datasets
that no longer exist. A dataset changed in the last seconds (not *settled*: see
:mod:`secscan.scanners.osv.signature`) gets no index: :func:`open_index` returns None and the caller reads
the dataset directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.core.errors import InputError, SecscanError
from secscan.fs.digest import tree_digest
from secscan.scanners.osv.index import FORMAT, CompiledIndex, IndexDamagedError
from secscan.scanners.osv.signature import DatasetSignature, SignatureError, dataset_signature

if TYPE_CHECKING:
    from secscan.scanners.osv.reader import LoadLimits

logger = logging.getLogger(__name__)

CONTENT_LIMIT = 4 * 1024 * 1024 * 1024
"""A dataset's content is hashed up to this many bytes (a larger one has no content hash)."""

LOCK_WAIT_S = 1800.0
"""How long a process waits for another one compiling the same dataset before reading it directly."""


class IndexUnavailableError(SecscanError):
    """The index folder cannot be used (the caller reads the dataset directly)."""


class DatasetUnlistedError(IndexUnavailableError):
    """The dataset cannot be listed (reading it directly reports why)."""


@dataclass(frozen=True)
class _Names:
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
        return self.folder / f"{self.stem}.{suffix}.{os.getpid()}-{secrets.token_hex(4)}.tmp"


def _names(folder: Path, signature: DatasetSignature) -> _Names:
    dataset = hashlib.sha256(os.fsencode(signature.path)).hexdigest()[:16]
    keyed = hashlib.sha256(f"osv-index/{FORMAT}/{signature.digest}".encode()).hexdigest()[:24]
    return _Names(folder, dataset, keyed)


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _read_stamp(path: Path, signature: DatasetSignature | None = None) -> dict[str, Any] | None:
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


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_stamp(names: _Names, sha256: str, signature: DatasetSignature, content: str | None) -> None:
    stamp = {
        "format": FORMAT,
        "sha256": sha256,
        "stat": _stat(names.index),
        "dataset": str(signature.path),
        "signature": signature.digest,
        "content": content,
    }
    temp = names.temp("json")
    try:
        temp.write_text(json.dumps(stamp), encoding="ascii")
        _sync(temp)
        temp.replace(names.stamp)
    finally:
        temp.unlink(missing_ok=True)
    _sync(names.folder)


def _discard(names: _Names) -> None:
    names.stamp.unlink(missing_ok=True)  # the stamp first: a stamp never vouches for another file
    names.index.unlink(missing_ok=True)


def _discard_quietly(names: _Names) -> None:
    with contextlib.suppress(OSError):
        _discard(names)


def _open_checked(names: _Names, signature: DatasetSignature) -> CompiledIndex | None:
    try:
        index = CompiledIndex.open(names.index)
    except (OSError, IndexDamagedError) as exc:
        logger.debug("OSV index %s not usable: %s", names.index, exc)
        return None
    if index.signature != signature.digest:
        index.close()
        return None
    index.on_damage = lambda: _discard_quietly(names)
    return index


def _installed(names: _Names, signature: DatasetSignature) -> CompiledIndex | None:
    """The index, when its ``stat`` is the stamp's (no lock needed, nothing changed)."""
    stamp = _read_stamp(names.stamp, signature)
    try:
        same = stamp is not None and _stat(names.index) == stamp["stat"]
    except OSError:
        return None
    return _open_checked(names, signature) if same else None


def _verified(names: _Names, signature: DatasetSignature) -> CompiledIndex | None:
    """The index, checked in full when its ``stat`` changed; deleted when it is not whole (under the lock)."""
    stamp = _read_stamp(names.stamp, signature)
    if stamp is not None and names.index.is_file():
        if _stat(names.index) != stamp["stat"]:
            if _sha256(names.index) != stamp["sha256"]:
                logger.warning("OSV index %s is damaged (its content changed); rebuilding it", names.index)
                _discard(names)
                return None
            _write_stamp(names, stamp["sha256"], signature, stamp["content"])  # copied or touched: whole
        index = _open_checked(names, signature)
        if index is not None:
            return index
        logger.warning("OSV index %s is not a whole index of this version; rebuilding it", names.index)
    _discard(names)
    return None


def _build(names: _Names, signature: DatasetSignature, limits: LoadLimits | None) -> None:
    from secscan.scanners.osv.compile import compile_index  # PyYAML and the readers: only to build

    for leftover in names.folder.glob(f"{names.dataset}-*.tmp"):  # of a builder that was killed
        leftover.unlink(missing_ok=True)
    _discard(names)
    temp = names.temp()
    try:
        compile_index(signature.path, temp, signature.digest, limits)
        # after the signature, like the records: a run that finds this signature again finds
        # the content both were read from (any change since changes the signature)
        content = tree_digest(signature.path, CONTENT_LIMIT)
        _sync(temp)
        sha256 = _sha256(temp)
        temp.replace(names.index)
    finally:
        temp.unlink(missing_ok=True)
    _sync(names.folder)
    _write_stamp(names, sha256, signature, content)


def _prune(names: _Names) -> None:
    """Delete the dataset's indexes of other signatures, and those of datasets that are gone."""
    for stamp_path in names.folder.glob("*.json"):
        stem = stamp_path.name.removesuffix(".json")
        if stem == names.stem:
            continue
        if not stem.startswith(f"{names.dataset}-"):
            stamp = _read_stamp(stamp_path)
            dataset = stamp.get("dataset") if stamp else None
            if not isinstance(dataset, str) or Path(dataset).exists():
                continue
        stamp_path.unlink(missing_ok=True)
        (names.folder / f"{stem}.sqlite").unlink(missing_ok=True)
    for index_path in names.folder.glob(f"{names.dataset}-*.sqlite"):  # without a stamp
        if index_path != names.index:
            index_path.unlink(missing_ok=True)


def open_index(
    dataset: Path,
    folder: Path,
    *,
    limits: LoadLimits | None = None,
    now_ns: Callable[[], int] = time.time_ns,
    lock_wait_s: float = LOCK_WAIT_S,
) -> CompiledIndex | None:
    """The compiled index of ``dataset`` in ``folder``, compiled first if needed (its ``built``
    is then True); None when the dataset is not settled (read it directly).

    Raises InputError for a malformed dataset (as a direct load would) and
    IndexUnavailableError when the folder cannot be used.
    """
    try:
        signature = dataset_signature(dataset, now_ns)
    except SignatureError as exc:
        raise DatasetUnlistedError(str(exc)) from None
    if not signature.settled:
        return None
    names = _names(folder, signature)
    found = _installed(names, signature)
    if found is not None:
        return found
    from secscan.fs.locks import LockError, file_lock, lock_holder

    try:
        names.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # only its user may vouch for it
        with file_lock(names.lock, f"compiling the OSV index of {dataset}", lock_wait_s) as locked:
            if not locked:
                raise IndexUnavailableError(
                    f"OSV index {names.index} is being compiled by {lock_holder(names.lock)} "
                    f"for more than {lock_wait_s:g} s"
                )
            found = _verified(names, signature)
            if found is not None:
                return found
            _build(names, signature, limits)
            with contextlib.suppress(OSError):
                _prune(names)
            found = _open_checked(names, signature)
    except InputError:
        raise
    except (OSError, sqlite3.Error, LockError) as exc:
        raise IndexUnavailableError(f"the OSV index folder {folder} cannot be used ({exc})") from None
    if found is None:
        raise IndexUnavailableError(f"OSV index {names.index} cannot be opened after compiling it")
    found.built = True
    return found


def recorded_content(signature: DatasetSignature, folder: Path) -> str | None:
    """The content hash of the dataset (:func:`~secscan.fs.digest.tree_digest` with
    :data:`CONTENT_LIMIT`) that the build of its index for ``signature`` recorded; None when there
    is none: no index was built for this signature (or an older secscan's, whose stamp has no
    hash: the index is rebuilt), or the dataset is not settled (then it gets no index).

    The stamp is trusted as the index is: written by this user in a folder only it may write. It
    does not depend on the index file being whole: the hash describes the dataset, which is
    unchanged since the build as long as its signature is.
    """
    if not signature.settled:
        return None
    stamp = _read_stamp(_names(folder, signature).stamp, signature)
    content = stamp.get("content") if stamp is not None else None
    return content if isinstance(content, str) else None
