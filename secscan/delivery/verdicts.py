"""The verdicts of a delivery handler, shared by the outbox loop and every channel.

A handler (one per outbox item ``kind``) returns :class:`Delivered`, :class:`Retry` (a transient
failure: 429, 5xx, a timeout; ``after_s`` is the peer's own ``Retry-After``) or :class:`Dead` (a
request that can never succeed: a dead letter). The loop (:mod:`secscan.delivery.loop`) records
them; the channels (:mod:`secscan.delivery.github`, :mod:`secscan.delivery.notify`) and the HTTP
policy (:mod:`secscan.delivery.http`) produce them. Nothing here imports a channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from secscan.core.errors import ConfigError, MissingSecretError
from secscan.core.ports.outbox import OutboxItem

CONFIG_RETRY_S = 300.0  # a secret file that may still appear: look again in five minutes
MISSING_SECRET_GRACE = timedelta(hours=24)  # ... for at most a day after the item was queued


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


def config_fault(exc: ConfigError, item: OutboxItem, now: datetime) -> Retry | Dead:
    """The verdict for an item whose delivery the configuration prevents (a malformed routing
    key or URL, a secret that is not there). It will not heal by retrying, so it is a dead letter
    (the channel's fallback is told), except a secret read from a file, which may still appear
    (a credential being mounted or rotated): that item waits, for at most a day after it was
    queued. A secret from the environment cannot appear in a running process."""
    waiting = now - item.created_at < MISSING_SECRET_GRACE
    if isinstance(exc, MissingSecretError) and exc.may_appear and waiting:
        return Retry(str(exc), CONFIG_RETRY_S)
    return Dead(str(exc))
