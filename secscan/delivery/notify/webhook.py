"""Generic JSON webhooks, signed with HMAC-SHA256.

The body is the alert as JSON: ``version`` (1), ``channel``, ``action`` (trigger, resolve,
notice), ``event``, ``dedup_key``, ``target``, ``summary``, ``at``, ``severity`` and ``details``
(for a finding: ``fingerprint``, ``tool``, ``rule``, ``path``, ``line``, ``state``; for a storm:
``tool``, ``rule``, ``count``, ``grouped``).
A trigger and the resolve of the same incident share ``dedup_key``.

Receivers verify each request before trusting it:

1. read ``X-Secscan-Timestamp`` (UNIX seconds of the attempt) and ``X-Secscan-Signature``
   (``sha256=`` followed by 64 hex digits);
2. compute HMAC-SHA256 with the shared secret over the timestamp, a ``.``, and the raw request
   body exactly as received (bytes, before any JSON parsing);
3. compare ``"sha256=" + hexdigest`` with the header in constant time
   (``hmac.compare_digest``) and reject a mismatch (answer 401: secscan dead-letters it);
4. reject a timestamp more than five minutes from their clock (a replayed request);
5. answer 2xx quickly; 429 or 5xx make secscan retry with backoff (``Retry-After`` honoured).
   Delivery is at least once: deduplicate on ``dedup_key`` and ``action``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

from secscan.delivery.http import HttpPolicy
from secscan.delivery.notify.interface import Alert, Channel
from secscan.delivery.notify.transport import post, url_secrets
from secscan.delivery.verdicts import Verdict


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
        return (*url_secrets(self._url), self._secret)

    def send(self, alert: Alert) -> Verdict:
        body = json.dumps({"version": 1, **alert.to_payload()}, sort_keys=True).encode("utf-8")
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "X-Secscan-Timestamp": timestamp,
            "X-Secscan-Signature": signature(self._secret, timestamp, body),
        }
        return post(self._url, body, self._policy, headers, self.secrets(), f"[notify.{self.name}] url")
