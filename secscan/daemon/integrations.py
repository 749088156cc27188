"""The daemon's calls into other features (paging, uploads, report, delivery).

Each is imported when first used, so that an idle daemon does not load the report's plotting
or the channels' clients until a job needs them. Errors the features raise go to the caller's
job wrapper, which logs them (and thus reports them to Sentry); they never stop the scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from secscan.app.pipeline import Clock
from secscan.config.policy import load_sla_policy
from secscan.config.settings import Settings
from secscan.core.ports.store import Store, SweepResult

log = logging.getLogger(__name__)


def on_sweep(store: Store, result: SweepResult, settings: Settings, now: datetime) -> int:
    """Queue SLA alerts for a sweep, and the day's digest once per UTC day (paging)."""
    from secscan.delivery.notify import events

    queued = events.on_sweep(store, result, settings, now)
    return queued + events.on_digest(store, settings, now)


def on_missed_run(store: Store, target: str, expected_at: datetime, settings: Settings, now: datetime) -> int:
    """Queue the dead man's switch alert for a target whose nightly run is overdue (paging)."""
    from secscan.delivery.notify import events

    return events.on_missed_run(store, target, expected_at, settings, now)


def on_target_failed(store: Store, target: str, reason: str, settings: Settings, now: datetime) -> int:
    """Queue the target-failed alert of a target the nightly job could not scan or update (paging)."""
    from secscan.delivery.notify import events

    return events.on_target_failed(store, target, reason, settings, now)


def on_target_ok(store: Store, target: str, settings: Settings, now: datetime) -> int:
    """Resolve the target-failed incident of a target the nightly job scanned again (paging)."""
    from secscan.delivery.notify import events

    return events.on_target_ok(store, target, settings, now)


def deliver_all(store: Store, settings: Settings, clock: Clock) -> Mapping[str, Any]:
    """Deliver both outboxes (uploads and alerts)."""
    from secscan.app import deliver

    return deliver.deliver_all(store, settings, clock)


def sync_dismissals(store: Store, settings: Settings, now: datetime) -> Any:
    """Two-way sync of GitHub code scanning dismissals, when ``[github]`` asks for it."""
    if settings.github is None or not settings.github.sync_on_nightly:
        return None
    from secscan.app.github_sync import sync_dismissals as sync

    return sync(store, settings, now)


def write_report(store: Store, settings: Settings, now: datetime) -> Path | None:
    """Write the dashboard to ``[report] path`` (if set) after a nightly run."""
    config = settings.report
    if config.path is None:
        return None
    from secscan.report.api import write_report as write

    since = timedelta(days=config.since_days)
    policy = load_sla_policy(settings.policy.sla)
    return write(store, config.path, config.format, now, since=since, policy=policy, config=config)
