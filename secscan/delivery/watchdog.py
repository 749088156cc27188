"""A bound on one whole exchange with a peer (an HTTP request, an SMTP session), however the peer
trickles its answer: each socket read waits at most the per-read timeout, and the exchange at
most :data:`TOTAL_FACTOR` times that, after which :class:`Watchdog` shuts its connections down."""

from __future__ import annotations

import contextlib
import socket
import threading

TOTAL_FACTOR = 3
"""The whole exchange may take this many times the per-read timeout."""


class Watchdog:
    """Shuts the TCP connections of one exchange down once ``seconds`` have passed: a blocked
    read or write (a TLS handshake too) then fails at once. The per-read timeout alone lets a
    byte-a-second peer go on for ever. It holds a duplicate of each socket's descriptor (the TLS
    wrapper takes the original over), closed when the exchange ends, so it never touches a
    descriptor that was closed and reused meanwhile."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        """Called with each new TCP socket, before any TLS handshake."""
        with self._lock:
            if self._done:
                return
            self._sockets.append(sock.dup())
            if self.fired:
                _cut(self._sockets[-1])

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _cut(sock)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # shuts the connection down for every descriptor of it
        sock.shutdown(socket.SHUT_RDWR)
