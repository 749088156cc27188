"""The HTTP side of :class:`~secscan.scanners.osv.server.OsvServer`: loaded once the server
serves (a run whose dependency audits all come from the result cache binds its port, never
serves, and so never loads ``http.server``, ``http.client`` or ``ssl``).

Endpoints: ``POST /v1/query`` (any Content-Type: pip-audit sends none), ``POST /v1/querybatch``
and ``GET /v1/vulns/{id}``; errors are JSON ``{"code": <gRPC code>, "message": ...}`` as on
api.osv.dev. Accepted sockets get ``TCP_NODELAY`` (without it, Nagle's algorithm and delayed ACKs
add about 40 ms per request). Requests are logged through :mod:`logging` at DEBUG, never to stderr.
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
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote, urlsplit

from secscan.core.errors import SecscanError
from secscan.scanners.osv import api

if TYPE_CHECKING:
    from secscan.scanners.osv.deferred import RecordSource

logger = logging.getLogger("secscan.scanners.osv.server")  # one logger for the server's lines

_GRPC_CODES = {
    HTTPStatus.BAD_REQUEST: 3,  # INVALID_ARGUMENT
    HTTPStatus.NOT_FOUND: 5,  # NOT_FOUND
    HTTPStatus.INTERNAL_SERVER_ERROR: 13,  # INTERNAL
}


class _HttpServer(ThreadingHTTPServer):
    """Threaded server that knows its database and closes open connections on shutdown."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        database: RecordSource,
        max_body_bytes: int,
        listening: socket.socket | None = None,
    ) -> None:
        """Bind ``address``, or serve on ``listening`` (a socket bound and listening already)."""
        self.database = database
        self.max_body_bytes = max_body_bytes
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler, bind_and_activate=listening is None)
        if listening is not None:  # what server_bind would have set, for the socket given
            self.socket.close()
            self.socket = listening
            host, port = listening.getsockname()[:2]
            self.server_address = (host, port)
            self.server_name = socket.getfqdn(host)
            self.server_port = port

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
