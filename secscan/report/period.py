"""Compliance evidence of a calendar period: ``secscan report --period 2026-11``. Pure but for
:func:`build_period`, which reads the store once.

A period is a month (``2026-11``), a quarter (``2026-Q4``) or a year (``2026``), in UTC, end
exclusive. *Missed* scans: the period is cut into slots of ``expected_every`` (24 h by default,
the nightly cadence) from its start; a slot after the target's first run ever and before ``now``
in which no run of the target started is one missed scan.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from secscan.core.errors import ConfigError
from secscan.core.model import Severity
from secscan.core.ports.report_model import Evidence
from secscan.core.ports.store import HistoryEvent, Store

_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|[Qq]([1-4])))?$")
EVENTS = (
    HistoryEvent.OPENED,
    HistoryEvent.FIXED,
    HistoryEvent.REOPENED,
    HistoryEvent.SLA_BREACHED,
    HistoryEvent.TRIAGED,
    HistoryEvent.TRIAGE_EXPIRED,
)


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime  # exclusive


@dataclass(frozen=True)
class TargetRuns:
    """One target's scans in the period."""

    target: str
    by_status: Mapping[str, int]
    with_failures: int  # runs in which a scanner failed or timed out
    expected: int
    missed: int


@dataclass(frozen=True)
class PeriodReport:
    period: Period
    generated_at: datetime
    evidence: Evidence
    runs: tuple[TargetRuns, ...]
    events: Mapping[HistoryEvent, Mapping[Severity, int]]  # every event of EVENTS, every severity

    def total(self, event: HistoryEvent) -> int:
        return sum(self.events[event].values())


def _month(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def parse_period(text: str) -> Period:
    """``2026-11``, ``2026-Q4`` or ``2026``. Raises ConfigError."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise ConfigError(f"period {text!r} is not a month, quarter or year like 2026-11, 2026-Q4 or 2026")
    year = int(match.group(1))
    if not 1970 <= year <= 9998:  # a period ends at the next one's start, which 9999 has not
        raise ConfigError(f"period {text!r}: the year must be 1970 to 9998")
    if match.group(2) is not None:
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ConfigError(f"period {text!r}: month {month} is not 01 to 12")
        return Period(f"{year}-{month:02d}", _month(year, month), _month(year, month + 1))
    if match.group(3) is not None:
        quarter = int(match.group(3))
        first = 3 * (quarter - 1) + 1
        return Period(f"{year}-Q{quarter}", _month(year, first), _month(year, first + 3))
    return Period(str(year), _month(year, 1), _month(year + 1, 1))


def target_runs(evidence: Evidence, now: datetime, expected_every: timedelta) -> tuple[TargetRuns, ...]:
    """Runs per status, runs with failed scanners, expected and missed scans, per target."""
    found: list[TargetRuns] = []
    horizon = min(evidence.end, now)
    for info in evidence.targets:
        mine = [r for r in evidence.runs if r.target == info.name]
        by_status: dict[str, int] = {}
        for r in mine:
            by_status[r.status] = by_status.get(r.status, 0) + 1
        first = evidence.first_run.get(info.name)
        expected = missed = 0
        if first is not None and first < horizon:
            slots = math.ceil((horizon - evidence.start) / expected_every)
            ran = {int((r.started_at - evidence.start) / expected_every) for r in mine}
            for k in range(slots):
                slot_end = evidence.start + (k + 1) * expected_every
                if slot_end <= first or slot_end > horizon:
                    continue  # before the target existed, or not over yet
                expected += 1
                missed += k not in ran
        with_failures = sum(1 for r in mine if r.failed_scanners)
        found.append(TargetRuns(info.name, by_status, with_failures, expected, missed))
    return tuple(found)


def summarise(evidence: Evidence, period: Period, now: datetime, expected_every: timedelta) -> PeriodReport:
    events = {e: {s: evidence.events.get((e.value, s), 0) for s in Severity} for e in EVENTS}
    return PeriodReport(period, now, evidence, target_runs(evidence, now, expected_every), events)


def build_period(
    store: Store,
    period: Period,
    now: datetime,
    *,
    targets: Sequence[str] = (),
    expected_every: timedelta = timedelta(hours=24),
    limit: int = 5000,
) -> PeriodReport:
    """Read the evidence of ``period`` and summarise it."""
    evidence = store.evidence(period.start, period.end, targets, limit)
    return summarise(evidence, period, now, expected_every)
