"""Files' content hashes without reading the files that did not change (issue 18).

The cache keys hold each file's content hash; reading and hashing every file on every run was
the largest part of an unchanged re-run's own work. So each file's hash is remembered with the
file's *stamp*, the ``stat`` taken (on the open descriptor) before it was read: size,
modification and status-change times (``mtime``, ``ctime``, in nanoseconds), inode and device.
While the stamp is unchanged, the remembered hash is the file's. Content stays the key: the stamp
is only a shortcut to its hash.

Why an equal stamp proves an unchanged file, as git's index does. Any write sets the file's
``mtime`` and ``ctime`` to the current time, and user space can set back the ``mtime`` (``touch
-r``, ``cp -p``, ``os.utime``) but never the ``ctime``; replacing a file by a rename, or deleting
and recreating it, gives it another inode (or, should the number be reused, a new ``ctime``).
The one gap is a change in the same tick of the file system's clock as the stamp's own times
(the "racy git" problem: timestamps are a few milliseconds coarse on ext4, up to 2 s elsewhere).
So a stamp whose newest time is not at least :data:`SETTLE_NS` older than the moment it was
taken is never trusted: such a file is read again on the next run (and re-stamped, by then
settled). As for :mod:`secscan.scanners.osv.signature`, the file system must be local and its
clock sane.

Each row also holds the hash of the file's text as :mod:`secscan.core.identity` reads it (UTF-8,
invalid sequences replaced: the content's own hash for a file of valid UTF-8), so the identity
memo can answer an unchanged file with findings, a binary included, without reading it.

Rows are kept per target (``scope``) and path, replaced when a file is hashed again, and the
rows of paths a run did not ask for are dropped at its end, so there is one row per file of the
target's last run. Writes are best effort: a row that cannot be written costs a read next time.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import struct
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from secscan.scanners.cache.db import ResultCache

SETTLE_NS = 2_000_000_000
"""How much older than the moment it was taken a stamp's newest time must be for it to be trusted."""

_STAMP = struct.Struct("<QqqQQ")
"""size, mtime_ns, ctime_ns, inode, device."""
_ROW = struct.Struct("<QqqQQq32s32s")
"""A ``stamps`` row's value: the stamp, when it was taken (ns), the SHA-256 of the content's text
(see :func:`hash_file`) and of the content."""
_TAKEN = struct.Struct("<q")
_CHUNK = 1 << 20
_stat = os.stat  # module attributes: the tests put other clocks behind them
_fstat = os.fstat
_clock = time.time_ns


def stamp(st: os.stat_result) -> bytes | None:
    """What must not change for a file's remembered hash to stand (see the module docstring)."""
    try:
        return _STAMP.pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    except struct.error:  # out of range on some exotic file system: not remembered
        return None


def settled(st: os.stat_result, taken_ns: int) -> bool:
    """Whether a stamp of ``st`` taken at ``taken_ns`` tells later changes apart."""
    return max(st.st_mtime_ns, st.st_ctime_ns) < taken_ns - SETTLE_NS


