"""No channel secret reaches a log line, at any verbosity and in both log formats.

Every channel gets a canary secret (PagerDuty's routing key, Slack's webhook path, the webhook's
URL and HMAC secret, the SMTP password, Sentry's DSN key); logging is set up exactly as the CLI
does it (``cli._setup_logging``), alerts go to fake receivers on loopback, some are retried and
some are dead letters, and stderr must hold none of the canaries. urllib3 logged
``POST /services/T…/B…/<secret>`` at ``-vv``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_helpers import T0, FakeServer, finding, record, send, serve, settings_for
from test_notify_email import smtp  # noqa: F401 - the real SMTP server fixture

from secscan.cli import main as cli
from secscan.core.logsecrets import remember
from secscan.delivery.notify.transport import scrub_verdict
from secscan.delivery.verdicts import Dead, Retry
from secscan.store import Store

ROUTING_KEY = "c4n4ry00pagerduty00routing00k3y1"  # 32 characters
SLACK_PATH = "/services/T0CANARY1/B0CANARY2/slackCanaryHookSecret4711"
WEBHOOK_PATH = "/hooks/canary-webhook-path-9f3e2d"
HMAC_SECRET = "whsec-canary-hmac-5e1d0c"
SMTP_PASSWORD = "s3cret-pass"  # what the fake SMTP server accepts
SENTRY_KEY = "c4n4rysentrykey0123456789abcdef"
CANARIES = (ROUTING_KEY, SLACK_PATH.rsplit("/", 1)[1], WEBHOOK_PATH, HMAC_SECRET, SMTP_PASSWORD, SENTRY_KEY)


@pytest.fixture
def receivers() -> Iterator[dict[str, FakeServer]]:
    # Slack: one 500 (a retry) then ok; webhook: a 400 (a dead letter, the fallback is told)
    with (
        serve(FakeServer("pagerduty", default=202)) as pagerduty,
        serve(FakeServer("slack", default=200, script=[500])) as slack,
        serve(FakeServer("any", default=400)) as webhook,
        serve(FakeServer("any", default=200)) as sentry,
    ):
        yield {"pagerduty": pagerduty, "slack": slack, "webhook": webhook, "sentry": sentry}


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("verbosity", [0, 1, 2])
def test_no_channel_secret_is_logged(
    verbosity: int, log_format: str, store: Store, receivers: dict[str, FakeServer],
    smtp: tuple[int, object, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    port, _, cert = smtp
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", receivers["slack"].url + SLACK_PATH)
    monkeypatch.setenv("SECSCAN_WEBHOOK_URL", receivers["webhook"].url + WEBHOOK_PATH)
    monkeypatch.setenv("SECSCAN_WEBHOOK_SECRET", HMAC_SECRET)
    monkeypatch.setenv("SECSCAN_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("TEST_LOGS_SENTRY_DSN", f"http://{SENTRY_KEY}@127.0.0.1:{receivers['sentry'].port}/1")
    routing = '[[route]]\nevent = "finding"\nto = ["pager", "chat", "hook", "errors", "mail"]\n'
    settings = settings_for({
        "pager": {"type": "pagerduty", "events_url": receivers["pagerduty"].url + "/v2/enqueue"},
        "chat": {"type": "slack"},
        "hook": {"type": "webhook", "fallback": "chat"},
        "errors": {"type": "sentry", "dsn_env": "TEST_LOGS_SENTRY_DSN"},
        "mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": port, "username": "secscan",
                 "from": "secscan@example.com", "to": ["oncall@example.com"], "ca_file": str(cert)},
    }, tmp_path, routing=routing)  # fmt: skip
    cli._setup_logging(verbosity, log_format)
    logging.getLogger("secscan.tests").info("a line from a test")
    record(store, settings, [finding(1)], T0, "r1")
    first = send(store, settings, T0)
    second = send(store, settings, T0.replace(hour=13))  # the retried Slack message and the fallback
    assert first.delivered >= 4 and len(first.dead) == 1 and second.delivered >= 1
    assert [len(receivers[name].requests) >= 1 for name in receivers] == [True] * 4
    err = capsys.readouterr().err
    if verbosity >= 1:
        assert "a line from a test" in err  # the log is there, and it is clean
    if log_format == "json" and err.strip():
        assert all(json.loads(line)["level"] for line in err.splitlines())
    for canary in CANARIES:
        assert canary not in err, f"a channel secret was logged at -{'v' * verbosity} ({log_format})"


def test_a_secret_read_is_kept_out_of_every_later_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Defence in depth: whatever logs a held secret (a URL, its path, its user info) is redacted."""
    cli._setup_logging(2, "text")
    remember("https://user:pw-canary-77@hooks.example.com/services/T1/B2/heldCanaryPath99")
    log = logging.getLogger("secscan.tests")
    log.debug("POST %s", "/services/T1/B2/heldCanaryPath99")
    log.warning("failed: %s", "https://user:pw-canary-77@hooks.example.com/services/T1/B2/heldCanaryPath99")
    err = capsys.readouterr().err
    assert "heldCanaryPath99" not in err and "pw-canary-77" not in err
    assert err.count("[REDACTED]") >= 2


def test_a_peer_echoing_a_channel_secret_leaves_no_trace_in_the_stored_error() -> None:
    """The error of a verdict holds the peer's words; a word secret in it takes the error whole."""
    word = scrub_verdict(Dead("HTTP 401: the signature made with marmalade is wrong"), ["marmalade"])
    assert word == Dead("[REDACTED]")
    token = scrub_verdict(Retry(f"HTTP 503: key {ROUTING_KEY} is busy", 5.0), [ROUTING_KEY])
    assert token == Retry("HTTP 503: key [REDACTED] is busy", 5.0)
