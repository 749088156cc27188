"""Delivery of the alerts outbox: one handler per configured channel.

A handler builds its channel on first use (secrets are read then, never queued), keeps the
channel's rate limit (Slack: one message per second per webhook), holds an alert back while the
item that must precede it (the trigger of a resolve) is still pending, sends it, and when the
alert becomes a dead letter tells the channel's ``fallback``. :func:`deliver` runs
:func:`secscan.delivery.loop.deliver_due` until nothing more is due (``secscan run`` at its end);
the daemon uses :func:`secscan.app.deliver.deliver_all`, which calls :func:`handlers`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from secscan.core.errors import ConfigError
from secscan.core.ports.outbox import OutboxItem
from secscan.delivery.loop import Clock, DeliveryReport, deliver_due
from secscan.delivery.notify.channels import build_channel
from secscan.delivery.notify.interface import Action, Alert, Channel, EventKind, dedup_key
from secscan.delivery.notify.messages import clean
from secscan.delivery.verdicts import Dead, Handler, Retry, Verdict, config_fault

if TYPE_CHECKING:
    from secscan.config.settings import Settings
    from secscan.core.ports.store import Store

log = logging.getLogger(__name__)

MAX_PASSES = 50


class RateLimiter:
    """At most ``rate`` sends per second: waits (``sleep``) until the next send is allowed."""

    def __init__(
        self,
        rate: float | None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 0.0 if rate is None else 1.0 / rate
        self._monotonic, self._sleep = monotonic, sleep
        self._next = float("-inf")

    def wait(self) -> None:
        if self._interval <= 0:
            return
        now = self._monotonic()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


class ChannelHandler:
    """The outbox handler of one channel (see the module docstring)."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        store: Store,
        limiter: RateLimiter,
        clock: Clock,
        build: Callable[[str, Settings], Channel] = build_channel,
    ) -> None:
        self.name = name
        self._settings, self._store, self._limiter, self._clock = settings, store, limiter, clock
        self._build = build
        self._channel: Channel | None = None
        self._fallback = settings.notify.channels[name].fallback

    def channel(self) -> Channel:
        if self._channel is None:
            self._channel = self._build(self.name, self._settings)
        return self._channel

    def __call__(self, item: OutboxItem) -> Verdict:
        alert = Alert.from_payload(item.payload)
        after = item.payload.get("after")
        if after:
            pending = self._store.alert_outbox_pending(str(after))
            if pending is not None:
                wait = max(1.0, (pending - self._clock()).total_seconds())
                return Retry("waiting for the earlier alert of this incident to be delivered", wait)
        try:
            channel = self.channel()
        except ConfigError as exc:  # a malformed key or URL, a missing secret: see config_fault
            log.error("alerts to channel %s cannot be sent: %s", self.name, exc)
            verdict: Verdict = config_fault(exc, item, self._clock())
        else:
            self._limiter.wait()
            verdict = channel.send(alert)
        if isinstance(verdict, Dead):
            self._tell_fallback(item, alert, verdict.error)
        return verdict

    def _tell_fallback(self, item: OutboxItem, alert: Alert, error: str) -> None:
        if self._fallback is None or alert.event is EventKind.DELIVERY_FAILED:
            return  # a failed notice about a failure is not passed on again
        now = self._clock()
        notice = Alert(
            channel=self._fallback,
            action=Action.NOTICE,
            event=EventKind.DELIVERY_FAILED,
            dedup_key=dedup_key("delivery-failed", item.key),
            target=alert.target,
            summary=clean(
                f"[secscan] could not deliver a {alert.event.value} {alert.action.value} alert "
                f"for {alert.target} to channel {self.name}: {error}"
            ),
            at=now,
            severity=alert.severity,
            details={
                "channel": self.name,
                "outbox_id": item.id,
                "alert": alert.summary,
                "error": clean(error, 500),
            },
        )
        key = f"{self._fallback}|notice|{notice.dedup_key}"
        self._store.outbox("alerts").enqueue(self._fallback, key, notice.to_payload(), now)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def handlers(
    settings: Settings,
    store: Store,
    *,
    clock: Clock = _utcnow,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Mapping[str, Handler]:
    """Outbox kind (the channel's name) -> its delivery handler, for every configured channel."""
    return {
        name: ChannelHandler(name, settings, store, RateLimiter(config.rate, monotonic, sleep), clock)
        for name, config in settings.notify.channels.items()
    }


def deliver(
    store: Store,
    settings: Settings,
    clock: Clock = _utcnow,
    *,
    sleep: Callable[[float], None] = time.sleep,
    deadline: datetime | None = None,
) -> DeliveryReport:
    """Deliver every due alert (several passes: a dead letter's fallback notice goes out too);
    with a ``deadline`` (a one-shot command's wait) no pass or alert starts after it."""
    if not settings.notify.channels:
        return DeliveryReport()
    table = handlers(settings, store, clock=clock, sleep=sleep)
    total = DeliveryReport()
    for n in range(MAX_PASSES):
        if n and deadline is not None and clock() >= deadline:
            break
        report = deliver_due(store.outbox("alerts"), table, clock, deadline=deadline)
        total += report
        if report.delivered + report.retried + len(report.dead) == 0:
            break
        if report.delivered + len(report.dead) == 0:
            break  # only retries left: they wait for their backoff
    return total
