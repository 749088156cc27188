"""The SLA events of open findings: a breach is paged level-triggered, like a finding."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from secscan.core.ports.store import OPEN_STATES, TrackedFinding
from secscan.core.sla import SlaPolicy, SlaStatus, due_at, status
from secscan.delivery.notify.interface import Event, EventKind


def due_text(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""


def breaches(findings: Iterable[TrackedFinding], policy: SlaPolicy, now: datetime) -> list[Event]:
    """An ``sla-breached`` event for each open finding whose SLA is breached at ``now``.

    Level-triggered like finding alerts: a breach whose incident is open is dropped by
    :func:`secscan.delivery.notify.events.dispatch`; one whose incident was resolved (the
    finding was triaged, then the decision was lifted or expired) or never queued (a crash
    between the sweep and its alerts: the target's next run) pages again.
    """
    found = []
    for t in findings:
        if t.state in OPEN_STATES and status(t.sla, t.severity, policy, now) is SlaStatus.BREACHED:
            where = (t.tool, t.rule_id, t.path, t.line, t.fingerprint)
            due = due_text(due_at(t.sla, t.severity, policy))
            found.append(Event(EventKind.SLA_BREACHED, t.target, t.severity, *where, None, due, ""))
    return found
