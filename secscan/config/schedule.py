"""Schedules as APScheduler 3.x triggers, and the slot arithmetic the run ledger needs.

A nightly *slot* is one fire time of the nightly cron. The ledger keys runs by slot, so a slot
is run at most once (plus retries after a crash), whichever way it was triggered: on time, as
a catch-up after downtime, or by a second daemon start.

Cron expressions have the standard crontab meaning (day of week 0 or 7 is Sunday; APScheduler
3.x's own ``from_crontab`` counts 0 as Monday, so numbers are translated to names here). Six
fields mean a leading seconds field: ``*/5 * * * * *`` fires every five seconds.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

NIGHTLY = "nightly"
"""The nightly job's name: its slots in the run ledger, its next run in ``secscan status``."""

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DOW_NUMBER = re.compile(r"(?<![/\d])([0-7])(?!\d)")
_LOOKBACK_START = timedelta(seconds=1)
_LOOKBACK_MAX = timedelta(days=400)


def _day_of_week(field: str) -> str:
    """Standard crontab weekday numbers (0/7 Sunday) as APScheduler names; steps stay numbers."""
    return _DOW_NUMBER.sub(lambda m: _DOW_NAMES[int(m.group(1))], field)


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A trigger for a 5-field crontab expression, or 6 fields with leading seconds.

    Raises ValueError with a readable message for anything else.
    """
    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ValueError(f"cron expression {expr!r} needs 5 fields (minute hour day month weekday) or 6")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, dow = fields
    try:
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_day_of_week(dow),
            timezone=timezone,
        )
    except ValueError as exc:
        raise ValueError(f"cron expression {expr!r} is invalid: {exc}") from None


def next_fire(trigger: CronTrigger, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after``."""
    return trigger.get_next_fire_time(None, after + timedelta(microseconds=1))  # type: ignore[no-any-return]


def previous_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest fire time at or before ``now`` (``None`` if there is none within 400 days).

    APScheduler only looks forward, so this looks back by doubling windows and walks forward.
    """
    lookback = _LOOKBACK_START
    while lookback <= _LOOKBACK_MAX:
        found = trigger.get_next_fire_time(None, now - lookback)
        if found is not None and found <= now:
            while True:
                later = next_fire(trigger, found)
                if later is None or later > now:
                    return found  # type: ignore[no-any-return]
                found = later
        lookback *= 2
    return None
