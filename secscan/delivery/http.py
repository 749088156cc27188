"""Outbound HTTP for GitHub, PagerDuty, Slack, webhooks: one guarded request function over urllib3.

Every URL must be ``https``. Before connecting, the host name is resolved once and every address
must be public (``ipaddress``'s ``is_global``: not loopback, private, link-local such as the
cloud metadata address 169.254.169.254, CGNAT, multicast, reserved or unspecified), and so must
every IPv4 address an IPv6 address embeds (NAT64, 6to4, Teredo, mapped forms; see
:mod:`secscan.delivery.netaddr`). The connection then goes to that vetted address, with TLS SNI and
certificate checks still made for the real host name, so DNS rebinding between the check and
the connect cannot redirect it (SSRF). Each socket read waits at most ``timeout_s``, and the
whole request (connect, send, headers, body) at most :attr:`HttpPolicy.total_s`: a watchdog
shuts the socket down when that passes, so a peer that trickles its answer a byte at a time
cannot hold a delivery (or the lease of an outbox item) forever. Hosts named in an explicit
allow-list skip the address check and may use plain ``http``: that is how tests reach fake
servers on 127.0.0.1. Redirects are never followed and proxies from the environment are not
used. Retrying is the caller's business (:mod:`secscan.delivery.loop`); :func:`verdict_for` and
:func:`retry_after_s` classify a response for it.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error

from secscan.core.clip import clip
from secscan.core.errors import ConfigError, NotifyError
from secscan.core.printable import printable
from secscan.delivery.netaddr import is_public
from secscan.delivery.verdicts import Dead, Delivered, Retry, Verdict
from secscan.delivery.watchdog import TOTAL_FACTOR, Watchdog

MAX_BODY = 10 * 1024 * 1024  # bytes of a response body kept


class HttpError(NotifyError):
    """The request did not complete: DNS, connect, TLS, timeout or a broken response."""


class HttpBlocked(HttpError):  # noqa: N818 - a kind of HttpError, named for what happened
    """The URL's host resolves to an address secscan will not connect to (SSRF guard)."""


@dataclass(frozen=True)
class HttpPolicy:
    """Where requests may go. ``allow_hosts`` (lower-case names or literal addresses) skip the
    address check and may use plain http; everything else must be https to a public address."""

    allow_hosts: frozenset[str] = frozenset()
    timeout_s: float = 30.0

    @property
    def total_s(self) -> float:
        """The bound on one whole request, however the peer trickles its answer."""
        return TOTAL_FACTOR * self.timeout_s

    def allows(self, host: str) -> bool:
        return host.lower().strip("[]") in self.allow_hosts


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def check_url(url: str, policy: HttpPolicy, what: str = "URL") -> tuple[str, str, int]:
    """Validate ``url`` statically; returns (scheme, host, port). Raises ConfigError.

    ``what`` names the setting in the message (e.g. ``[notify.pager] events_url``). The URL itself
    is not repeated in the message: webhook URLs carry their secret in the path.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{what} is not a valid URL; give an https:// URL") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(f"{what} must be an https:// URL with a host name")
    if parts.username or parts.password:
        raise ConfigError(f"{what} must not carry credentials in the URL; use the token settings")
    if parts.scheme == "http" and not policy.allows(host):
        raise ConfigError(
            f"{what} uses plain http to {host}; use https, or list the host in [notify] allow_hosts"
        )
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def vetted_address(host: str, port: int, policy: HttpPolicy) -> str:
    """The address to connect to for ``host``: all of its addresses must be public. Raises HttpBlocked."""
    if policy.allows(host):
        return host
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HttpError(f"cannot resolve {host}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    blocked = [a for a in addresses if not is_public(a)]
    if blocked or not addresses:
        raise HttpBlocked(
            f"refusing to connect to {host}: it resolves to a non-public address "
            f"({blocked[0] if blocked else 'none'}); list it in [notify] allow_hosts if that is intended"
        )
    return addresses[0]


class _WatchedHTTP(HTTPConnection):
    """A connection that hands each new TCP socket to the request's :class:`Watchdog`."""

    def __init__(self, *args: Any, watchdog: Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._watchdog.watch(sock)
        return sock


class _WatchedHTTPS(_WatchedHTTP, HTTPSConnection):
    """The same over TLS (the watchdog sees the TCP socket, before the handshake)."""


def request(
    method: str,
    url: str,
    *,
    policy: HttpPolicy,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> HttpResponse:
    """Send one request and return the response (any status). Raises HttpError, HttpBlocked."""
    scheme, host, port = check_url(url, policy)
    address = vetted_address(host, port, policy)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sent = {"Host": host if port in (80, 443) else f"{host}:{port}", **(headers or {})}
    timeout = urllib3.Timeout(connect=min(policy.timeout_s, 10.0), read=policy.timeout_s)
    watchdog = Watchdog(policy.total_s)
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=host, assert_hostname=host,
            watchdog=watchdog,
        )  # fmt: skip
        pool.ConnectionCls = _WatchedHTTPS
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, watchdog=watchdog)
        pool.ConnectionCls = _WatchedHTTP
    late = f"{method} to {host} timed out: no complete answer in {policy.total_s:g} s"
    try:
        with watchdog:
            response = _exchange(pool, method, path, body, sent)
            data = response.read(MAX_BODY, decode_content=True)
            response.release_conn()
    except (Urllib3Error, OSError) as exc:
        failed = f"{method} to {host} failed: {type(exc).__name__}"
        raise HttpError(late if watchdog.fired else failed) from None
    finally:
        pool.close()
    if watchdog.fired:  # a body read to the end of a connection that was cut: it is incomplete
        raise HttpError(late)
    return HttpResponse(
        status=response.status, headers={k.lower(): v for k, v in response.headers.items()}, body=data
    )


def _exchange(
    pool: urllib3.HTTPConnectionPool, method: str, path: str, body: bytes | None, headers: Mapping[str, str]
) -> urllib3.BaseHTTPResponse:
    return pool.urlopen(
        method,
        path,
        body=body,
        headers=dict(headers),
        redirect=False,
        preload_content=False,
        assert_same_host=False,
    )


def retry_after_s(response: HttpResponse, now: datetime | None = None) -> float | None:
    """Seconds the peer asked us to wait: ``Retry-After`` (seconds or an HTTP date), else
    ``x-ratelimit-reset`` (UNIX seconds) when ``x-ratelimit-remaining`` is 0; None when neither."""
    now = now or datetime.now(UTC)
    value = response.header("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - now).total_seconds())
    reset = response.header("x-ratelimit-reset")
    if reset and reset.strip().isdigit() and response.header("x-ratelimit-remaining") == "0":
        return max(0.0, float(reset) - now.timestamp())
    return None


def verdict_for(response: HttpResponse, now: datetime | None = None) -> Verdict:
    """2xx delivered; 408, 425, 429 and 5xx retried (after ``Retry-After``); other statuses dead."""
    if 200 <= response.status < 300:
        return Delivered()
    # One printable line (an HTML error page spans many), cut between words: the reason is
    # redacted only afterwards, and a peer that echoes the request (a PagerDuty event holds its
    # routing key) must not leave a prefix of a secret behind.
    body = response.body[:1200].decode("utf-8", "replace")
    reason = f"HTTP {response.status}: {clip(printable(' '.join(body.split())), 300)}"
    if response.status in (408, 425, 429) or response.status >= 500:
        return Retry(reason, retry_after_s(response, now))
    return Dead(reason)
