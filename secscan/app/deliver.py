"""The deliveries of one ``secscan run``: its uploads and alerts go out before the command ends.

A run queues its SARIF uploads (``--upload``) and its alerts in the store's outboxes. The
daemon delivers what does not go out at once on its own schedule, but a one-shot run in CI
cannot leave anything to later: the database dies with the runner, so a queued retry is a lost
upload or page. Given a :class:`DeliveryWait` (``--upload-wait``), the run retries its own
items within the run (:func:`secscan.delivery.loop.settle`: the backoff and ``Retry-After`` are
honoured, the whole wait is bounded) and reports each one that is still pending or became a
dead letter as :class:`Undelivered`; the run then exits 3 naming them. Without one (the
daemon) each outbox gets one pass, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from secscan.app.delivery_wait import DeliveryWait, utcnow
from secscan.core.model import ScanRun
from secscan.core.ports.outbox import OutboxItem, OutboxName, OutboxStatus
from secscan.delivery.loop import DeliveryReport, deliver_due, settle

if TYPE_CHECKING:
    from secscan.config.settings import Settings
    from secscan.core.ports.store import Store

_WATCH_LIMIT = 10_000  # items of one status read per look at an outbox


@dataclass(frozen=True)
class Undelivered:
    """One upload or alert of this command that did not go out."""

    outbox: OutboxName
    name: str  # the upload's category, or the alert's channel and event
    status: OutboxStatus  # pending (retries left when the wait ended) or dead
    error: str | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, outbox: OutboxName, item: OutboxItem) -> Undelivered:
        payload: Mapping[str, Any] = item.payload
        if outbox == "uploads":
            name = str((payload.get("receipt") or {}).get("category") or item.key)
        else:
            name = f"{item.kind} ({payload.get('event', '?')} {payload.get('action', '?')})"
        pending = item.status is OutboxStatus.PENDING
        return cls(outbox, name, item.status, item.last_error, item.next_attempt_at if pending else None)

    def line(self) -> str:
        """One line for stderr: what, why, and where it is kept."""
        what = f"upload {self.name}" if self.outbox == "uploads" else f"alert to {self.name}"
        why = f" ({self.error})" if self.error else ""
        if self.status is OutboxStatus.DEAD:
            where = "secscan github status" if self.outbox == "uploads" else "secscan alerts --dead"
            return f"{what} is a dead letter{why}; see `{where}`"
        command = "secscan upload" if self.outbox == "uploads" else "secscan alerts deliver"
        at = f", next attempt {self.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC" if self.next_attempt_at else ""
        return f"{what} is still pending{why}{at}; it stays queued in the database (`{command}`)"

    def document(self) -> dict[str, Any]:
        return {
            "outbox": self.outbox,
            "name": self.name,
            "status": self.status.value,
            "error": self.error,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
        }


def check(settings: Settings, *, notify: bool) -> None:
    """Before the scan of a one-shot run: every configured channel is built (a malformed key or
    URL is a ConfigError; a missing secret too when this run delivers its alerts)."""
    if settings.notify.channels:
        from secscan.delivery.notify.channels import check_channels

        check_channels(settings, deliver=notify)


def alerts_mark(store: Store) -> int:
    """The newest alert's id: the alerts queued after this are the run's own."""
    newest = store.outbox("alerts").items(limit=1)
    return newest[0].id if newest else 0


def _deliver_alerts(
    store: Store,
    settings: Settings,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    deadline: datetime | None = None,
) -> DeliveryReport:
    """One delivery of the due alerts; the channels' HTTP and SMTP clients load only when
    something is due (a run that pages nothing does not pay for them)."""
    if not store.outbox("alerts").due(clock(), 1):
        return DeliveryReport()
    from secscan.delivery.notify.outbox import deliver

    return deliver(store, settings, clock, sleep=sleep, deadline=deadline)


def awaiting_upload(store: Store, item: OutboxItem) -> bool:
    """Whether an uploads outbox item still has to reach GitHub: not delivered and not yet
    accepted (a file GitHub accepted is only polled for its processing status, which GitHub
    finishes whether or not anyone polls: waiting for it would hold a CI job for nothing)."""
    if item.status is OutboxStatus.DELIVERED:
        return False
    found = store.uploads(key=item.key, limit=1)
    return not (found and found[0].sarif_id is not None and item.status is OutboxStatus.PENDING)


def _items(store: Store, name: OutboxName, keep: Callable[[OutboxItem], bool]) -> list[OutboxItem]:
    box = store.outbox(name)
    statuses = (OutboxStatus.PENDING, OutboxStatus.DEAD)
    return [i for s in statuses for i in box.items(s, limit=_WATCH_LIMIT) if keep(i)]


def deliver_run(
    store: Store,
    run: ScanRun,
    sarif: Mapping[str, Any],
    settings: Settings,
    *,
    upload: bool,
    notify: bool,
    alerts_after: int,
    wait: DeliveryWait | None,
) -> tuple[Undelivered, ...]:
    """Queue the run's uploads (``upload``), then deliver them and the alerts queued after the
    alert id ``alerts_after`` (``notify``); returns what did not go out (nothing without
    ``wait``: the daemon delivers the rest)."""
    clock = wait.clock if wait is not None else utcnow
    sleep = wait.sleep if wait is not None else time.sleep
    keys: Collection[str] = frozenset()
    passes: list[Callable[[datetime | None], DeliveryReport]] = []
    if upload:
        from secscan.delivery.github import outbox as github_outbox

        keys = frozenset(github_outbox.queue_run(store, run, sarif, settings, clock()))
        passes.append(lambda at: deliver_uploads(store, settings, clock=clock, sleep=sleep, deadline=at))
    if notify and settings.notify.channels:
        passes.append(lambda at: _deliver_alerts(store, settings, clock, sleep, at))
    if wait is None:
        for one in passes:
            one(None)
        return ()

    def watched() -> list[OutboxItem]:
        mine = []
        if upload:
            mine += _items(store, "uploads", lambda i: i.key in keys and awaiting_upload(store, i))
        if notify and settings.notify.channels:
            mine += _items(store, "alerts", lambda i: i.id > alerts_after)
        return mine

    def deliver(deadline: datetime) -> DeliveryReport:
        total = DeliveryReport()
        for one in passes:
            total += one(deadline)
        return total

    settled = settle(deliver, watched, wait.seconds, clock, sleep)
    # an upload's key names GitHub and its commit; an alert's starts with its channel and action
    return tuple(
        Undelivered.of("uploads" if i.key in keys else "alerts", i) for i in (*settled.pending, *settled.dead)
    )


def deliver_all(
    store: Store, settings: Settings, clock: Callable[[], datetime]
) -> Mapping[str, DeliveryReport]:
    """Deliver both outboxes with the handlers of the configured features (the daemon's pass).

    This is the composition root of delivery: it registers each channel's handlers with the
    outbox loop, which never imports a channel.

    The upload and paging packages are imported here, lazily, so that a run that uses neither
    does not load them; a feature that is not configured contributes no handlers, and its items
    wait in the outbox.
    """
    from secscan.delivery.github import outbox as github_outbox
    from secscan.delivery.notify import outbox as notify_outbox

    return {
        "uploads": deliver_due(
            store.outbox("uploads"), github_outbox.handlers(settings, store, on_failed=upload_failed), clock
        ),
        "alerts": deliver_due(store.outbox("alerts"), notify_outbox.handlers(settings, store), clock),
    }


def upload_failed(
    store: Store, target: str, category: str, detail: str, settings: Settings, now: datetime
) -> object:
    """The upload-failed alert of the paging feature, registered with the GitHub channel by this
    composition root; the paging package is imported only when an upload failed."""
    try:
        from secscan.delivery.notify import events
    except ImportError:
        return None
    raise_alert = getattr(events, "on_upload_failed", None)
    return raise_alert(store, target, category, detail, settings, now) if callable(raise_alert) else None


def deliver_uploads(
    store: Store,
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    env: Mapping[str, str] | None = None,
    deadline: datetime | None = None,
) -> DeliveryReport:
    """Deliver every due upload now (none started after ``deadline``), with the upload-failed
    alert registered."""
    from secscan.delivery.github import outbox as github_outbox

    return github_outbox.deliver(
        store, settings, clock=clock, sleep=sleep, env=env, on_failed=upload_failed, deadline=deadline
    )
