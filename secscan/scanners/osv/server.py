"""A local OSV-compatible HTTP server over an :class:`OsvDatabase`, for ``pip-audit -s osv``.

``with OsvServer(database) as server: ... server.query_url ...`` serves on 127.0.0.1 at a random
port from a daemon thread. Endpoints: ``POST /v1/query`` (any Content-Type: pip-audit sends
none), ``POST /v1/querybatch`` and ``GET /v1/vulns/{id}``; errors are JSON
``{"code": <gRPC code>, "message": ...}`` as on api.osv.dev. Accepted sockets get ``TCP_NODELAY``
(without it, Nagle's algorithm and delayed ACKs add about 40 ms per request). Requests are
logged through :mod:`logging` at DEBUG, never to stderr.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

from secscan.core.errors import ScannerError, SecscanError
from secscan.scanners.osv import api

if TYPE_CHECKING:
    from secscan.scanners.osv.deferred import RecordSource

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_GRPC_CODES = {
    HTTPStatus.BAD_REQUEST: 3,  # INVALID_ARGUMENT
    HTTPStatus.NOT_FOUND: 5,  # NOT_FOUND
    HTTPStatus.INTERNAL_SERVER_ERROR: 13,  # INTERNAL
}


class _HttpServer(ThreadingHTTPServer):
    """Threaded server that knows its database and closes open connections on shutdown."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], database: RecordSource, max_body_bytes: int) -> None:
        self.database = database
        self.max_body_bytes = max_body_bytes
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Unblock handler threads waiting on kept-alive connections."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("OSV server: connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "secscan-osv"
    timeout = 30  # seconds an idle kept-alive connection may stay open

    @property
    def _server(self) -> _HttpServer:
        return cast(_HttpServer, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("OSV server %s: " + format, self.address_string(), *args)

    def _send_json(self, status: HTTPStatus, body: object) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """JSON error bodies, also for errors raised by the HTTP parsing of the base class."""
        status = HTTPStatus(code)
        text = message or status.phrase
        self.close_connection = True  # the request body may be unread: do not reuse the connection
        self.log_error("%d %s", code, text)
        self._send_json(status, {"code": _GRPC_CODES.get(status, 2), "message": text})

    def _read_json(self) -> object:
        if "Transfer-Encoding" in self.headers:
            raise api.QueryError("chunked request bodies are not supported; send a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise api.QueryError("Content-Length is not a number") from None
        if length < 0:
            raise api.QueryError("Content-Length is negative")
        if length > self._server.max_body_bytes:
            raise _BodyTooLargeError(length)
        body = self.rfile.read(length)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise api.QueryError("the request body is not valid JSON") from None

    def _dispatch(self, action: Callable[[], tuple[HTTPStatus, object]]) -> None:
        try:
            status, body = action()
        except _NotFoundError as exc:
            status, body = HTTPStatus.NOT_FOUND, {"code": 5, "message": str(exc)}
        except _BodyTooLargeError as exc:
            message = f"request body of {exc.length} bytes exceeds {self._server.max_body_bytes} bytes"
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, message)
            return
        except api.QueryError as exc:
            self.send_error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        except SecscanError as exc:  # a damaged compiled index: said once, in one line
            logger.error("OSV server: %s", exc)
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
            return
        except Exception:
            logger.exception("OSV server: internal error answering %s %s", self.command, self.path)
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        self._send_json(status, body)

    def _post(self) -> tuple[HTTPStatus, object]:
        path = urlsplit(self.path).path
        database = self._server.database
        if path == "/v1/query":
            return HTTPStatus.OK, api.query_response(database, api.parse_query(self._read_json()))
        if path == "/v1/querybatch":
            return HTTPStatus.OK, api.batch_response(database, api.parse_batch(self._read_json()))
        self.close_connection = True  # the unread body must not be taken for the next request
        raise _NotFoundError(f"no such endpoint: POST {path}")

    def _get(self) -> tuple[HTTPStatus, object]:
        path = urlsplit(self.path).path
        prefix = "/v1/vulns/"
        if not path.startswith(prefix) or len(path) == len(prefix):
            raise _NotFoundError(f"no such endpoint: GET {path}")
        vuln_id = unquote(path[len(prefix) :])
        record = self._server.database.get(vuln_id)
        if record is None:
            raise _NotFoundError(f"vulnerability {vuln_id} not found")
        return HTTPStatus.OK, record

    def do_POST(self) -> None:
        self._dispatch(self._post)

    def do_GET(self) -> None:
        self._dispatch(self._get)


class _BodyTooLargeError(Exception):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length


class _NotFoundError(Exception):
    """Unknown endpoint or vulnerability id (answered with HTTP 404)."""


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
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def bind(self) -> None:
        """Bind and listen, so that :attr:`url` is known; connections wait in the backlog until
        :meth:`serve`. Raises ScannerError when it cannot bind."""
        if self._http is not None:
            return
        try:
            self._http = _HttpServer(self._address, self._database, self._max_body_bytes)
        except OSError as exc:
            host, port = self._address
            raise ScannerError(
                f"cannot start the local OSV server on {host}:{port}: {exc.strerror}; choose another port"
            ) from None

    def serve(self) -> None:
        """Start answering in a daemon thread (once; binds first if needed)."""
        self.bind()
        with self._lock:
            if self._thread is not None or self._http is None:
                return
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
        if self._http is None:
            return
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._http.shutdown()
            self._http.close_connections()
        self._http.server_close()
        if thread is not None:
            thread.join()
        self._http = None

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
        if self._http is None:
            raise RuntimeError("the OSV server is not running; use it inside a with block")
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def query_url(self) -> str:
        """The complete query URL pip-audit's ``--osv-url`` wants."""
        return f"{self.url}/v1/query"
