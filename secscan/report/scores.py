"""The report's scores and counts per area and per target, and its triage summary, from the
store's cells. Pure: no I/O.

The score is :mod:`secscan.core.score` over a set of cells: the whole report (equal to ``secscan
stats``), one area (secrets, dependencies, code, infrastructure: :mod:`secscan.core.areas`) or one
target. A target is *stale* when its last complete scan finished longer ago than
``[report] expected_every_hours`` (24 h), or it never had one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from secscan.core import score as scoring
from secscan.core import sla
from secscan.core.areas import Area
from secscan.core.model import FindingState, Severity
from secscan.core.ports.report_model import Dashboard, ExpiringDecision, FindingCell
from secscan.core.ports.store import OPEN_STATES, TriageStatus

_ACCEPTED = TriageStatus.ACCEPTED_RISK.value
_FALSE_POSITIVE = TriageStatus.FALSE_POSITIVE.value


def loads(cells: Iterable[FindingCell]) -> dict[Severity, float]:
    """:func:`secscan.core.metrics.score_loads` over cells (weights are multiples of 0.5: exact sums)."""
    found = dict.fromkeys(Severity, 0.0)
    for c in cells:
        accepted = c.triage == _ACCEPTED
        if not (c.state in OPEN_STATES or (c.state is FindingState.TRIAGED and accepted)):
            continue
        breached = c.sla is sla.SlaStatus.BREACHED
        found[c.severity] += scoring.weight(breached=breached, accepted=accepted) * c.count
    return found


def _open(cells: Iterable[FindingCell]) -> dict[Severity, int]:
    found = dict.fromkeys(Severity, 0)
    for c in cells:
        if c.state in OPEN_STATES:
            found[c.severity] += c.count
    return found


def _breached(cells: Iterable[FindingCell]) -> int:
    return sum(c.count for c in cells if c.state in OPEN_STATES and c.sla is sla.SlaStatus.BREACHED)


@dataclass(frozen=True)
class AreaRow:
    """One area: its open findings by severity, open SLA breaches and score."""

    area: Area
    open: Mapping[Severity, int]
    breached: int
    score: float
    meets: bool


@dataclass(frozen=True)
class TargetRow:
    """One target: open findings, breaches, its last complete scan and score."""

    name: str
    open: Mapping[Severity, int]
    breached: int
    score: float
    meets: bool
    last_complete_at: datetime | None
    last_complete_age: timedelta | None
    stale: bool
    last_run_at: datetime | None


@dataclass(frozen=True)
class TriageSummary:
    """Triaged findings by decision and by who made it, and the accepted risks ending soon."""

    false_positive: int = 0
    accepted_risk: int = 0
    suppressed: int = 0  # of those, decided by the suppressions file
    expiring: tuple[ExpiringDecision, ...] = ()
    expiring_total: int = 0
    within: timedelta = timedelta(days=14)
    by_severity: Mapping[Severity, int] = field(default_factory=dict)

    @property
    def triaged(self) -> int:
        return self.false_positive + self.accepted_risk


def area_rows(cells: Iterable[FindingCell], baseline: float) -> tuple[AreaRow, ...]:
    """Every area, in :class:`Area` order, zeros included."""
    by_area: dict[Area, list[FindingCell]] = {a: [] for a in Area}
    for c in cells:
        by_area[c.area].append(c)
    rows = []
    for area, mine in by_area.items():
        value = scoring.score(loads(mine))
        rows.append(AreaRow(area, _open(mine), _breached(mine), value, scoring.meets(value, baseline)))
    return tuple(rows)


def target_rows(d: Dashboard, baseline: float, stale_after: timedelta) -> tuple[TargetRow, ...]:
    """Every target in scope (by name), with its last complete scan; worst score first."""
    by_target: dict[str, list[FindingCell]] = {t.name: [] for t in d.targets}
    for c in d.cells:
        by_target.setdefault(c.target, []).append(c)
    runs = {r.name: r for r in d.target_runs}
    rows = []
    for name, mine in by_target.items():
        value = scoring.score(loads(mine))
        r = runs.get(name)
        last = None if r is None else r.last_complete_at
        age = None if last is None else max(d.now - last, timedelta(0))
        rows.append(
            TargetRow(
                name,
                _open(mine),
                _breached(mine),
                value,
                scoring.meets(value, baseline),
                last,
                age,
                age is None or age > stale_after,
                None if r is None else r.last_run_at,
            )
        )
    return tuple(sorted(rows, key=lambda t: (t.score, t.name)))


def triage_summary(d: Dashboard, within: timedelta = timedelta(days=14)) -> TriageSummary:
    """Triaged findings (state ``triaged``) by decision, suppressed ones, and what expires soon."""
    fp = ar = sup = 0
    by_sev = dict.fromkeys(Severity, 0)
    for c in d.cells:
        if c.state is not FindingState.TRIAGED:
            continue
        fp += c.count if c.triage == _FALSE_POSITIVE else 0
        ar += c.count if c.triage == _ACCEPTED else 0
        sup += c.count if c.suppressed else 0
        by_sev[c.severity] += c.count
    return TriageSummary(fp, ar, sup, d.expiring, d.expiring_total, within, by_sev)
