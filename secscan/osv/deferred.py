"""An OSV database that loads in the background while the scanners start.

Loading the PyPA advisory database (2,600+ YAML records) takes most of a second. The loopback
server can bind at once and hand its URL to pip-audit; the first query waits for the load.
A load error is raised to every caller, and again by :meth:`DeferredDatabase.wait`, so the
pipeline reports it as the input error it is.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from threading import Thread
from typing import Protocol

from secscan.errors import InputError
from secscan.osv.database import OsvDatabase
from secscan.osv.records import OsvRecord


class RecordSource(Protocol):
    """What the OSV API and server need from a database."""

    def get(self, vuln_id: str) -> OsvRecord | None: ...

    def query(self, name: str, version: str | None, ecosystem: str = "PyPI") -> list[OsvRecord]: ...


class DeferredDatabase:
    """:meth:`OsvDatabase.load` of ``path`` on a background thread."""

    def __init__(self, path: Path) -> None:
        if not path.exists():  # fail before any scanner starts
            raise InputError(
                f"OSV database {path} does not exist; check --osv-db or [scanners.pip-audit] osv_db"
            )
        self._future: Future[OsvDatabase] = Future()
        self._thread = Thread(target=self._load, args=(path,), name="osv-load", daemon=True)
        self._thread.start()

    def _load(self, path: Path) -> None:
        try:
            self._future.set_result(OsvDatabase.load(path))
        except BaseException as exc:  # delivered to every caller through the future
            self._future.set_exception(exc)

    def wait(self) -> OsvDatabase:
        """The loaded database; raises the load's error (an InputError for bad input)."""
        return self._future.result()

    def get(self, vuln_id: str) -> OsvRecord | None:
        return self.wait().get(vuln_id)

    def query(self, name: str, version: str | None, ecosystem: str = "PyPI") -> list[OsvRecord]:
        return self.wait().query(name, version, ecosystem)
