"""The bytes of the SARIF log ``secscan ingest`` reads: a file (gzip recognised by its magic
number, so ``.sarif.gz`` and a gzip log under any name work) read chunk by chunk, with a hard
cap on its size (for gzip on the *decompressed* size, so a gzip bomb stops at the cap).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from secscan.core.errors import InputError
from secscan.fs.safe_read import open_regular
from secscan.scanners.sarif_load import MAX_SARIF_BYTES

MAX_INGEST_BYTES = MAX_SARIF_BYTES
"""The cap on a log's (decompressed) size."""

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1024 * 1024


class LogFileError(InputError):
    """A problem with the file itself (its message names it already)."""


def log_chunks(path: Path, limit: int = MAX_INGEST_BYTES) -> Iterator[bytes]:
    """The bytes of ``path`` in chunks (gunzipped when it is gzip), refusing more than ``limit``.

    Gzip is recognised by its magic number, so ``.sarif.gz`` and a gzip log under any name work.
    Decompression streams chunk by chunk and stops at the cap. The file is opened without
    blocking and must be a regular file (:func:`~secscan.fs.safe_read.open_regular`): a FIFO or
    ``/dev/zero`` is refused at once. Raises InputError.
    """
    try:  # non-blocking, then fstat: a FIFO or a device is refused, never waited on or read forever
        opened = open_regular(path, None, "SARIF file")
    except FileNotFoundError:
        where = f"SARIF file {path} does not exist"
        raise LogFileError(f"{where}; give the path of a .sarif or .sarif.gz file") from None
    except OSError as exc:
        raise LogFileError(f"cannot read SARIF file {path}: {exc.strerror or exc}; check the path") from None
    except InputError as exc:  # a folder, a FIFO, a device: "... must be a regular file"
        raise LogFileError(str(exc)) from None
    too_big = f"SARIF file {path} is larger than {limit} bytes"
    try:
        with opened as raw:
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if not gzipped and os.fstat(raw.fileno()).st_size > limit:
                raise LogFileError(f"{too_big}; split the analysis or filter its results")
            source: Any = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            total = 0
            while chunk := source.read(_CHUNK):
                total += len(chunk)
                if total > limit:  # decompressed, or the file grew while we read it
                    how = " once decompressed" if gzipped else ""
                    raise LogFileError(f"{too_big}{how}; split it or filter its results")
                yield chunk
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise LogFileError(f"SARIF file {path} is not a valid gzip file ({exc}); re-compress it") from None
    except OSError as exc:
        raise LogFileError(f"cannot read SARIF file {path}: {exc.strerror or exc}; check the path") from None
