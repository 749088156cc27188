"""The outbox seam: durable, idempotent queues of deliveries (uploads, alerts) in the store.

A producer enqueues a payload under an idempotency ``key`` in the same database as the findings,
so a crash or an outage loses nothing and a repeated enqueue (a re-run, a repeated SLA sweep)
adds nothing. A consumer (:mod:`secscan.delivery.loop`) takes the due items, delivers them and marks
each one delivered, to be retried later, or dead (a dead letter, kept with its error).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

OutboxName = Literal["uploads", "alerts"]
OUTBOXES: tuple[OutboxName, ...] = ("uploads", "alerts")


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"
    DEAD = "dead"  # will not be retried unless requeued by hand


@dataclass(frozen=True)
class OutboxItem:
    """One queued delivery. ``kind`` names its handler (e.g. ``pagerduty``, ``github-sarif``)."""

    id: int
    kind: str
    key: str
    payload: Mapping[str, Any]
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None = None
    last_error: str | None = None


class Outbox(ABC):
    """A durable queue. Every method is one transaction."""

    @abstractmethod
    def enqueue(self, kind: str, key: str, payload: Mapping[str, Any], now: datetime) -> bool:
        """Queue ``payload`` under ``key``; False (and nothing changes) when ``key`` was queued before."""

    @abstractmethod
    def enqueue_many(self, items: Iterable[tuple[str, str, Mapping[str, Any]]], now: datetime) -> int:
        """Queue ``(kind, key, payload)`` items in one transaction; returns how many were new."""

    @abstractmethod
    def due(
        self, now: datetime, limit: int = 100, kinds: Collection[str] | None = None
    ) -> tuple[OutboxItem, ...]:
        """Pending items whose next attempt is due, oldest first."""

    @abstractmethod
    def claim(
        self, now: datetime, lease: timedelta, limit: int = 100, kinds: Collection[str] | None = None
    ) -> tuple[OutboxItem, ...]:
        """Take up to ``limit`` due items (as :meth:`due` lists them) for one delivery attempt.

        Each is leased in the same transaction: its next attempt moves to ``now + lease``, so
        another deliverer sharing the outbox does not take it while this one delivers it (items
        another deliverer is claiming at that moment are skipped, not waited for). The verdict
        (:meth:`delivered`, :meth:`retry`, :meth:`dead`) ends the lease; a deliverer that dies
        leaves its items due again when the lease runs out. The items are returned as they were
        before the lease.
        """

    @abstractmethod
    def delivered(self, item_id: int, now: datetime) -> None:
        """Mark an item delivered."""

    @abstractmethod
    def retry(self, item_id: int, now: datetime, error: str, next_at: datetime) -> None:
        """Record a failed attempt; the item stays pending until ``next_at``."""

    @abstractmethod
    def dead(self, item_id: int, now: datetime, error: str) -> None:
        """Record a failed attempt that cannot succeed: the item becomes a dead letter."""

    @abstractmethod
    def requeue(self, item_id: int, now: datetime) -> OutboxItem:
        """Make a dead (or pending) item due now again. Raises StoreError for an unknown id."""

    @abstractmethod
    def items(self, status: OutboxStatus | None = None, limit: int = 100) -> tuple[OutboxItem, ...]:
        """Items with ``status`` (all when None), newest first."""

    @abstractmethod
    def get(self, item_id: int) -> OutboxItem | None:
        """One item by id."""

    @abstractmethod
    def depth(self) -> Mapping[OutboxStatus, int]:
        """How many items are in each status."""

    @abstractmethod
    def prune(self, delivered_before: datetime) -> int:
        """Delete delivered items older than ``delivered_before``; returns how many.

        Idempotency holds only while an item is kept: producers that must never repeat an event
        keep their own record of it (e.g. the alerts' incident state).
        """
