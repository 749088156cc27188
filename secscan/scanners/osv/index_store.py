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
  :func:`~secscan.scanners.osv.index_stamp.recorded_content`). Any write to the index changes its
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
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.core.errors import InputError, SecscanError
from secscan.fs.digest import tree_digest
from secscan.scanners.osv.index import CompiledIndex, IndexDamagedError
from secscan.scanners.osv.index_stamp import (
    IndexNames,
    file_stat,
    index_names,
    read_stamp,
    sync,
    write_stamp,
)
from secscan.scanners.osv.signature import (
    CONTENT_LIMIT,
    DatasetSignature,
    SignatureError,
    dataset_signature,
)

if TYPE_CHECKING:
    from secscan.scanners.osv.reader import LoadLimits

logger = logging.getLogger(__name__)

LOCK_WAIT_S = 1800.0
"""How long a process waits for another one compiling the same dataset before reading it directly."""


class IndexUnavailableError(SecscanError):
    """The index folder cannot be used (the caller reads the dataset directly)."""


class DatasetUnlistedError(IndexUnavailableError):
    """The dataset cannot be listed (reading it directly reports why)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _discard(names: IndexNames) -> None:
    names.stamp.unlink(missing_ok=True)  # the stamp first: a stamp never vouches for another file
    names.index.unlink(missing_ok=True)


def _discard_quietly(names: IndexNames) -> None:
    with contextlib.suppress(OSError):
        _discard(names)


def _open_checked(names: IndexNames, signature: DatasetSignature) -> CompiledIndex | None:
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


def _installed(names: IndexNames, signature: DatasetSignature) -> CompiledIndex | None:
    """The index, when its ``stat`` is the stamp's (no lock needed, nothing changed)."""
    stamp = read_stamp(names.stamp, signature)
    try:
        same = stamp is not None and file_stat(names.index) == stamp["stat"]
    except OSError:
        return None
    return _open_checked(names, signature) if same else None


def _verified(names: IndexNames, signature: DatasetSignature) -> CompiledIndex | None:
    """The index, checked in full when its ``stat`` changed; deleted when it is not whole (under the lock)."""
    stamp = read_stamp(names.stamp, signature)
    if stamp is not None and names.index.is_file():
        if file_stat(names.index) != stamp["stat"]:
            if _sha256(names.index) != stamp["sha256"]:
                logger.warning("OSV index %s is damaged (its content changed); rebuilding it", names.index)
                _discard(names)
                return None
            write_stamp(names, stamp["sha256"], signature, stamp["content"])  # copied or touched: whole
        index = _open_checked(names, signature)
        if index is not None:
            return index
        logger.warning("OSV index %s is not a whole index of this version; rebuilding it", names.index)
    _discard(names)
    return None


def _build(names: IndexNames, signature: DatasetSignature, limits: LoadLimits | None) -> None:
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
        sync(temp)
        sha256 = _sha256(temp)
        temp.replace(names.index)
    finally:
        temp.unlink(missing_ok=True)
    sync(names.folder)
    write_stamp(names, sha256, signature, content)


def _prune(names: IndexNames) -> None:
    """Delete the dataset's indexes of other signatures, and those of datasets that are gone."""
    for stamp_path in names.folder.glob("*.json"):
        stem = stamp_path.name.removesuffix(".json")
        if stem == names.stem:
            continue
        if not stem.startswith(f"{names.dataset}-"):
            stamp = read_stamp(stamp_path)
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
    names = index_names(folder, signature)
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

