"""Write the SARIF log (or any JSON document) to a file, atomically.

The document is written to a temporary file beside the target path and renamed over it, so a
reader never sees a half-written log and a failure leaves the previous file untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secscan.errors import SinkError
from secscan.model import ScanRun
from secscan.sinks.interface import Delivery, Sink


def write_json_atomic(path: Path, document: Mapping[str, Any]) -> None:
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise SinkError(
            f"cannot write {path}: folder {folder} does not exist; create it or pick another path"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise SinkError(f"cannot write {path}: {exc.strerror}; check the path and free space") from None


class FileSink(Sink):
    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def deliver(self, run: ScanRun, sarif: Mapping[str, Any]) -> Delivery:
        write_json_atomic(self.path, sarif)
        return Delivery(sink=self.name, location=str(self.path))
