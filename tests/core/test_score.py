"""The security score (secscan.core.score): bounded, monotone, the worst findings weigh most.

Property tests over per-severity loads (what findings add up to), plus the documented figures.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.core import score
from secscan.core.model import Severity

HALVES = st.integers(min_value=0, max_value=4000).map(lambda n: n / 2)  # loads are multiples of 0.5
LOADS = st.fixed_dictionaries({s: HALVES for s in Severity})
FINDING = st.tuples(
    st.sampled_from(list(Severity)), st.booleans(), st.booleans()
)  # severity, breached, accepted risk


def _loads(findings: list[tuple[Severity, bool, bool]]) -> dict[Severity, float]:
    loads = dict.fromkeys(Severity, 0.0)
    for sev, breached, accepted in findings:
        loads[sev] += score.weight(breached=breached, accepted=accepted)
    return loads


def test_the_documented_figures() -> None:
    assert score.score({}) == 100.0
    assert score.score({Severity.CRITICAL: 1}) == 70.7
    assert score.score({Severity.CRITICAL: score.BREACHED_WEIGHT}) == 50.0
    assert score.score({Severity.HIGH: 1}) == 91.7
    assert score.score({Severity.MEDIUM: 1}) == 97.4
    assert score.score({Severity.LOW: 100}) == 90.6
    assert score.score({Severity.LOW: 446}) == 90.0  # 446 lows no longer push the score to 0
    assert score.score({Severity.INFO: 10_000}) == 100.0
    assert score.BASELINE == 95.0


@given(LOADS)
def test_bounded(loads: dict[Severity, float]) -> None:
    assert 0.0 <= score.exact(loads) <= 100.0
    assert 0.0 <= score.score(loads) <= 100.0


@settings(max_examples=300)
@given(st.lists(FINDING, max_size=60), st.integers(min_value=0, max_value=59))
def test_fixing_a_finding_never_lowers_it(findings: list[tuple[Severity, bool, bool]], i: int) -> None:
    """Removing a finding (fixed, or a false positive) raises the score or leaves it equal."""
    if not findings:
        return
    fixed = findings[: i % len(findings)] + findings[i % len(findings) + 1 :]
    assert score.exact(_loads(fixed)) >= score.exact(_loads(findings))
    assert score.score(_loads(fixed)) >= score.score(_loads(findings))


@settings(max_examples=300)
@given(st.lists(FINDING, max_size=60), st.integers(min_value=0, max_value=59))
def test_triage_and_breaches(findings: list[tuple[Severity, bool, bool]], i: int) -> None:
    """Accepting a risk never lowers the score; a breach never raises it."""
    if not findings:
        return
    k = i % len(findings)
    sev, breached, _ = findings[k]
    accepted = [*findings[:k], (sev, breached, True), *findings[k + 1 :]]
    opened = [*findings[:k], (sev, breached, False), *findings[k + 1 :]]
    assert score.exact(_loads(accepted)) >= score.exact(_loads(opened))
    late = [*findings[:k], (sev, True, findings[k][2]), *findings[k + 1 :]]
    on_time = [*findings[:k], (sev, False, findings[k][2]), *findings[k + 1 :]]
    assert score.exact(_loads(late)) <= score.exact(_loads(on_time))
    if sev is not Severity.INFO:
        assert score.exact(_loads(late)) < score.exact(_loads(on_time))


@settings(max_examples=300)
@given(LOADS, st.booleans(), st.integers(min_value=100, max_value=100_000))
def test_one_critical_moves_it_more_than_any_number_of_lows(
    loads: dict[Severity, float], accepted: bool, lows: int
) -> None:
    """From any findings, one more critical (even an accepted risk) lowers the score more than a
    hundred, or any number of, more lows."""
    with_critical = dict(loads)
    with_critical[Severity.CRITICAL] += score.weight(breached=False, accepted=accepted)
    with_lows = dict(loads)
    with_lows[Severity.LOW] += lows
    base = score.exact(loads)
    if base == 0.0:  # underflow: nothing left to lose
        return
    assert base - score.exact(with_critical) > base - score.exact(with_lows)


@given(LOADS, LOADS)
def test_the_whole_is_never_better_than_a_part(a: dict[Severity, float], b: dict[Severity, float]) -> None:
    """The overall score (all areas' findings together) is at most each area's."""
    whole = {s: a[s] + b[s] for s in Severity}
    assert score.exact(whole) <= min(score.exact(a), score.exact(b))
    assert score.score(whole) <= min(score.score(a), score.score(b))


@given(LOADS)
def test_the_worst_severity_weighs_most_per_finding(loads: dict[Severity, float]) -> None:
    """At the same findings, one more finding of a worse severity costs more than one of a milder."""
    base = score.exact(loads)
    if base < 1e-9:
        return
    costs = []
    for sev in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO):
        more = dict(loads)
        more[sev] += 1
        costs.append(base - score.exact(more))
    assert costs[0] > costs[3] and costs[0] > costs[4] == 0.0
    assert all(math.isfinite(c) and c >= 0 for c in costs)


def test_the_definition_states_the_constants() -> None:
    text = " ".join(score.definition(90))
    assert "critical 100%, half 2" in text and "low 10%, half 25" in text and "baseline is 90" in text
    assert "0.71" in text and "0.50" in text
