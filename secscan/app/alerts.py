"""The application functions behind ``secscan alerts`` and ``secscan notify test``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from secscan.core.errors import NotifyError
from secscan.core.ports.outbox import OutboxItem, OutboxStatus
from secscan.delivery.loop import DeliveryReport
from secscan.delivery.notify.channels import build_channel, check_channels
from secscan.delivery.notify.interface import Action, Alert, EventKind, dedup_key
from secscan.delivery.notify.outbox import deliver
from secscan.delivery.verdicts import Dead, Delivered, Retry

if TYPE_CHECKING:
    from secscan.config.settings import Settings
    from secscan.core.ports.store import Store


def list_alerts(store: Store, *, dead: bool = False, limit: int = 100) -> tuple[OutboxItem, ...]:
    """The alerts outbox, newest first (only dead letters with ``dead``)."""
    return store.outbox("alerts").items(OutboxStatus.DEAD if dead else None, limit)


def alert_json(item: OutboxItem) -> dict[str, Any]:
    """One outbox item as the ``--format json`` document shows it (the payload holds no secret)."""
    p: Mapping[str, Any] = item.payload
    return {
        "id": item.id,
        "channel": item.kind,
        "status": item.status.value,
        "action": p.get("action"),
        "event": p.get("event"),
        "dedup_key": p.get("dedup_key"),
        "summary": p.get("summary"),
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at.isoformat(),
        "created_at": item.created_at.isoformat(),
        "delivered_at": item.delivered_at.isoformat() if item.delivered_at else None,
        "last_error": item.last_error,
    }


def retry_alert(store: Store, item_id: int, now: datetime) -> OutboxItem:
    """Make a dead (or waiting) alert due now; it goes out at the next delivery. Raises StoreError."""
    return store.outbox("alerts").requeue(item_id, now)


def deliver_now(store: Store, settings: Settings) -> DeliveryReport:
    """``secscan alerts deliver``: every channel is checked first (a missing or malformed secret
    is a ConfigError, exit 2, not a dead letter of every alert), then what is due goes out."""
    check_channels(settings, deliver=True)
    return deliver(store, settings)


def send_test(settings: Settings, channel: str, now: datetime | None = None) -> str:
    """Send a test notice to ``channel`` directly (not queued). Returns a one-line result;
    raises ConfigError for a bad channel and NotifyError when the peer refused it."""
    now = now or datetime.now(UTC)
    target = build_channel(channel, settings)
    alert = Alert(
        channel=channel,
        action=Action.NOTICE,
        event=EventKind.TEST,
        dedup_key=dedup_key("test", channel, now.isoformat()),
        target="secscan",
        summary=f"[secscan] test notice to channel {channel}: if you can read this, alerts arrive",
        at=now,
    )
    verdict = target.send(alert)
    if isinstance(verdict, Delivered):
        return f"test notice delivered to {channel}"
    if isinstance(verdict, Retry | Dead):
        raise NotifyError(f"test notice to [notify.{channel}] failed: {verdict.error}; check the channel")
    raise AssertionError(verdict)  # pragma: no cover
