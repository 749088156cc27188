"""Sentry against a fake Sentry server on loopback: events arrive, secrets never do."""

from __future__ import annotations

import gzip
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from secscan import __version__
from secscan.app.redaction import redacting_logs
from secscan.core.redact import Redactor
from secscan.daemon import sentry

TOKEN_CANARY = "ghp_" + "Zq9X" * 9  # a GitHub token format: caught by pattern
CONFIG_CANARY = "canary-Config-Secret-7f3a91"  # no known format: caught as a known value
SCAN_CANARY = "canary-Found-In-Scan-c0ffee"  # found by a scan: caught by the run's log filter
WORD_CONFIG_CANARY = "marmalade"  # a credential that is a word: a log argument of its own goes whole
WORD_SCAN_CANARY = "sunflower"  # a word found by a scan: likewise


class FakeSentry:
    """Records envelope requests as sentry-sdk sends them (../shared/specs/sentry.md, section 2)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                received.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server.server_address[1]}/1"

    def events(self) -> list[dict[str, Any]]:
        out = []
        for _, _, body in self.requests:
            _header, item_header, payload = body.split(b"\n", 2)
            if json.loads(item_header)["type"] == "event":
                out.append(json.loads(payload))
        return out


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    fake = FakeSentry()
    yield fake
    fake.server.shutdown()


def _fail(secret: str) -> None:
    token = secret  # a local variable holding the secret
    raise RuntimeError(f"upload failed with {token} and {TOKEN_CANARY}")


def test_events_arrive_scrubbed(fake_sentry: FakeSentry) -> None:
    log = logging.getLogger("secscan.sentry-test")
    env = {"GITHUB_TOKEN": CONFIG_CANARY, "SECSCAN_SMTP_PASSWORD": WORD_CONFIG_CANARY, "HOME": "/home/nobody"}
    secrets = sentry.known_secrets(env)
    with sentry.reporting(fake_sentry.dsn, environment="test", secrets=secrets) as enabled:
        assert enabled
        log.info("breadcrumb with %s", CONFIG_CANARY)
        try:
            _fail(CONFIG_CANARY)
        except RuntimeError:
            log.exception("delivery failed with token %s", TOKEN_CANARY)
        log.error("cannot post %s", CONFIG_CANARY)
        log.error("cannot log in with %s as %r", WORD_CONFIG_CANARY, "secscan")
        with redacting_logs(Redactor({SCAN_CANARY, WORD_SCAN_CANARY})):
            log.error("scanner reported %s", SCAN_CANARY)
            log.error("scanner quoted %s from the detect-secrets rule", WORD_SCAN_CANARY)
    assert len(fake_sentry.requests) >= 3
    for path, headers, body in fake_sentry.requests:
        assert path == "/api/1/envelope/"
        assert "sentry_key=publickey" in headers["X-Sentry-Auth"]
        for canary in (TOKEN_CANARY, CONFIG_CANARY, SCAN_CANARY, WORD_CONFIG_CANARY, WORD_SCAN_CANARY):
            assert canary.encode() not in body
    events = fake_sentry.events()
    messages = {e["logentry"]["formatted"] for e in events}
    assert "cannot post [REDACTED]" in messages and "scanner reported [REDACTED]" in messages
    assert "cannot log in with [REDACTED] as 'secscan'" in messages
    assert "scanner quoted [REDACTED] from the detect-secrets rule" in messages  # the words around stay
    crashed = next(e for e in events if "exception" in e)
    assert crashed["exception"]["values"][-1]["value"] == "upload failed with [REDACTED] and [REDACTED]"
    assert all("vars" not in frame for frame in crashed["exception"]["values"][-1]["stacktrace"]["frames"])
    assert {(e["environment"], e["release"], e["server_name"]) for e in events} == {
        ("test", f"secscan@{__version__}", "secscan")
    }
    assert all("user" not in e and "request" not in e for e in events)


def test_no_dsn_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    assert sentry.resolve_dsn(None) is None
    assert sentry.resolve_dsn(None, {"SENTRY_DSN": "https://k@s.example/1"}) == "https://k@s.example/1"
    assert sentry.resolve_dsn("https://cfg@s.example/2", {"SENTRY_DSN": "x"}) == "https://cfg@s.example/2"
    with sentry.reporting(None) as enabled:
        assert not enabled


def test_an_unreachable_sentry_never_blocks_logging() -> None:
    # A peer that accepts connections and never answers: the worst kind of unreachable.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(100)
    dsn = f"http://k@127.0.0.1:{silent.getsockname()[1]}/1"
    log = logging.getLogger("secscan.sentry-test")
    try:
        began = time.monotonic()
        with sentry.reporting(dsn, environment="test", shutdown_timeout=0.5):
            for n in range(50):
                log.error("failure %d", n)
            logged = time.monotonic() - began
        # hang checks, not benchmarks: sending is on the SDK's thread with a bounded queue
        assert logged < 5
        assert time.monotonic() - began < 15
    finally:
        silent.close()


def test_credentials_that_are_no_regular_files_are_skipped_never_waited_on(tmp_path: Path) -> None:
    folder = tmp_path / "credentials"
    folder.mkdir()
    (folder / "token").write_text(CONFIG_CANARY + "\n")
    os.mkfifo(folder / "fifo")
    (folder / "zero").symlink_to("/dev/zero")
    (folder / "big").write_text("big-secret-value\n" * 5000)
    (folder / "sub").mkdir()
    code = (
        "import json, os; from secscan.daemon import sentry; "
        "env = {'CREDENTIALS_DIRECTORY': os.environ['CREDENTIALS_DIRECTORY']}; "
        "print(json.dumps(sorted(sentry.known_secrets(env))))"
    )
    env = {**os.environ, "CREDENTIALS_DIRECTORY": str(folder)}
    argv = [sys.executable, "-c", code]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout) == sorted([CONFIG_CANARY, str(folder)])  # the variable's own value too


def test_a_redirect_from_sentry_is_not_followed_with_the_key_and_the_event(fake_sentry: FakeSentry) -> None:
    """urllib3 strips only Authorization and cookies on a redirect to another origin: the DSN key
    in X-Sentry-Auth and the event itself would have been re-sent to wherever a 307 pointed."""
    target = f"http://127.0.0.1:{fake_sentry.server.server_address[1]}/elsewhere"
    hits: list[str] = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=redirecting.serve_forever, daemon=True).start()
    try:
        dsn = f"http://publickey@127.0.0.1:{redirecting.server_address[1]}/1"
        with sentry.reporting(dsn, environment="test", shutdown_timeout=2):
            logging.getLogger("secscan.sentry-test").error("an error worth reporting")
    finally:
        redirecting.shutdown()
        redirecting.server_close()
    assert hits and fake_sentry.requests == []
