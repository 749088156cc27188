"""PagerDuty Events API v2: trigger and resolve by ``dedup_key`` (``/v2/enqueue``, 202 Accepted)."""

from __future__ import annotations

import json
from typing import Any

from secscan.core.model import Severity
from secscan.delivery.http import HttpPolicy
from secscan.delivery.notify.interface import Action, Alert, Channel, EventKind
from secscan.delivery.notify.transport import post
from secscan.delivery.verdicts import Verdict

ROUTING_KEY_LENGTH = 32
SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "info",
    Severity.INFO: "info",
}
_EVENT_SEVERITY = {
    EventKind.SCANNER_FAILED: "error",
    EventKind.MISSED_RUN: "error",
    EventKind.TARGET_FAILED: "error",
}


def event_body(alert: Alert, routing_key: str) -> dict[str, Any]:
    """The Events API v2 request body of ``alert`` (a notice is sent as a trigger)."""
    if alert.action is Action.RESOLVE:
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": alert.dedup_key}
    severity = SEVERITY[alert.severity] if alert.severity else _EVENT_SEVERITY.get(alert.event, "warning")
    details = {k: v for k, v in alert.facts().items() if k != "fingerprint"}
    payload: dict[str, Any] = {
        "summary": alert.summary[:1024],
        "source": alert.target[:255] or "secscan",
        "severity": severity,
        "timestamp": alert.at.isoformat(),
        "component": str(alert.details.get("tool") or "secscan"),
        "group": alert.target[:255],
        "class": alert.event.value,
        "custom_details": details,
    }
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.dedup_key,
        "payload": payload,
        "client": "secscan",
    }


class PagerDutyChannel(Channel):
    def __init__(self, name: str, events_url: str, routing_key: str, policy: HttpPolicy) -> None:
        self.name = name
        self._url = events_url
        self._key = routing_key
        self._policy = policy

    def secrets(self) -> tuple[str, ...]:
        return (self._key,)

    def send(self, alert: Alert) -> Verdict:
        body = json.dumps(event_body(alert, self._key)).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        return post(self._url, body, self._policy, headers, self.secrets(), f"[notify.{self.name}]")
