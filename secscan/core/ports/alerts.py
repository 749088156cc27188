"""Paging incident state kept by the store (issue 6): one row per dedup key and channel.

It is what makes alerting idempotent beyond the outbox: a re-run or a repeated SLA sweep finds
the incident already ``triggered`` and queues nothing, and a fix or a triage finds it open and
queues exactly one resolve. ``generation`` counts the triggers of a key (a finding fixed and
reopened pages again, as a new incident) and is part of each outbox item's idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    RESOLVED = "resolved"


class IncidentState(NamedTuple):
    """Whether an incident is open, and how many times its key was triggered."""

    status: IncidentStatus
    generation: int


@dataclass(frozen=True, slots=True)
class AlertIncident:
    """The paging state of one dedup key on one channel.

    ``fingerprint`` links a finding's incident to its finding (so that its fix or triage resolves
    it); grouped incidents name their ``tool`` and ``rule`` instead, and their findings are kept
    as :class:`IncidentMember` rows (resolved when every member is closed); scanner incidents
    name their ``tool``.
    """

    dedup_key: str
    channel: str
    event: str
    target: str
    status: IncidentStatus
    generation: int
    triggered_at: datetime
    resolved_at: datetime | None = None
    fingerprint: str | None = None
    tool: str | None = None
    rule: str | None = None
    grouped: bool = False


class IncidentMember(NamedTuple):
    """A finding that a grouped incident (an alert storm) stands for: it was in the storm, or
    joined the open incident later. The incident is resolved when all of its members are fixed,
    triaged or gone; members are forgotten when it is resolved."""

    target: str
    dedup_key: str
    channel: str
    fingerprint: str
