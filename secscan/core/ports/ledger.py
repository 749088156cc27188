"""The daemon's run ledger as it crosses the store seam: scheduled slots and store statistics.

A *slot* is one scheduled occurrence of a daemon job (``nightly`` at one fire time, or
``missed:<target>`` for one overdue nightly). Slots are unique by (job, slot time), so claiming
one is how the daemon runs it exactly once, whether on time, as a catch-up or after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SlotStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    INTERRUPTED = "interrupted"  # the daemon stopped or crashed before the slot finished
    SKIPPED = "skipped"  # claimed but not run (e.g. too late, past the catch-up grace)


class SlotTrigger(StrEnum):
    SCHEDULED = "scheduled"  # fired on time
    CATCH_UP = "catch-up"  # missed while the daemon was down; run once at start
    RETRY = "retry"  # interrupted by a crash or a stop; run again at start


@dataclass(frozen=True)
class SlotRecord:
    job: str
    slot_at: datetime
    status: SlotStatus
    trigger: SlotTrigger
    attempts: int
    started_at: datetime
    finished_at: datetime | None = None
    detail: str | None = None


@dataclass(frozen=True)
class FindingStats:
    """Counts for ``/metrics``: open findings and SLA statuses, by (target, severity)."""

    open: Mapping[tuple[str, str], int] = field(default_factory=dict)
    sla: Mapping[tuple[str, str, str], int] = field(default_factory=dict)  # (target, severity, status)


@dataclass(frozen=True)
class PruneReport:
    runs: int = 0
    slots: int = 0
