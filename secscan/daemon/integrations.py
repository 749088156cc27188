"""The daemon's calls into other features (paging, uploads, report, delivery), imported lazily.

Each feature is optional: a module or function that is not there (not installed, not written
yet) is logged once and skipped, so the scheduler never dies of a missing feature. Errors the
features raise go to the caller's job wrapper, which logs them (and thus reports them to Sentry).
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from secscan.pipeline import Clock
from secscan.settings import Settings
from secscan.store.interface import Store, SweepResult

log = logging.getLogger(__name__)


@functools.cache
def _function(module: str, name: str) -> Callable[..., Any] | None:
    """The feature function, looked up once per process (so a missing one is logged once)."""
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        log.warning("%s.%s is not available (%s); the daemon skips that step", module, name, exc)
        return None
    return found if callable(found) else None


def on_sweep(store: Store, result: SweepResult, settings: Settings, now: datetime) -> int:
    """Queue SLA alerts for a sweep (paging)."""
    fn = _function("secscan.notify.events", "on_sweep")
    return int(fn(store, result, settings, now)) if fn else 0


def on_missed_run(store: Store, target: str, expected_at: datetime, settings: Settings, now: datetime) -> int:
    """Queue the dead man's switch alert for a target whose nightly run is overdue (paging)."""
    fn = _function("secscan.notify.events", "on_missed_run")
    return int(fn(store, target, expected_at, settings, now)) if fn else 0


def deliver_all(store: Store, settings: Settings, clock: Clock) -> Mapping[str, Any]:
    """Deliver both outboxes (uploads and alerts)."""
    fn = _function("secscan.delivery", "deliver_all")
    return dict(fn(store, settings, clock)) if fn else {}


def sync_dismissals(store: Store, settings: Settings, now: datetime) -> Any:
    """Two-way sync of GitHub code scanning dismissals, when ``[github]`` asks for it."""
    if settings.github is None or not settings.github.sync_on_nightly:
        return None
    fn = _function("secscan.github.sync", "sync_dismissals")
    return fn(store, settings, now) if fn else None


def write_report(store: Store, settings: Settings, now: datetime) -> Path | None:
    """Write the dashboard to ``[report] path`` (if set) after a nightly run."""
    path = settings.report.path
    if path is None:
        return None
    fn = _function("secscan.report.api", "write_report")
    if fn is None:
        return None
    since = timedelta(days=settings.report.since_days)
    written = fn(store, path, settings.report.format, now, since=since)
    return Path(written)
