"""Security metrics over tracked findings. Pure: takes the findings, ``now`` and the SLA policy.

* **MTTR** per severity: the mean of ``fixed_at - first_seen`` over fixed findings.
* **SLA compliance**: over findings with a window that are not false positives, the percentage
  whose SLA status is ``within``, ``due-soon`` or ``met`` (i.e. not ``breached``).
* **Open by severity and age**: open findings (new, unchanged, reopened) counted per severity
  and per age bucket of ``now - first_seen``: <1d, 1-7d, 7-30d, 30-90d, >=90d.
* **MTTD** per severity: mean and median of ``first_seen - introduced_at``, the time from when
  the code arrived to its first detection. ``introduced_at`` is the committer time of the
  commit that last changed the finding's line as of ``HEAD`` when it was first detected
  (``git blame``, :mod:`secscan.fs.gitinfo`), stored once per finding through
  ``Store.set_introduced``; findings without git history (not a repository, untracked or
  generated files, dependency advisories) have none and are left out. A negative span (the
  commit is dated after the detection: clock skew, a rebase) counts as zero.
* **Security score** (0-100): :mod:`secscan.core.score` over the unresolved findings (open ones, and
  accepted risks at half weight; a breached SLA doubles a finding's weight). No findings: 100;
  the policy's baseline is 95.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from secscan.core import score as scoring
from secscan.core import sla
from secscan.core.model import FindingState, Severity
from secscan.core.ports.store import TrackedFinding, TriageStatus

SCORE_BASELINE = scoring.BASELINE
AGE_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("<1d", timedelta(days=1)),
    ("1-7d", timedelta(days=7)),
    ("7-30d", timedelta(days=30)),
    ("30-90d", timedelta(days=90)),
    (">=90d", timedelta.max),
)


@dataclass(frozen=True)
class OpenCount:
    severity: Severity
    bucket: str
    count: int


@dataclass(frozen=True)
class DetectionTime:
    """Time to detect over ``count`` findings."""

    mean: timedelta
    median: timedelta
    count: int


@dataclass(frozen=True)
class Metrics:
    """All metrics of one set of findings at ``now``."""

    mttr: Mapping[Severity, timedelta | None]
    sla_compliance: float | None  # percent; None when no finding has a window
    open_by_age: tuple[OpenCount, ...]  # every severity x bucket, zeros included
    score: float
    mttd: Mapping[Severity, DetectionTime | None] = field(default_factory=dict)


def _status(t: TrackedFinding, policy: sla.SlaPolicy, now: datetime) -> sla.SlaStatus:
    return sla.status(t.sla, t.severity, policy, now, fixed=t.state is FindingState.FIXED)


def _false_positive(t: TrackedFinding) -> bool:
    return t.triage is not None and t.triage.status is TriageStatus.FALSE_POSITIVE


def mttr(findings: Iterable[TrackedFinding]) -> dict[Severity, timedelta | None]:
    """Mean time to remediate per severity (``None`` where nothing was fixed)."""
    spans: dict[Severity, list[timedelta]] = {s: [] for s in Severity}
    for t in findings:
        if t.state is FindingState.FIXED and t.fixed_at is not None:
            spans[t.severity].append(t.fixed_at - t.first_seen)
    return {s: (sum(v, timedelta(0)) / len(v) if v else None) for s, v in spans.items()}


def detection_time(pairs: Iterable[tuple[datetime, datetime]]) -> DetectionTime | None:
    """Mean and median of ``first_seen - introduced_at`` over ``(first_seen, introduced_at)`` pairs.

    Negative spans count as zero; ``None`` for no pairs. Pure.
    """
    spans = sorted(max(first - introduced, timedelta(0)) for first, introduced in pairs)
    if not spans:
        return None
    seconds = [s.total_seconds() for s in spans]
    return DetectionTime(
        mean=timedelta(seconds=statistics.fmean(seconds)),
        median=timedelta(seconds=statistics.median(seconds)),
        count=len(spans),
    )


def mttd(findings: Iterable[TrackedFinding]) -> dict[Severity, DetectionTime | None]:
    """Time to detect per severity over findings with an ``introduced_at`` (see module doc)."""
    pairs: dict[Severity, list[tuple[datetime, datetime]]] = {s: [] for s in Severity}
    for t in findings:
        if t.introduced_at is not None:
            pairs[t.severity].append((t.first_seen, t.introduced_at))
    return {s: detection_time(p) for s, p in pairs.items()}


def sla_compliance(
    findings: Iterable[TrackedFinding], policy: sla.SlaPolicy, now: datetime, *, fixed_only: bool = False
) -> float | None:
    """Percent of findings (with a window, not false positives) whose SLA is not breached."""
    total = ok = 0
    for t in findings:
        if _false_positive(t) or (fixed_only and t.state is not FindingState.FIXED):
            continue
        status = _status(t, policy, now)
        if status is sla.SlaStatus.NONE:
            continue
        total += 1
        ok += status is not sla.SlaStatus.BREACHED
    return None if total == 0 else 100.0 * ok / total


def open_by_age(findings: Iterable[TrackedFinding], now: datetime) -> tuple[OpenCount, ...]:
    """Open findings per severity (worst first) and age bucket."""
    counts = {(s, name): 0 for s in Severity for name, _ in AGE_BUCKETS}
    for t in findings:
        if not t.is_open:
            continue
        age = now - t.first_seen
        bucket = next(name for name, limit in AGE_BUCKETS if age < limit)
        counts[(t.severity, bucket)] += 1
    return tuple(OpenCount(s, name, counts[(s, name)]) for s in Severity for name, _ in AGE_BUCKETS)


def score_loads(
    findings: Iterable[TrackedFinding], policy: sla.SlaPolicy, now: datetime
) -> dict[Severity, float]:
    """Per severity, the summed :func:`secscan.core.score.weight` of the unresolved findings."""
    loads = dict.fromkeys(Severity, 0.0)
    for t in findings:
        accepted = t.triage is not None and t.triage.status is TriageStatus.ACCEPTED_RISK
        if not (t.is_open or (t.state is FindingState.TRIAGED and accepted)):
            continue
        breached = _status(t, policy, now) is sla.SlaStatus.BREACHED
        loads[t.severity] += scoring.weight(breached=breached, accepted=accepted)
    return loads


def security_score(findings: Iterable[TrackedFinding], policy: sla.SlaPolicy, now: datetime) -> float:
    """The 0-100 score of :mod:`secscan.core.score` over ``findings``."""
    return scoring.score(score_loads(findings, policy, now))


def compute(findings: Iterable[TrackedFinding], policy: sla.SlaPolicy, now: datetime) -> Metrics:
    """Every metric at once."""
    items = list(findings)
    return Metrics(
        mttr=mttr(items),
        sla_compliance=sla_compliance(items, policy, now),
        open_by_age=open_by_age(items, now),
        score=security_score(items, policy, now),
        mttd=mttd(items),
    )
