"""secscan.delivery.http: https only, SSRF guard at connect time, allow-list, no redirects, Retry-After."""

from __future__ import annotations

import http.server as http_server
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from secscan.core.errors import ConfigError
from secscan.delivery import http
from secscan.delivery.http import HttpBlocked, HttpError, HttpPolicy, HttpResponse
from secscan.delivery.verdicts import Dead, Delivered, Retry

LOOPBACK = HttpPolicy(allow_hosts=frozenset({"127.0.0.1"}), timeout_s=5)


class _Handler(http_server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        type(self).seen.append((self.command, self.path, dict(self.headers), body))
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status":"success"}')

    do_GET = do_POST = _reply

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    _Handler.seen = []
    srv = http_server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()


def test_allow_listed_loopback_is_reached_over_plain_http(server: int) -> None:
    response = http.request(
        "POST", f"http://127.0.0.1:{server}/v2/enqueue?x=1", policy=LOOPBACK, body=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 202 and response.body == b'{"status":"success"}'
    method, path, headers, body = _Handler.seen[0]
    assert (method, path, body) == ("POST", "/v2/enqueue?x=1", b"{}")
    assert headers["Host"] == f"127.0.0.1:{server}"


def test_redirects_are_not_followed(server: int) -> None:
    response = http.request("GET", f"http://127.0.0.1:{server}/redirect", policy=LOOPBACK)
    assert response.status == 302
    assert len(_Handler.seen) == 1


def test_loopback_is_blocked_unless_allow_listed(server: int) -> None:
    with pytest.raises(ConfigError, match="plain http"):
        http.request("GET", f"http://127.0.0.1:{server}/", policy=HttpPolicy())
    with pytest.raises(HttpBlocked, match="non-public address"):
        http.request("GET", f"https://127.0.0.1:{server}/", policy=HttpPolicy())
    assert _Handler.seen == []


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "::1", "::ffff:127.0.0.1", "fd00:ec2::254", "fe80::1", "224.0.0.1"],
)
def test_a_name_resolving_to_a_private_address_is_blocked(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(family, socket.SOCK_STREAM, 6, "", (address, 443))]
    )
    with pytest.raises(HttpBlocked):
        http.request("POST", "https://hooks.example.com/services/T/B/secret", policy=HttpPolicy())


def test_public_addresses_pass_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        socket, "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("140.82.112.6", 443))],
    )
    assert http.vetted_address("api.github.com", 443, HttpPolicy()) == "140.82.112.6"


def test_one_private_address_among_public_ones_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        socket, "getaddrinfo",
        lambda *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("140.82.112.6", 443)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443)),
        ],
    )
    with pytest.raises(HttpBlocked):
        http.vetted_address("rebind.example", 443, HttpPolicy())


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "https:// URL"),
        ("https://user:pw@example.com/", "credentials"),
        ("https://example.com:99999/", "not a valid URL"),
        ("http://example.com/hook", "plain http"),
    ],
)
def test_bad_urls_are_config_errors_without_echoing_the_url(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        http.check_url(url, HttpPolicy(), "[notify.chat] url")
    assert str(info.value).startswith("[notify.chat] url")
    assert "pw" not in str(info.value) and "/hook" not in str(info.value)


def test_transport_failures_raise_http_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(HttpError, match="failed"):
            http.request("GET", f"http://127.0.0.1:{port}/", policy=LOOPBACK)


NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "120"}, 120.0),
        ({"retry-after": "Thu, 26 Nov 2026 02:01:30 GMT"}, 90.0),
        ({"retry-after": "Thu, 26 Nov 2026 01:00:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW.timestamp()) + 42)}, 42.0),
        ({"x-ratelimit-remaining": "10", "x-ratelimit-reset": str(int(NOW.timestamp()) + 42)}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert http.retry_after_s(HttpResponse(429, headers), NOW) == expected


def test_verdicts_by_status() -> None:
    assert isinstance(http.verdict_for(HttpResponse(202)), Delivered)
    retry = http.verdict_for(HttpResponse(429, {"retry-after": "5"}, b"slow down"), NOW)
    assert retry == Retry("HTTP 429: slow down", 5.0)
    assert isinstance(http.verdict_for(HttpResponse(503)), Retry)
    assert isinstance(http.verdict_for(HttpResponse(408)), Retry)
    assert http.verdict_for(HttpResponse(400, {}, b"invalid routing key")) == Dead("HTTP 400: invalid routing key")
    assert isinstance(http.verdict_for(HttpResponse(404)), Dead)


def test_a_rejection_reason_cut_at_its_limit_keeps_no_part_of_an_echoed_secret() -> None:
    """The reason is stored and logged, redacted of the channel's secrets after the cut: a peer
    that echoes the event (with its routing key) cut at 300 bytes left a prefix of the key."""
    key = "R0ut1ngK3yZq8x7w6v5u4t3s2r1q0p9o"
    body = ("error: invalid event " + "x " * 127 + f'{{"routing_key": "{key}"}}').encode()
    verdict = http.verdict_for(HttpResponse(400, {}, body))
    assert isinstance(verdict, Dead)
    reason = verdict.error
    assert reason.startswith("HTTP 400: error: invalid event x x") and reason.endswith('{"routing_key":...')
    assert not [key[i : i + 6] for i in range(len(key) - 5) if key[i : i + 6] in reason]


@pytest.fixture
def trickler() -> Iterator[int]:
    """A peer that answers a byte at a time, each well within the per-read timeout, then hangs up
    (after a few seconds, so that a client without a bound on the whole request sees a broken
    answer rather than hanging the test)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(100):
                if stop.wait(0.05):
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def test_a_trickled_answer_is_cut_at_the_bound_on_the_whole_request(trickler: int) -> None:
    policy = HttpPolicy(allow_hosts=frozenset({"127.0.0.1"}), timeout_s=0.2)
    with pytest.raises(HttpError, match=r"timed out: no complete answer in 0\.6 s"):
        http.request("POST", f"http://127.0.0.1:{trickler}/v2/enqueue", policy=policy, body=b"{}")


def test_an_error_page_becomes_one_printable_line() -> None:
    """The peer's words end up in `secscan run`'s "not delivered" line, `secscan alerts` and the
    logs: an HTML error page (or a hostile peer forging log lines) must stay one line."""
    page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\n\x1b[31mERROR\x1b[0m forged\n</html>"
    verdict = http.verdict_for(HttpResponse(502, {}, page))
    assert isinstance(verdict, Retry)
    assert verdict.error.startswith("HTTP 502: <html> <head><title>502 Bad Gateway</title></head> ")
    assert verdict.error.isprintable() and "\x1b" not in verdict.error
