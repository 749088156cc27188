"""The security score: 0-100, where the worst findings weigh most. Pure: no I/O.

A set of findings (a target, an area, or everything in a report) scores::

    score = 100 * product over severities s of (1 - share(s) * (1 - 0.5 ** (load(s) / half(s))))

    load(s)  = Σ over the unresolved findings of severity s of weight(finding)
    weight   = 1 for an open finding, 2 when its SLA is breached, half of that for an accepted risk
               (false positives and fixed findings weigh nothing)

    severity   share  half
    critical   1.0    2     (each open critical multiplies the score by 0.71; a breached one by 0.5)
    high       0.4    3     (highs can take at most 40% of the score)
    medium     0.2    5
    low        0.1    25    (lows can take at most 10%, however many there are)
    info       0      -

``share`` is the most a severity can take and every ``half`` findings halve what is left of its
share. No findings: 100. One open critical: 70.7; breached: 50. One open high: 91.7. One medium:
97.4. A hundred lows: 90.6, and no number of lows goes below 90.

Properties (tested with hypothesis): the score is within 0-100; fixing, triaging or un-breaching
a finding never lowers it; one more critical (even an accepted one) lowers it more than any number
of lows added to the same findings, because a critical takes at least 15% of what is left and all
lows together less than 10%; and the score of a set is at most that of any part of it, so the
overall score is never better than the worst area's or target's. The policy's baseline is 95.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from secscan.core.model import Severity

BASELINE = 95.0
BREACHED_WEIGHT = 2.0
ACCEPTED_FACTOR = 0.5


@dataclass(frozen=True)
class Share:
    """How much of the score a severity can take (``share``) and how many findings halve the rest."""

    share: float
    half: float


SHARES: Mapping[Severity, Share] = {
    Severity.CRITICAL: Share(1.0, 2.0),
    Severity.HIGH: Share(0.4, 3.0),
    Severity.MEDIUM: Share(0.2, 5.0),
    Severity.LOW: Share(0.1, 25.0),
    Severity.INFO: Share(0.0, 1.0),
}


def weight(*, breached: bool, accepted: bool) -> float:
    """What one unresolved finding adds to its severity's load (exact multiples of 0.5)."""
    return (BREACHED_WEIGHT if breached else 1.0) * (ACCEPTED_FACTOR if accepted else 1.0)


def factor(severity: Severity, load: float) -> float:
    """The part of the score left by ``load`` of ``severity`` (1 for no load)."""
    s = SHARES[severity]
    return (1.0 - s.share) + s.share * math.pow(0.5, load / s.half)  # no cancellation near 0


def exact(loads: Mapping[Severity, float]) -> float:
    """The unrounded score of per-severity ``loads``."""
    value = 100.0
    for severity in Severity:  # a fixed order: the same loads always give the same float
        value *= factor(severity, loads.get(severity, 0.0))
    return value


def score(loads: Mapping[Severity, float]) -> float:
    """The score of per-severity ``loads``, rounded to one decimal (as reports show it)."""
    return round(exact(loads), 1)


def meets(value: float, baseline: float = BASELINE) -> bool:
    return value >= baseline


def definition(baseline: float = BASELINE) -> tuple[str, ...]:
    """The score's definition in plain sentences, as every report format shows it beside the number."""
    shares = "; ".join(
        f"{s.value} {SHARES[s].share * 100:g}%" + (f", half {SHARES[s].half:g}" if SHARES[s].share else "")
        for s in Severity
    )
    return (
        "score = 100 * the product over severities of (1 - share * (1 - 0.5 ^ (load / half))), "
        "from 0 to 100.",
        "A finding's load is 1 while it is open, 2 once its SLA is breached, and half that for an "
        "accepted risk; false positives and fixed findings weigh nothing.",
        f"Per severity, share (the most it can take) and half (the load that halves the rest): {shares}.",
        f"Each open critical multiplies the score by {factor(Severity.CRITICAL, 1.0):.2f} (a breached one by "
        f"{factor(Severity.CRITICAL, BREACHED_WEIGHT):.2f}) and all lows together never take more than "
        f"{SHARES[Severity.LOW].share * 100:g}% of it: one critical always weighs more than any number "
        "of lows.",
        "Areas and targets are scored the same way over their own findings; the overall score is never "
        f"above theirs. The policy's baseline is {baseline:g}.",
    )
