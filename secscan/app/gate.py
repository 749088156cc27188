"""``--fail-on-new``: which findings gate a run when only new ones count (issue 19).

A pull request's run is compared with the last complete run of its target branch's target, as
semgrep's ``--baseline-commit`` compares with a commit: what that run saw (its findings' baseline
signatures, the ones SARIF ``baselineState`` uses) is known, anything else is new.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from secscan.core.errors import TargetError
from secscan.core.model import Finding, FindingState, ScanRun, Severity
from secscan.core.ports.store import OPEN_STATES, FindingQuery, Store


def gating(run: ScanRun, threshold: Severity | None, new: Collection[str] | None = None) -> list[Finding]:
    """The untriaged findings at or above ``threshold`` (and among ``new``, when given), worst first."""
    if threshold is None:
        return []
    found = [
        f for f in run.findings
        if f.severity.at_least(threshold) and f.state is not FindingState.TRIAGED
        and (new is None or f.fingerprint in new)
    ]  # fmt: skip
    return sorted(found, key=lambda f: (-f.severity.rank, f.location.path, f.location.start_line))


@dataclass(frozen=True)
class NewFindingsGate:
    """What ``--fail-on-new`` counted: the new findings at or above the threshold, and the baseline."""

    baseline: str
    threshold: Severity | None
    failing: tuple[Finding, ...]

    def line(self) -> str:
        """One line for stderr: how many, which (the first five), compared with what."""
        if self.threshold is None:
            return f"--fail-on-new: nothing fails the run (fail_on = none); compared with {self.baseline!r}"
        count = len(self.failing)
        what = f"{count} new finding{'' if count == 1 else 's'} at or above {self.threshold.value}"
        named = ", ".join(f"{f.rule_id} {f.location.path}:{f.location.start_line}" for f in self.failing[:5])
        more = f" and {count - 5} more" if count > 5 else ""
        since = f"since the last complete run of {self.baseline!r}"
        return f"{what} {since}" + (f": {named}{more}" if named else "")


def new_since_baseline(store: Store, baseline: str) -> frozenset[str]:
    """The fingerprints the last complete run of target ``baseline`` saw (open or triaged)."""
    if store.previous_complete_run(baseline) is None:
        raise TargetError(
            f"no complete run of target {baseline!r} in the database to compare with; "
            "scan the target branch first (secscan run --target NAME) or check --baseline-target"
        )
    query = FindingQuery(target=baseline, states=OPEN_STATES | {FindingState.TRIAGED})
    return frozenset(t.fingerprint for t in store.list_findings(query) if t.baseline_sig is not None)
