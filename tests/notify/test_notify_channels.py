"""The generic webhook and Sentry channels against fake receivers on 127.0.0.1.

The webhook receiver verifies the HMAC signature exactly as the docs tell receivers to
(secscan/delivery/notify/webhook.py); the Sentry receiver decodes the envelope as
../shared/specs/sentry.md describes. A canary secret in a finding reaches neither.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from notify_helpers import T0, FakeServer, finding, record, send, serve, settings_for

from secscan.config.settings import Settings
from secscan.core.errors import ConfigError, MissingSecretError
from secscan.core.model import Finding, Location, Severity
from secscan.core.ports.outbox import OutboxStatus
from secscan.delivery.notify.channels import check_channels
from secscan.store import Store

CANARY = "AKIAQWERTYUIOPASDFGH"  # an AWS access key id shape
HMAC_SECRET = "whsec-3c1f0b0e9a5d4e6f"


def _leaky() -> tuple[Finding, Finding]:
    """A finding whose scanner message quotes the canary, and one in a file named after it."""
    quoted = finding(1, message=f"Possible hardcoded password: '{CANARY}'")
    return quoted, dataclasses.replace(finding(2), location=Location(f"keys/{CANARY}.txt", 3))


@pytest.fixture
def webhook() -> Iterator[FakeServer]:
    with serve(FakeServer("webhook", default=204, secret=HMAC_SECRET)) as fake:
        yield fake


def hook_settings(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str) -> Settings:
    monkeypatch.setenv("SECSCAN_WEBHOOK_URL", f"{fake.url}/hooks/secscan")
    (tmp_path / "hook-secret").write_text(secret + "\n", encoding="utf-8")
    return settings_for({"hook": {"type": "webhook", "secret_file": "hook-secret"}}, tmp_path)


def test_a_webhook_is_signed_so_that_the_receiver_verifies_it(
    store: Store, webhook: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = hook_settings(webhook, tmp_path, monkeypatch, HMAC_SECRET)
    critical = finding(1)
    record(store, settings, [critical], T0, "r1")
    send(store, settings, T0)
    record(store, settings, [], T0 + timedelta(minutes=1), "r2")  # fixed: the resolve is signed too
    send(store, settings, T0 + timedelta(minutes=1))
    assert webhook.errors == []
    bodies = webhook.bodies()
    assert [(b["action"], b["event"], b["version"]) for b in bodies] == [
        ("trigger", "finding", 1),
        ("resolve", "finding", 1),
    ]
    assert {b["dedup_key"] for b in bodies} == {f"secscan/finding/shop/{critical.fingerprint}"}
    assert bodies[0]["details"]["rule"] == critical.rule_id and bodies[0]["severity"] == "critical"
    for path, headers, raw, _ in webhook.requests:
        assert path == "/hooks/secscan" and headers["content-type"] == "application/json"
        assert HMAC_SECRET.encode() not in raw


def test_a_webhook_signed_with_another_secret_is_refused_and_dead_lettered(
    store: Store, webhook: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = hook_settings(webhook, tmp_path, monkeypatch, "not-the-receivers-secret")
    record(store, settings, [finding(1)], T0, "r1")
    send(store, settings, T0)
    assert webhook.errors == ["bad signature"]
    (dead,) = store.outbox("alerts").items(OutboxStatus.DEAD)
    assert "HTTP 401" in (dead.last_error or "") and "not-the-receivers-secret" not in (dead.last_error or "")


@pytest.fixture
def sentry() -> Iterator[FakeServer]:
    with serve(FakeServer("sentry", default=200)) as fake:
        yield fake


def test_sentry_gets_one_event_per_incident_as_an_envelope_without_the_canary(
    store: Store, sentry: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_ALERTS_SENTRY_DSN", f"http://publickey@127.0.0.1:{sentry.port}/1")
    routing = '[[route]]\nevent = "finding"\nto = ["page"]\n'
    notify = {"errors": {"type": "sentry", "dsn_env": "TEST_ALERTS_SENTRY_DSN", "environment": "test"}}
    settings = settings_for(notify, tmp_path, routing=routing)
    quoted, in_path = _leaky()
    record(store, settings, [quoted, in_path], T0, "r1")
    send(store, settings, T0)
    assert sentry.errors == []
    for path, headers, raw, _ in sentry.requests:
        assert path == "/api/1/envelope/" and "sentry_key=publickey" in headers["x-sentry-auth"]
        assert CANARY.encode() not in raw
    by_key = {e["fingerprint"][0]: e for e in sentry.events}  # one Sentry issue per dedup key
    assert set(by_key) == {f"secscan/finding/shop/{f.fingerprint}" for f in (quoted, in_path)}
    assert all(e["environment"] == "test" and e["level"] == "fatal" for e in sentry.events)
    first, second = (
        by_key[f"secscan/finding/shop/{quoted.fingerprint}"],
        by_key[f"secscan/finding/shop/{in_path.fingerprint}"],
    )
    assert quoted.rule_id in first["message"]["formatted"] and "password" not in json.dumps(first)
    assert second["extra"]["path"] == "keys/[REDACTED].txt" and "[REDACTED]" in second["message"]["formatted"]

    record(store, settings, [], T0 + timedelta(minutes=1), "r2")  # Sentry cannot resolve: nothing sent
    report = send(store, settings, T0 + timedelta(minutes=1))
    assert report.delivered == 2 and len(sentry.requests) == 2


def test_a_sentry_rate_limit_is_retried_later(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(FakeServer("sentry", script=[429], default=200)) as fake:
        monkeypatch.setenv("SENTRY_DSN", f"http://publickey@127.0.0.1:{fake.port}/7")
        settings = settings_for({"errors": {"type": "sentry"}}, tmp_path)
        record(store, settings, [finding(1, Severity.CRITICAL)], T0, "r1")
        send(store, settings, T0)
        (waiting,) = store.outbox("alerts").items(OutboxStatus.PENDING)
        assert "HTTP 429" in (waiting.last_error or "")
        send(store, settings, T0 + timedelta(hours=1))
        assert [h["x-status"] for _, h, _, _ in fake.requests] == ["429", "200"] and fake.errors == []


def test_a_secret_file_that_can_never_be_one_stops_even_a_command_that_only_queues(tmp_path: Path) -> None:
    missing = settings_for({"c": {"type": "slack", "webhook_url_file": "not-yet"}}, tmp_path)
    check_channels(missing, deliver=False)  # may still appear before the delivering process reads it
    with pytest.raises(MissingSecretError, match="not-yet: No such file or directory") as info:
        check_channels(missing, deliver=True)
    assert info.value.may_appear
    device = settings_for({"c": {"type": "slack", "webhook_url_file": "/dev/null"}}, tmp_path)
    for deliver in (False, True):
        refused = r"^\[notify\.c\] webhook URL file /dev/null is a device;"
        with pytest.raises(ConfigError, match=refused) as info:
            check_channels(device, deliver=deliver)
        assert not isinstance(info.value, MissingSecretError)


@pytest.fixture
def echoing_404() -> Iterator[int]:
    """A peer answering 404 with the error page of a stock web server, which quotes the path."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            page = f"<p>The requested URL {self.path} was not found on this server.</p>".encode()
            self.send_response(404)
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", [
    "/services/T0AAAAAAA/B0BBBBBBB/q8Xz4kP2mN7vR1sT5wY9",  # a Slack webhook: the path is the secret
    "/hooks/9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "/hook?token=9f8e7d6c5b4a39281706",
])  # fmt: skip
def test_a_secret_url_quoted_by_the_peers_error_page_is_kept_out_of_the_error(
    echoing_404: int, path: str
) -> None:
    """The error is stored, listed by `secscan alerts`, logged and sent to the fallback channel."""
    from datetime import UTC, datetime

    from secscan.delivery.http import HttpPolicy
    from secscan.delivery.notify.interface import Action, Alert, EventKind
    from secscan.delivery.notify.slack import SlackChannel
    from secscan.delivery.notify.webhook import WebhookChannel
    from secscan.delivery.verdicts import Dead

    policy = HttpPolicy(allow_hosts=frozenset({"127.0.0.1"}), timeout_s=5)
    url = f"http://127.0.0.1:{echoing_404}{path}"
    alert = Alert("c", Action.TRIGGER, EventKind.FINDING, "k", "shop", "summary", datetime.now(UTC))
    for channel in (SlackChannel("c", url, policy), WebhookChannel("c", url, HMAC_SECRET, policy)):
        verdict = channel.send(alert)
        assert isinstance(verdict, Dead) and "The requested URL" in verdict.error
        secret = path.rsplit("/", 1)[-1].split("=")[-1]
        assert secret not in verdict.error and path not in verdict.error, verdict.error
