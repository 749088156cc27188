"""Sentry events: one Sentry issue per dedup key (``fingerprint``), sent as an envelope.

The envelope is posted through :func:`secscan.delivery.http.request` (SSRF checks, allow-list) instead
of sentry-sdk's own transport, so a 429 or 5xx becomes a retry of the outbox item like any other
channel. Sentry cannot resolve an issue from an event: a resolve is acknowledged without a
request.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from secscan import __version__
from secscan.core.errors import ConfigError
from secscan.delivery.http import HttpPolicy
from secscan.delivery.notify.interface import Action, Alert, Channel
from secscan.delivery.notify.transport import post
from secscan.delivery.verdicts import Delivered, Verdict

_LEVELS = {"critical": "fatal", "high": "error", "medium": "warning", "low": "info", "info": "info"}


def parse_dsn(dsn: str, what: str) -> tuple[str, str]:
    """(envelope URL, public key) of a DSN ``scheme://key@host[:port][/prefix]/project``."""
    parts = urlsplit(dsn)
    path, _, project = parts.path.rstrip("/").rpartition("/")
    if not parts.username or not parts.hostname or not project.isdigit():
        raise ConfigError(f"{what} is not a Sentry DSN (scheme://key@host/project); copy it from Sentry")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{path}/api/{project}/envelope/", parts.username


def sentry_event(alert: Alert, environment: str) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "timestamp": alert.at.timestamp(),
        "platform": "other",
        "level": _LEVELS.get(alert.severity.value if alert.severity else "", "error"),
        "logger": "secscan.alerts",
        "environment": environment,
        "release": f"secscan@{__version__}",
        "server_name": "secscan",
        "message": {"formatted": alert.summary},
        "fingerprint": [alert.dedup_key],
        "tags": {"event": alert.event.value, "target": alert.target[:200]},
        "extra": alert.facts(),
    }


def envelope(event: dict[str, Any], public_key: str) -> bytes:
    item = json.dumps(event).encode("utf-8")
    header = {"event_id": event["event_id"], "sent_at": event["timestamp"]}
    lines = [
        json.dumps(header).encode("utf-8"),
        json.dumps({"type": "event", "content_type": "application/json", "length": len(item)}).encode(),
        item,
    ]
    return b"\n".join(lines) + b"\n"


class SentryChannel(Channel):
    def __init__(self, name: str, dsn: str, environment: str, policy: HttpPolicy) -> None:
        self.name = name
        self._dsn = dsn
        self._url, self._key = parse_dsn(dsn, f"[notify.{name}] DSN")
        self._environment = environment
        self._policy = policy

    def secrets(self) -> tuple[str, ...]:
        return (self._dsn, self._key)

    def send(self, alert: Alert) -> Verdict:
        if alert.action is Action.RESOLVE:
            return Delivered()
        event = sentry_event(alert, self._environment)
        headers = {
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": (
                f"Sentry sentry_key={self._key}, sentry_version=7, sentry_client=secscan/{__version__}"
            ),
        }
        body = envelope(event, self._key)
        return post(self._url, body, self._policy, headers, self.secrets(), f"[notify.{self.name}] DSN")
