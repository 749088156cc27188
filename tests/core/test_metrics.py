"""Metrics: MTTR, SLA compliance, open findings by age, and the security score formula."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from secscan.core import metrics, sla
from secscan.core.model import FindingState, Severity, ToolName
from secscan.core.ports.store import TrackedFinding, TriageDecision, TriageStatus

T0 = datetime(2025, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
POLICY = sla.SlaPolicy(
    windows={
        Severity.CRITICAL: 2 * H,
        Severity.HIGH: 24 * H,
        Severity.MEDIUM: 7 * D,
        Severity.LOW: 30 * D,
        Severity.INFO: None,
    }
)


def tracked(
    n: int,
    sev: Severity = Severity.HIGH,
    *,
    seen: datetime = T0,
    fixed: datetime | None = None,
    triage: TriageStatus | None = None,
) -> TrackedFinding:
    clock = sla.start(seen)
    state = FindingState.UNCHANGED
    if fixed is not None:
        clock, state = sla.pause(clock, fixed), FindingState.FIXED
    decision = None
    if triage is not None:
        clock, state = sla.pause(clock, seen), FindingState.TRIAGED
        decision = TriageDecision(triage, "r", "a", seen)
    return TrackedFinding(
        fingerprint=f"{n:064x}",
        target="t",
        tool=ToolName("bandit"),
        rule_id="B1",
        path="a.py",
        line=1,
        message="m",
        severity=sev,
        state=state,
        first_seen=seen,
        last_seen=seen,
        sla=clock,
        fixed_at=fixed,
        triage=decision,
    )


def test_mttr_per_severity() -> None:
    items = [tracked(1, fixed=T0 + 2 * H), tracked(2, fixed=T0 + 4 * H), tracked(3), tracked(4, Severity.LOW)]
    result = metrics.mttr(items)
    assert result[Severity.HIGH] == 3 * H
    assert result[Severity.LOW] is None and result[Severity.CRITICAL] is None


def test_sla_compliance_excludes_false_positives_and_windowless() -> None:
    now = T0 + 30 * H
    items = [
        tracked(1, fixed=T0 + H),  # met
        tracked(2),  # open, breached (24 h window)
        tracked(3, Severity.MEDIUM),  # within
        tracked(4, Severity.INFO),  # no window: not counted
        tracked(5, triage=TriageStatus.FALSE_POSITIVE),  # not counted
    ]
    assert metrics.sla_compliance(items, POLICY, now) == pytest.approx(200 / 3)
    assert metrics.sla_compliance([], POLICY, now) is None


def test_open_by_age_buckets_every_severity() -> None:
    now = T0 + 40 * D
    items = [
        tracked(1, seen=now - H),
        tracked(2, seen=now - D),  # exactly one day old: 1-7d
        tracked(3, Severity.LOW, seen=now - 35 * D),
        tracked(4, seen=T0 - 400 * D),
        tracked(5, fixed=now),
    ]
    counts = {(c.severity, c.bucket): c.count for c in metrics.open_by_age(items, now) if c.count}
    assert counts == {
        (Severity.HIGH, "<1d"): 1,
        (Severity.HIGH, "1-7d"): 1,
        (Severity.LOW, "30-90d"): 1,
        (Severity.HIGH, ">=90d"): 1,
    }
    assert len(metrics.open_by_age([], now)) == len(Severity) * len(metrics.AGE_BUCKETS)


def test_score_formula_over_tracked_findings() -> None:
    """metrics.security_score is secscan.core.score over the unresolved findings' loads."""
    now = T0 + H
    assert metrics.SCORE_BASELINE == 95.0
    assert metrics.security_score([], POLICY, now) == 100.0
    assert metrics.security_score([tracked(1, fixed=T0 + H)], POLICY, now) == 100.0  # fixed: no load
    one_critical = metrics.security_score([tracked(1, Severity.CRITICAL)], POLICY, now)
    assert one_critical == round(100 * 0.5 ** (1 / 2), 1) == 70.7
    breached = metrics.security_score([tracked(1, Severity.CRITICAL)], POLICY, T0 + 3 * H)
    assert breached == 50.0  # a breached finding weighs twice
    accepted = metrics.security_score(
        [tracked(1, Severity.CRITICAL, triage=TriageStatus.ACCEPTED_RISK)], POLICY, now
    )
    assert accepted == round(100 * 0.5 ** (0.5 / 2), 1)  # an accepted risk weighs half
    false_positive = tracked(1, Severity.CRITICAL, triage=TriageStatus.FALSE_POSITIVE)
    assert metrics.security_score([false_positive], POLICY, now) == 100.0
    lows = [tracked(i, Severity.LOW) for i in range(446)]
    assert metrics.security_score(lows, POLICY, now) == 90.0  # 446 lows: 90, not 0
    assert metrics.security_score([*lows, tracked(999, Severity.CRITICAL)], POLICY, now) < 70


def test_score_gets_worse_with_every_open_finding() -> None:
    now = T0 + H
    scores = [
        metrics.security_score([tracked(i, Severity.MEDIUM) for i in range(n)], POLICY, now) for n in range(6)
    ]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 6
    assert all(0.0 <= s <= 100.0 for s in scores)


def test_compute_bundles_everything() -> None:
    items = [tracked(1), replace(tracked(2), severity=Severity.LOW)]
    result = metrics.compute(items, POLICY, T0 + H)
    assert result.score == metrics.security_score(items, POLICY, T0 + H)
    assert result.sla_compliance == 100.0
    assert result.mttr[Severity.HIGH] is None


def test_detection_time_mean_median_and_negative_spans() -> None:
    pairs = [(T0 + 10 * D, T0), (T0 + 2 * D, T0), (T0 + 3 * D, T0), (T0, T0 + H)]  # last: skewed clock
    result = metrics.detection_time(pairs)
    assert result == metrics.DetectionTime(mean=15 * D / 4, median=2.5 * D, count=4)
    assert metrics.detection_time([]) is None


def test_mttd_per_severity_skips_findings_without_git_history() -> None:
    items = [
        replace(tracked(1, seen=T0 + 4 * D), introduced_at=T0),
        replace(tracked(2, seen=T0 + 2 * D), introduced_at=T0),
        replace(tracked(3, Severity.LOW, seen=T0 + H), introduced_at=T0),
        tracked(4, Severity.CRITICAL),  # no introduced_at: not a repository, or an advisory
    ]
    result = metrics.mttd(items)
    assert result[Severity.HIGH] == metrics.DetectionTime(mean=3 * D, median=3 * D, count=2)
    assert result[Severity.LOW] == metrics.DetectionTime(mean=H, median=H, count=1)
    assert result[Severity.CRITICAL] is None and result[Severity.INFO] is None
    assert metrics.compute(items, POLICY, T0 + 5 * D).mttd == result
