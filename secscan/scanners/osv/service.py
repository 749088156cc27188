"""The loopback OSV server for pip-audit, started by the first query that has to reach it.

With the result cache answering for every pinned requirement, pip-audit runs no process and
nothing queries the offline database: such a run neither imports :mod:`secscan.scanners.osv.server`
nor binds a port (issue 18). The first cache miss (or the first pip-audit command) calls
:meth:`OsvService.url`, which starts opening the database and serving it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from secscan.scanners.osv.deferred import RecordSource
    from secscan.scanners.osv.server import OsvServer


class StartableSource(Protocol):
    """A record source that opens in the background once :meth:`start` is called."""

    def start(self) -> RecordSource: ...


class OsvService:
    """Serves ``database`` on loopback from the first call of :meth:`url` until :meth:`close`."""

    def __init__(self, database: StartableSource) -> None:
        self._database = database
        self._server: OsvServer | None = None
        self._lock = threading.Lock()
        self.starts = 0
        """How many times a server was started (0 or 1): what tests check."""

    def url(self) -> str:
        """The query URL for pip-audit's ``--osv-url``; binds and starts serving on the first call.
        Raises ScannerError when no port can be bound."""
        with self._lock:
            if self._server is None:
                from secscan.scanners.osv.server import OsvServer

                server = OsvServer(self._database.start())
                server.serve()
                self._server = server
                self.starts += 1
            return self._server.query_url

    @property
    def started(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        """Stop serving and release the port (nothing to do if it never started)."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.close()
