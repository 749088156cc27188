"""The paging seam: events, the alerts routed from them, and the :class:`Channel` ABC.

An :class:`Event` is something that happened (a finding to page, an SLA breach, a failed
scanner); routing (:mod:`secscan.delivery.notify.policy`) turns events into :class:`Alert` values, one per
channel, which travel through the alerts outbox as JSON (:meth:`Alert.to_payload`). A channel
(PagerDuty, Slack, email, webhook, Sentry) delivers one alert and returns a delivery verdict.
Alerts carry finding metadata only (rule, path, line, severity, id): never a code snippet, a
message quoted from a scanner, or a secret.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from functools import lru_cache
from typing import Any

from secscan.core.model import Severity
from secscan.delivery.verdicts import Verdict

MAX_DEDUP_KEY = 255  # PagerDuty's limit


class EventKind(StrEnum):
    FINDING = "finding"
    SLA_BREACHED = "sla-breached"
    SLA_DUE_SOON = "sla-due-soon"
    SCANNER_FAILED = "scanner-failed"
    MISSED_RUN = "missed-run"
    TARGET_FAILED = "target-failed"  # the daemon could not scan a target, or update its checkout
    UPLOAD_FAILED = "upload-failed"
    DIGEST = "digest"
    DELIVERY_FAILED = "delivery-failed"  # to a fallback channel: an alert became a dead letter
    TEST = "test"  # secscan notify test

    @property
    def opens_incident(self) -> bool:
        """Incidents are triggered once and resolved once; other events are one-off notices."""
        return self in _INCIDENT_EVENTS


_INCIDENT_EVENTS = frozenset(
    {
        EventKind.FINDING,
        EventKind.SLA_BREACHED,
        EventKind.SCANNER_FAILED,
        EventKind.MISSED_RUN,
        EventKind.TARGET_FAILED,
    }
)


class Action(StrEnum):
    TRIGGER = "trigger"
    RESOLVE = "resolve"
    NOTICE = "notice"


def dedup_key(*parts: str) -> str:
    """``secscan/<parts...>``; a key longer than PagerDuty's 255 characters becomes a hash."""
    key = "secscan/" + "/".join(parts)
    if len(key) <= MAX_DEDUP_KEY:
        return key
    return "secscan/h/" + hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Event:
    """Something routing may turn into alerts. Finding fields are ``None`` for run-level events."""

    kind: EventKind
    target: str
    severity: Severity | None = None
    tool: str | None = None
    rule: str | None = None
    path: str | None = None
    line: int | None = None
    fingerprint: str | None = None
    state: str | None = None  # the finding's lifecycle state (finding events)
    detail: str = ""  # a short, redacted explanation (a scanner's failure reason, a due time)
    dedup: str = ""  # the event's own dedup key (empty: derived from kind, target and finding)

    @property
    def key(self) -> str:
        if self.dedup:
            return self.dedup
        if self.fingerprint is not None:
            prefix = "finding" if self.kind is EventKind.FINDING else self.kind.value
            return dedup_key(prefix, self.target, self.fingerprint)
        return dedup_key(self.kind.value, self.target, *(p for p in (self.tool,) if p))


@dataclass(frozen=True, slots=True)
class Alert:
    """One message for one channel. ``details`` holds flat metadata for the channel to render."""

    channel: str
    action: Action
    event: EventKind
    dedup_key: str
    target: str
    summary: str
    at: datetime
    severity: Severity | None = None
    details: Mapping[str, str | int | None] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """The alert as JSON-ready data: the outbox payload and the generic webhook's body."""
        return {
            "channel": self.channel,
            "action": _NAMES[self.action],
            "event": _NAMES[self.event],
            "dedup_key": self.dedup_key,
            "target": self.target,
            "summary": self.summary,
            "at": _iso(self.at),
            "severity": None if self.severity is None else _NAMES[self.severity],
            "details": dict(self.details),
        }

    def facts(self) -> dict[str, str | int]:
        """What a channel shows beside the summary: the event, target and severity, the finding
        id (the first 16 digits of its fingerprint), then ``details``; None values left out."""
        facts: dict[str, str | int | None] = {
            "event": self.event.value,
            "target": self.target,
            "severity": None if self.severity is None else self.severity.value,
        }
        fingerprint = self.details.get("fingerprint")
        if fingerprint:
            facts["finding"] = str(fingerprint)[:16]
        facts.update(self.details)
        return {k: v for k, v in facts.items() if v is not None}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Alert:
        severity = payload.get("severity")
        return cls(
            channel=str(payload["channel"]),
            action=Action(payload["action"]),
            event=EventKind(payload["event"]),
            dedup_key=str(payload["dedup_key"]),
            target=str(payload["target"]),
            summary=str(payload["summary"]),
            at=datetime.fromisoformat(str(payload["at"])),
            severity=None if severity is None else Severity(severity),
            details=dict(payload.get("details") or {}),
        )


_NAMES: Mapping[Enum, str] = {m: m.value for e in (Action, EventKind, Severity) for m in e}
"""Enum member -> its value: a dict look-up, not an ``Enum.value`` property call per alert."""


@lru_cache(maxsize=64)
def _iso(at: datetime) -> str:
    return at.isoformat()  # every alert of a batch has the same time


class Channel(ABC):
    """A destination of alerts. ``send`` performs one delivery attempt and never raises for a
    failure of the peer: it returns Delivered, Retry or Dead (see :mod:`secscan.delivery.loop`)."""

    name: str

    @abstractmethod
    def send(self, alert: Alert) -> Verdict:
        """Deliver ``alert`` once."""

    def secrets(self) -> tuple[str, ...]:
        """Secret values this channel holds (redacted from any error it reports)."""
        return ()
