"""An OSV database that opens in the background while the scanners start.

Opening is quick when the dataset's compiled index is fresh; compiling it (or loading the
dataset directly) takes seconds: the PyPA advisory database's 2,600+ YAML records take most of
one. The loopback server can bind at once and hand its URL to pip-audit; the first query waits
for the open. An error is raised to every caller, and again by :meth:`DeferredDatabase.wait`,
so the pipeline reports it as the input error it is.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from threading import Thread
from typing import TYPE_CHECKING, Protocol

from secscan.core.errors import InputError
from secscan.scanners.osv.index import CompiledIndex
from secscan.scanners.osv.source import Advisories, open_advisories

if TYPE_CHECKING:
    from secscan.scanners.osv.records import OsvRecord


class RecordSource(Protocol):
    """What the OSV API and server need from a database."""

    def get(self, vuln_id: str) -> OsvRecord | None: ...

    def query(self, name: str, version: str | None, ecosystem: str = "PyPI") -> list[OsvRecord]: ...


class DeferredDatabase:
    """:func:`~secscan.scanners.osv.source.open_advisories` of ``path`` on a background thread: its
    compiled index in ``index_folder`` (None: no index, a direct load)."""

    def __init__(self, path: Path, index_folder: Path | None = None) -> None:
        if not path.exists():  # fail before any scanner starts
            raise InputError(
                f"OSV database {path} does not exist; check --osv-db or [scanners.pip-audit] osv_db"
            )
        self._future: Future[Advisories] = Future()
        self._thread = Thread(target=self._load, args=(path, index_folder), name="osv-load", daemon=True)
        self._thread.start()

    def _load(self, path: Path, index_folder: Path | None) -> None:
        try:
            self._future.set_result(open_advisories(path, index_folder))
        except BaseException as exc:  # delivered to every caller through the future
            self._future.set_exception(exc)

    def wait(self) -> Advisories:
        """The opened database; raises the open's error (an InputError for bad input)."""
        return self._future.result()

    def close(self) -> None:
        """Close the index file once the open is over (it may still be running: a daemon
        thread, it then ends with the process)."""
        if self._future.done() and self._future.exception() is None:
            database = self._future.result()
            if isinstance(database, CompiledIndex):
                database.close()

    def get(self, vuln_id: str) -> OsvRecord | None:
        return self.wait().get(vuln_id)

    def query(self, name: str, version: str | None, ecosystem: str = "PyPI") -> list[OsvRecord]:
        return self.wait().query(name, version, ecosystem)
