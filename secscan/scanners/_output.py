"""Reading a scanner's output file: size-capped, and every problem a one-line ScannerError."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from secscan.core.errors import ScannerError

MAX_OUTPUT_BYTES = 256 * 1024 * 1024
_CHUNK = 1024 * 1024


def read_output(path: Path, tool: str, what: str, hint: str, limit: int = MAX_OUTPUT_BYTES) -> bytes:
    """The bytes of ``tool``'s ``what`` (report, SARIF ...) at ``path``, at most ``limit``."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ScannerError(f"{tool} wrote no readable {what} at {path} ({exc.strerror}); {hint}") from None
    if len(data) > limit:
        raise ScannerError(f"{tool} {what} {path} is larger than {limit} bytes; {hint}")
    return data


def output_chunks(
    path: Path, tool: str, what: str, hint: str, limit: int = MAX_OUTPUT_BYTES
) -> Iterator[bytes]:
    """The bytes of ``tool``'s ``what`` at ``path`` in chunks, at most ``limit`` of them (for a
    streaming reader: the output is never held whole)."""
    total = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise ScannerError(f"{tool} {what} {path} is larger than {limit} bytes; {hint}")
                yield chunk
    except OSError as exc:
        raise ScannerError(f"{tool} wrote no readable {what} at {path} ({exc.strerror}); {hint}") from None


def load_json_object(path: Path, tool: str, what: str, hint: str) -> dict[str, Any]:
    """``tool``'s JSON ``what`` at ``path``, which must be a JSON object."""
    data = read_output(path, tool, what, hint)
    try:
        loaded = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "encoding"
        raise ScannerError(f"{tool} {what} {path} is not valid JSON ({where}); {hint}") from None
    if not isinstance(loaded, dict):
        raise ScannerError(f"{tool} {what} {path} is malformed: the top level is not an object; {hint}")
    return loaded
