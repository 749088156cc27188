"""Delivery of an outbox: take the due items, hand each to its handler, record the verdict.

Handlers (one per item ``kind``) return a verdict: :class:`Delivered`, :class:`Retry` (a
transient failure: 429, 5xx, a timeout; ``after_s`` is the peer's own ``Retry-After``) or
:class:`Dead` (a request that can never succeed: a dead letter; any other 4xx, or a fault of
the configuration, :func:`config_fault`). A handler that raises counts as a retry, so a bug in
one handler never loses an item. Retries back off exponentially with equal jitter, capped, and
never sooner than the peer asked. Delivery is at least once: producers put a dedup key into the
payload so that a repeat is harmless at the receiver.

A one-shot command (``secscan run --upload``, ``secscan upload``) cannot leave its deliveries to
a later process: in CI the database dies with the runner. :func:`settle` retries them within
the command, as the backoff and ``Retry-After`` allow, up to a bound, and returns what is still
waiting so the command can fail and name it.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from secscan.core.ports.outbox import Outbox, OutboxItem, OutboxStatus
from secscan.delivery.verdicts import Dead, Delivered, Handler, Retry

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

BASE_BACKOFF_S = 30.0
MAX_BACKOFF_S = 3600.0
LEASE = timedelta(minutes=10)
"""How long a claimed item is kept from other deliverers: longer than any handler's timeouts."""
FRESH_LEASE = LEASE / 2
"""A pass starts no item once its lease is this old (slow peers ate it): after the lease another
deliverer may claim the item, and both would send it. The rest wait for the lease to end."""


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
    less than ``after_s``, the peer's ``Retry-After``, which is believed up to an hour too: a
    peer asking for years (or for more seconds than a date can hold) must not park an alert
    forever or break the delivery pass."""
    ceiling = min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** max(attempts - 1, 0))
    jittered = (rng or random).uniform(ceiling / 2, ceiling)
    asked = after_s or 0.0
    return max(jittered, min(asked if math.isfinite(asked) else MAX_BACKOFF_S, MAX_BACKOFF_S))


def _next_second(at: datetime) -> datetime:
    """``at`` rounded up to a whole second: the store keeps whole seconds (rounded down), and a
    retry must never become due sooner than the peer asked."""
    return at if at.microsecond == 0 else at.replace(microsecond=0) + timedelta(seconds=1)


def deliver_due(
    outbox: Outbox,
    handlers: Mapping[str, Handler],
    clock: Clock,
    *,
    limit: int = 100,
    rng: random.Random | None = None,
    deadline: datetime | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` due items whose kind has a handler; returns what happened.

    The items are claimed (leased) first, so several deliverers may share one outbox: each
    item is delivered once per attempt. With a ``deadline`` (a one-shot command's wait, see
    :func:`settle`) the items are claimed one at a time and none is started once the deadline
    has passed: the rest stay due, not leased, for the next command. A deadline that has
    already passed when the pass starts (``--upload-wait 0``) gives each claimed item its one
    attempt."""
    started = clock()
    kinds = tuple(handlers)
    if deadline is None or deadline <= started:
        report = DeliveryReport()
        for item in outbox.claim(started, LEASE, limit=limit, kinds=kinds):
            if clock() - started >= FRESH_LEASE:
                log.warning(
                    "delivery pass stopped: the peers are slow; the rest is retried when its lease ends"
                )
                break
            report += _attempt(outbox, handlers, item, clock, rng)
        return report
    report = DeliveryReport()
    for _ in range(limit):
        now = clock()
        if now >= deadline:
            log.warning("delivery pass stopped at the end of the wait; the rest stays queued")
            break
        claimed = outbox.claim(now, LEASE, limit=1, kinds=kinds)
        if not claimed:
            break
        report += _attempt(outbox, handlers, claimed[0], clock, rng)
    return report


def _attempt(
    outbox: Outbox, handlers: Mapping[str, Handler], item: OutboxItem, clock: Clock, rng: random.Random | None
) -> DeliveryReport:
    """One attempt at a claimed item, its verdict recorded."""
    try:
        verdict = handlers[item.kind](item)
    except Exception as exc:  # a handler bug must not lose the item: it is retried
        log.exception("delivery of outbox item %d (%s) failed unexpectedly", item.id, item.kind)
        verdict = Retry(f"internal error: {type(exc).__name__}")
    now = clock()
    if isinstance(verdict, Delivered):
        outbox.delivered(item.id, now)
        return DeliveryReport(delivered=1)
    if isinstance(verdict, Dead):
        outbox.dead(item.id, now, verdict.error)
        log.error("outbox item %d (%s) is a dead letter: %s", item.id, item.kind, verdict.error)
        return DeliveryReport(dead=(item,))
    wait = backoff_s(item.attempts + 1, verdict.after_s, rng)
    outbox.retry(item.id, now, verdict.error, _next_second(now + timedelta(seconds=wait)))
    log.warning("outbox item %d (%s) will be retried in %.0f s: %s", item.id, item.kind, wait, verdict.error)
    return DeliveryReport(retried=1)


Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Settled:
    """What :func:`settle` achieved: the passes' totals, and the watched items still pending
    (their last error and next attempt on each) or dead when the wait ended."""

    report: DeliveryReport
    pending: tuple[OutboxItem, ...] = ()
    dead: tuple[OutboxItem, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.pending and not self.dead


def settle(
    deliver: Callable[[datetime], DeliveryReport],
    watched: Callable[[], Sequence[OutboxItem]],
    wait_s: float,
    clock: Clock,
    sleep: Sleep,
) -> Settled:
    """Deliver (``deliver(deadline)``: one pass over what is due, which starts nothing after the
    deadline) until every ``watched`` item (the items this command is answerable for, re-read
    each time) is delivered or dead, or ``wait_s`` is spent. Between passes it sleeps until the
    earliest pending item is due, so retries keep their backoff and the peer's ``Retry-After``;
    an item not due before the bound ends the wait at once (sleeping would not let it go out).
    The wait is a deadline: no pass, item or processing poll starts after it (a request in
    flight then ends within its own timeout). ``wait_s = 0`` is one pass that gives each due
    item one attempt: no retry, no waiting for GitHub's processing."""
    deadline = clock() + timedelta(seconds=max(wait_s, 0.0))
    total = DeliveryReport()
    while True:
        report = deliver(deadline)
        total += report
        items = tuple(watched())
        pending = tuple(i for i in items if i.status is OutboxStatus.PENDING)
        dead = tuple(i for i in items if i.status is OutboxStatus.DEAD)
        if not pending:
            return Settled(total, (), dead)
        now = clock()
        due = min(i.next_attempt_at for i in pending)
        stuck = due <= now and report.delivered + report.retried + len(report.dead) == 0
        # stuck: due, yet no handler took it (its feature is off)
        if due > deadline or stuck or now >= deadline:
            return Settled(total, pending, dead)
        wait = (due - now).total_seconds()
        if wait > 0:
            log.info("waiting %.0f s for the next delivery attempt of %d item(s)", wait, len(pending))
            sleep(wait)
