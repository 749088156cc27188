"""Read the raw record files of an OSV database: a folder (recursive) or a ``.zip`` archive.

Both the PyPA layout (``<package>/<ID>.yaml``) and the osv.dev export layout (flat ``<ID>.json``,
``PyPI/all.zip``) are plain trees of record files, so one walk serves both. Every file is read
under a size cap, and the archive as a whole under a decompressed-size cap, so a zip bomb or a
stray huge file ends in a clear :class:`InputError` instead of exhausting memory. Hidden
entries (``.git``, ``.id-allocator``) and files that are not ``.json``/``.yaml``/``.yml`` are
skipped; symbolic links inside the folder are not followed.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from secscan.core.errors import InputError
from secscan.scanners.osv.records import RECORD_SUFFIXES, OsvRecord, parse_record

logger = logging.getLogger(__name__)

_MIB = 1024 * 1024
_LETTER_ESCAPES = (b"\\u", b"\\x", b"\\U")


@dataclass(frozen=True)
class LoadLimits:
    """Caps that protect the loader from oversized or hostile databases."""

    max_file_bytes: int = 8 * _MIB
    """Largest single record file (decompressed); real records are a few KiB."""
    max_total_bytes: int = 2048 * _MIB
    """Largest total of all record files read (decompressed)."""
    max_files: int = 1_000_000
    """Most record files in one database."""


@dataclass(frozen=True)
class RawRecordFile:
    """One record file's bytes and where it came from (for error messages)."""

    where: str
    data: bytes


def _is_record_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return not base.startswith(".") and base.lower().endswith(RECORD_SUFFIXES)


class _Budget:
    """Counts files and bytes against :class:`LoadLimits` for one load."""

    def __init__(self, limits: LoadLimits, source: Path) -> None:
        self._limits = limits
        self._source = source
        self._files = 0
        self._bytes = 0

    @property
    def read_size(self) -> int:
        """How many bytes to read from one file: one more than the cap, to detect overflow."""
        return self._limits.max_file_bytes + 1

    def check_size(self, where: str, size: int) -> None:
        if size > self._limits.max_file_bytes:
            raise InputError(
                f"OSV record {where} is larger than {self._limits.max_file_bytes} bytes; "
                "remove it or raise the per-file limit"
            )

    def take(self, where: str, size: int) -> None:
        self.check_size(where, size)
        self._files += 1
        self._bytes += size
        if self._files > self._limits.max_files:
            raise InputError(
                f"OSV database {self._source} holds more than {self._limits.max_files} record files; "
                "point secscan at a smaller database or raise the limit"
            )
        if self._bytes > self._limits.max_total_bytes:
            raise InputError(
                f"OSV database {self._source} expands to more than {self._limits.max_total_bytes} bytes; "
                "it may be a zip bomb, or raise the total-size limit"
            )


def _walk_error(exc: OSError) -> None:
    raise InputError(f"cannot list OSV database folder {exc.filename}: {exc.strerror}; check its permissions")


def _read_file(where: str, budget: _Budget) -> bytes | None:
    """A record file's bytes (descriptor reads: a database folder has tens of thousands of files),
    or None for what is not a regular file (a symbolic link, a FIFO)."""
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            logger.debug("skipping %s: a symbolic link", where)
            return None
        raise InputError(f"cannot read OSV record {where}: {exc.strerror}; check its permissions") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            logger.debug("skipping %s: not a regular file", where)
            return None
        budget.check_size(where, info.st_size)
        chunks, size = [], 0
        while size < budget.read_size and (chunk := os.read(fd, budget.read_size - size)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot read OSV record {where}: {exc.strerror}; check its permissions") from None
    finally:
        os.close(fd)


def _read_folder(root: Path, budget: _Budget) -> Iterator[RawRecordFile]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=_walk_error, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if not _is_record_name(filename):
                continue
            where = f"{dirpath}{os.sep}{filename}"
            data = _read_file(where, budget)
            if data is not None:
                budget.take(where, len(data))
                yield RawRecordFile(where, data)


def _read_zip(path: Path, budget: _Budget) -> Iterator[RawRecordFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(
            f"OSV database {path} is not a readable zip archive ({exc}); re-download it"
        ) from None
    with archive:
        members = sorted(
            (info for info in archive.infolist() if not info.is_dir() and _is_record_name(info.filename)),
            key=lambda info: info.filename,
        )
        for info in members:
            where = f"{path}!{info.filename}"
            budget.check_size(where, info.file_size)
            try:
                with archive.open(info) as fh:
                    data = fh.read(budget.read_size)
            except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as exc:
                raise InputError(
                    f"cannot extract OSV record {where} ({exc}); re-download the archive"
                ) from None
            budget.take(where, len(data))
            yield RawRecordFile(where, data)


def read_record_files(path: Path, limits: LoadLimits) -> Iterator[RawRecordFile]:
    """Yield the record files under ``path`` (a folder or a ``.zip``), in a stable order."""
    budget = _Budget(limits, path)
    if path.is_dir():
        yield from _read_folder(path, budget)
    elif path.is_file() and path.suffix.lower() == ".zip":
        yield from _read_zip(path, budget)
    elif path.exists():
        raise InputError(f"OSV database {path} is neither a folder nor a .zip file; point it at one of those")
    else:
        raise InputError(f"OSV database {path} does not exist; check the path")


def may_name(data: bytes, ecosystems: Collection[str]) -> bool:
    """Whether a record file's bytes can name a package of one of ``ecosystems``.

    A cheap test before decoding: the ecosystem's name appears literally, or the file has an
    escape sequence that could spell a letter of it (JSON ``\\u``, YAML ``\\x``, ``\\u``, ``\\U``).
    """
    return any(ecosystem.encode() in data for ecosystem in ecosystems) or any(
        escape in data for escape in _LETTER_ESCAPES
    )


def iter_records(
    path: Path, limits: LoadLimits, ecosystems: Collection[str] | None = None
) -> Iterator[OsvRecord]:
    """The decoded records under ``path``; with ``ecosystems``, the files that cannot name one
    of them are skipped undecoded (an osv.dev ``all.zip`` holds every ecosystem).

    Raises InputError naming the file when a record is malformed or a size cap is exceeded.
    """
    for raw in read_record_files(path, limits):
        if ecosystems is None or may_name(raw.data, ecosystems):
            yield parse_record(raw.where, raw.data)
