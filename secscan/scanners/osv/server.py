"""A local OSV-compatible HTTP server over an :class:`OsvDatabase`, for ``pip-audit -s osv``.

``with OsvServer(database) as server: ... server.query_url ...`` serves on 127.0.0.1 at a random
port from a daemon thread. :meth:`OsvServer.bind` only opens a listening socket (its address goes
to pip-audit); the HTTP server (:mod:`secscan.scanners.osv._http`: endpoints, errors, logging)
loads when :meth:`OsvServer.serve` starts answering.
"""

from __future__ import annotations

import logging
import socket
import threading
from types import TracebackType
from typing import TYPE_CHECKING

from secscan.core.errors import ScannerError

if TYPE_CHECKING:
    from secscan.scanners.osv._http import _HttpServer
    from secscan.scanners.osv.deferred import RecordSource

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class OsvServer:
    """Serves ``database`` over the OSV v1 API on loopback; use it as a context manager."""

    def __init__(
        self,
        database: RecordSource,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._database = database
        self._address = (host, port)
        self._max_body_bytes = max_body_bytes
        self._socket: socket.socket | None = None
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def bind(self) -> None:
        """Bind and listen, so that :attr:`url` is known; connections wait in the backlog until
        :meth:`serve`. Raises ScannerError when it cannot bind."""
        if self._socket is not None:
            return
        try:
            self._socket = _listen(self._address)
        except OSError as exc:
            host, port = self._address
            raise ScannerError(
                f"cannot start the local OSV server on {host}:{port}: {exc.strerror}; choose another port"
            ) from None

    def serve(self) -> None:
        """Start answering in a daemon thread (once; binds first if needed)."""
        self.bind()
        with self._lock:
            if self._thread is not None or self._socket is None:
                return
            from secscan.scanners.osv._http import _HttpServer

            self._http = _HttpServer(self._address, self._database, self._max_body_bytes, self._socket)
            self._thread = threading.Thread(
                target=self._http.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="osv-server",
                daemon=True,
            )
            self._thread.start()
        logger.debug("OSV server for %r listening on %s", self._database, self.url)

    def start(self) -> None:
        """Bind and start serving in a daemon thread. Raises ScannerError when it cannot bind."""
        self.serve()

    def close(self) -> None:
        """Stop serving, close open connections and release the port (a server that never
        served only releases the port: there is no serving loop to wait for)."""
        if self._socket is None:
            return
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and self._http is not None:
            self._http.shutdown()
            self._http.close_connections()
        if self._http is not None:
            self._http.server_close()  # closes the listening socket
        else:
            self._socket.close()
        if thread is not None:
            thread.join()
        self._http, self._socket = None, None

    def __enter__(self) -> OsvServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``. Only while serving."""
        if self._socket is None:
            raise RuntimeError("the OSV server is not running; use it inside a with block")
        host, port = self._socket.getsockname()[:2]
        return f"http://{host!s}:{port}"

    @property
    def query_url(self) -> str:
        """The complete query URL pip-audit's ``--osv-url`` wants."""
        return f"{self.url}/v1/query"


def _listen(address: tuple[str, int]) -> socket.socket:
    """A TCP socket bound to ``address`` and listening, as ``http.server.HTTPServer`` makes one
    (IPv4, ``SO_REUSEADDR``, a backlog of 5)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(5)
    except OSError:
        sock.close()
        raise
    return sock
