"""Delivery of an outbox: take the due items, hand each to its handler, record the verdict.

Handlers (one per item ``kind``) return a verdict: :class:`Delivered`, :class:`Retry` (a
transient failure: 429, 5xx, a timeout; ``after_s`` is the peer's own ``Retry-After``) or
:class:`Dead` (a request that can never succeed: a dead letter). A handler that raises counts as
a retry, so a bug in one handler never loses an item. Retries back off exponentially with
equal jitter, capped, and never sooner than the peer asked. Delivery is at least once: producers put a
dedup key into the payload so that a repeat is harmless at the receiver.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from secscan.store.outbox import Outbox, OutboxItem

if TYPE_CHECKING:
    from secscan.settings import Settings
    from secscan.store.interface import Store

log = logging.getLogger(__name__)

BASE_BACKOFF_S = 30.0
MAX_BACKOFF_S = 3600.0


@dataclass(frozen=True)
class Delivered:
    """The peer accepted the item."""


@dataclass(frozen=True)
class Retry:
    """A transient failure; try again after ``after_s`` seconds at the earliest (None: backoff)."""

    error: str
    after_s: float | None = None


@dataclass(frozen=True)
class Dead:
    """A permanent failure: keep the item as a dead letter with ``error``."""

    error: str


Verdict = Delivered | Retry | Dead
Handler = Callable[[OutboxItem], Verdict]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    dead: tuple[OutboxItem, ...] = ()  # items that became dead letters in this pass

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.delivered + other.delivered, self.retried + other.retried, self.dead + other.dead
        )


def backoff_s(attempts: int, after_s: float | None, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: "equal jitter" over an exponential
    ceiling (``BASE * 2**(attempts-1)``, capped at an hour; uniform in its upper half), and never
    less than ``after_s``."""
    ceiling = min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** max(attempts - 1, 0))
    jittered = (rng or random).uniform(ceiling / 2, ceiling)
    return max(jittered, after_s or 0.0)


def deliver_due(
    outbox: Outbox,
    handlers: Mapping[str, Handler],
    clock: Clock,
    *,
    limit: int = 100,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` due items whose kind has a handler; returns what happened."""
    report = DeliveryReport()
    for item in outbox.due(clock(), limit=limit, kinds=tuple(handlers)):
        try:
            verdict = handlers[item.kind](item)
        except Exception as exc:  # a handler bug must not lose the item: it is retried
            log.exception("delivery of outbox item %d (%s) failed unexpectedly", item.id, item.kind)
            verdict = Retry(f"internal error: {type(exc).__name__}")
        now = clock()
        if isinstance(verdict, Delivered):
            outbox.delivered(item.id, now)
            report += DeliveryReport(delivered=1)
        elif isinstance(verdict, Dead):
            outbox.dead(item.id, now, verdict.error)
            log.error("outbox item %d (%s) is a dead letter: %s", item.id, item.kind, verdict.error)
            report += DeliveryReport(dead=(item,))
        else:
            wait = backoff_s(item.attempts + 1, verdict.after_s, rng)
            outbox.retry(item.id, now, verdict.error, now + timedelta(seconds=wait))
            log.warning(
                "outbox item %d (%s) will be retried in %.0f s: %s", item.id, item.kind, wait, verdict.error
            )
            report += DeliveryReport(retried=1)
    return report


def deliver_all(store: Store, settings: Settings, clock: Clock) -> Mapping[str, DeliveryReport]:
    """Deliver both outboxes with the handlers of the configured features.

    The upload and paging packages are imported here, lazily, so that a run that uses neither
    does not load them; a feature that is not configured contributes no handlers, and its items
    wait in the outbox.
    """
    from secscan.github import outbox as github_outbox
    from secscan.notify import outbox as notify_outbox

    return {
        "uploads": deliver_due(store.outbox("uploads"), github_outbox.handlers(settings, store), clock),
        "alerts": deliver_due(store.outbox("alerts"), notify_outbox.handlers(settings, store), clock),
    }
