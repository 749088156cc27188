"""Alert texts: parts redacted in batches give exactly what redacting each part alone gives;
the ``upload-failed`` hook queues one redacted notice per failure."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from notify_helpers import T0, FakeServer, send, settings_for

from secscan.core.redact import MARKER, Redactor
from secscan.delivery.notify import events
from secscan.delivery.notify.messages import BATCH, PartCleaner
from secscan.store import Store

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # the shape of a GitHub token
TOKENS = [
    "AKIAQWERTYUIOPASDFGH",
    GITHUB_TOKEN,
    "glpat-abcdefghij0123456789",
    "xoxb-1234567890-abcdefghij",
    "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "sk_live_0123456789abcdefABCD",
    "npm_" + "a" * 36,
    "AIza" + "B" * 35,
    "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
    "https://user:hunter2@example.com/x",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234567890abcdef\n-----END RSA PRIVATE KEY-----",
    "aws_secret = 'abcdefghij0123456789abcdefghij0123456789'",
]


def test_batched_parts_are_redacted_exactly_as_one_by_one() -> None:
    plain = [f"src/pkg{n}/mod{n}.py" for n in range(3 * BATCH)]
    shaped = [t for token in TOKENS for t in (token, f"keys/{token}.txt", f"{token}/x", f"a {token} b")]
    values = plain[: BATCH - 1] + shaped[:5] + plain[BATCH:] + shaped[5:]  # tokens at batch edges too
    part = PartCleaner()
    part.prepare(values)
    one_by_one = Redactor()
    assert [part(v) for v in values] == [one_by_one.text(v) for v in values]
    assert all(MARKER in part(v) for v in shaped) and all(part(v) == v for v in plain)


def test_a_value_not_prepared_is_still_redacted() -> None:
    assert PartCleaner()(f"keys/{GITHUB_TOKEN}") == f"keys/{MARKER}"


def test_an_upload_failure_is_one_redacted_notice_however_often_it_is_reported(
    store: Store, slack: FakeServer, tmp_path: Path
) -> None:
    (tmp_path / "slack-url").write_text(f"{slack.url}/services/T000/B000/XXXXXXXX\n", encoding="utf-8")
    settings = settings_for({"chat": {"type": "slack", "webhook_url_file": "slack-url"}}, tmp_path)
    error = f"HTTP 422: sarif rejected (token {GITHUB_TOKEN})"
    assert events.on_upload_failed(store, "shop", "secscan/bandit", error, settings, T0) == 1
    later = T0 + timedelta(minutes=5)
    assert events.on_upload_failed(store, "shop", "secscan/bandit", error, settings, later) == 0
    assert events.on_upload_failed(store, "shop", "secscan/pip-audit", error, settings, later) == 1
    send(store, settings, later)
    texts = [b["text"] for b in slack.accepted()]
    assert len(texts) == 2 and all("upload failed for shop" in t and "HTTP 422" in t for t in texts)
    assert all(GITHUB_TOKEN.encode() not in raw for _, _, raw, _ in slack.requests)
    assert slack.errors == []


def test_upload_failures_route_nowhere_without_channels(store: Store, tmp_path: Path) -> None:
    settings = settings_for({}, tmp_path)
    assert events.on_upload_failed(store, "shop", "secscan/bandit", "HTTP 422", settings, T0) == 0
    assert store.outbox("alerts").items() == ()
