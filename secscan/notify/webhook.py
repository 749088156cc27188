"""Generic JSON webhooks, signed with HMAC-SHA256.

The body is the alert as JSON (``version``, ``action``, ``event``, ``dedup_key``, ``target``,
``summary``, ``severity``, ``at``, ``details``). ``X-Secscan-Timestamp`` is the UNIX time of the
attempt and ``X-Secscan-Signature`` is ``sha256=<hex>`` of HMAC-SHA256 over
``<timestamp>.<body>`` with the shared secret: receivers recompute it and reject old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

from secscan.delivery import Verdict
from secscan.http import HttpPolicy
from secscan.notify.interface import Alert, Channel
from secscan.notify.transport import post


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookChannel(Channel):
    def __init__(
        self, name: str, url: str, secret: str, policy: HttpPolicy, clock: Callable[[], float] = time.time
    ) -> None:
        self.name = name
        self._url = url
        self._secret = secret
        self._policy = policy
        self._clock = clock

    def secrets(self) -> tuple[str, ...]:
        return (self._url, self._secret)

    def send(self, alert: Alert) -> Verdict:
        body = json.dumps({"version": 1, **alert.to_payload()}, sort_keys=True).encode("utf-8")
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "X-Secscan-Timestamp": timestamp,
            "X-Secscan-Signature": signature(self._secret, timestamp, body),
        }
        return post(self._url, body, self._policy, headers, self.secrets(), f"[notify.{self.name}] url")