def hash_file(path: str) -> tuple[bytes, os.stat_result, bytes] | None:
    """The SHA-256 of a regular file's content, the ``stat`` of the descriptor taken before
    reading it, and the SHA-256 of the content's text (its UTF-8 decoding, invalid sequences
    replaced, encoded again: :func:`secscan.core.identity_memo.text_digest`; the content's own
    for a file of valid UTF-8); None when it cannot be read or is not a regular file (opened
    non-blocking, as :func:`secscan.fs.digest.file_digest`)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = _fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        digest = hashlib.sha256()
        decoder: Decoder = _utf8()
        while chunk := os.read(fd, _CHUNK):
            digest.update(chunk)
            decoder = _fed(decoder, chunk)
        if _fed(decoder, b"", final=True) is not None:
            return digest.digest(), st, digest.digest()
        os.lseek(fd, 0, os.SEEK_SET)  # not UTF-8 (a binary, say): its text is read once, here
        return digest.digest(), st, text_digest(lambda: os.read(fd, _CHUNK))
    except OSError:
        return None
    finally:
        os.close(fd)


def text_digest(read: Callable[[], bytes]) -> bytes:
    """The SHA-256 of ``bytes.decode("utf-8", "replace")`` of all ``read`` gives, encoded in UTF-8."""
    decoder = _utf8("replace")
    digest = hashlib.sha256()
    while chunk := read():
        digest.update(decoder.decode(chunk).encode("utf-8"))
    digest.update(decoder.decode(b"", final=True).encode("utf-8"))
    return digest.digest()


_utf8 = codecs.getincrementaldecoder("utf-8")


Decoder = codecs.IncrementalDecoder | None


def _fed(decoder: Decoder, data: bytes, final: bool = False) -> Decoder:
    """``decoder`` after ``data``, or None once the content is not UTF-8."""
    if decoder is None:
        return None
    try:
        decoder.decode(data, final)
    except UnicodeDecodeError:
        return None
    return decoder


class FileHashes:
    """The content hashes of one run's files, through the ``stamps`` table of ``cache``."""

    def __init__(self, cache: ResultCache, clock: Callable[[], int] | None = None) -> None:
        self._cache = cache
        self._clock = clock if clock is not None else _clock
        self._known: dict[Path, dict[bytes, bytes]] = {}
        self._asked: dict[Path, set[bytes]] = {}
        self._fresh: dict[Path, list[tuple[bytes, bytes]]] = {}
        self.read = 0
        """How many files were read (the others' hashes came from their stamps)."""

    def _rows(self, root: Path) -> dict[bytes, bytes]:
        if root not in self._known:
            self._known[root] = self._cache.stamps(os.fsencode(root))
            self._asked[root] = set()
            self._fresh[root] = []
        return self._known[root]

    def hashes(self, root: Path, paths: Iterable[str]) -> dict[str, bytes]:
        """Content hashes of the readable regular files among ``paths`` (relative to ``root``)."""
        return {path: digest for path, (digest, _) in self._lookup(root, paths).items()}

    def text_hashes(self, root: Path, paths: Iterable[str]) -> dict[str, bytes]:
        """The hashes of the texts of the readable regular files among ``paths`` (see :func:`hash_file`)."""
        return {path: text for path, (_, text) in self._lookup(root, paths).items()}

    def _lookup(self, root: Path, paths: Iterable[str]) -> dict[str, tuple[bytes, bytes]]:
        known = self._rows(root)
        asked, fresh = self._asked[root], self._fresh[root]
        taken = self._clock()  # before any stat: a stamp is never younger than it claims
        base = f"{root}{os.sep}"
        found: dict[str, tuple[bytes, bytes]] = {}
        for path in paths:
            name = os.fsencode(path)
            row = known.get(name)
            if row is not None and len(row) == _ROW.size:
                try:
                    st = _stat(base + path)
                except OSError:
                    continue  # gone: no hash, as when it cannot be read
                (then,) = _TAKEN.unpack_from(row, _STAMP.size)
                if stat.S_ISREG(st.st_mode) and row[: _STAMP.size] == stamp(st) and settled(st, then):
                    found[path] = (row[-32:], row[-64:-32])
                    asked.add(name)
                    continue
            got = hash_file(base + path)
            self.read += 1
            if got is not None:
                digest, st, text = got
                found[path] = (digest, text)
                asked.add(name)
                if (stamped := stamp(st)) is not None:
                    known[name] = stamped + _TAKEN.pack(taken) + text + digest
                    fresh.append((name, known[name]))
        return found

    def save(self, prune: bool = True) -> None:
        """Store the new stamps; forget those of the paths that could not be read, and (``prune``:
        at the end of a run's look-ups) those of the paths this run did not ask for."""
        for root, known in self._known.items():
            drop = known.keys() - self._asked[root] if prune else set()
            self._cache.put_stamps(os.fsencode(root), self._fresh[root], drop)
            self._fresh[root] = []
            for name in drop:
                del known[name]
