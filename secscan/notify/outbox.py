"""Delivery handlers for this feature's outbox items (filled in by the feature's own work)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secscan.delivery import Handler
    from secscan.settings import Settings
    from secscan.store.interface import Store


def handlers(settings: Settings, store: Store) -> Mapping[str, Handler]:
    """Outbox item kind -> handler. Empty until the feature is configured."""
    return {}
