"""The re-scan fast path of reconciliation (``seen_again``) changes nothing but the speed.

Every scenario is recorded twice through ``tracking.record_run``, with the fast path and with
reconciliation alone (the fast path switched off), and the outcomes and whole SQLite databases
must be equal. The same property over changesets, without a database, is in
``tests/core/test_reconcile.py``.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secscan.app.tracking import record_run, triage
from secscan.core import seen_again
from secscan.core.model import Finding, ScannerStatus, Severity
from secscan.core.seen_again import SeenAgain
from secscan.store import RunOutcome, Suppression, TriageStatus, open_store
from tests.store.builders import POLICY, SECRETS, T0, H, fnd, make_run


def _reconcile_all(
    stored: Sequence[Any], texts: Any, run: Any, now: datetime, suppressions: Any
) -> SeenAgain:
    return SeenAgain((), {}, (), list(stored), run)


@contextmanager
def _fast_path(on: bool) -> Iterator[None]:
    if on:
        yield
    else:
        with mock.patch.object(seen_again, "split", _reconcile_all):
            yield


@dataclass(frozen=True)
class Step:
    findings: tuple[Finding, ...]
    secrets_ok: bool = True
    suppressions: tuple[Suppression, ...] | None = ()
    triage: int | None = None  # triage this finding (by number) before the run, if tracked


def _outcome_view(o: RunOutcome) -> tuple[Any, ...]:
    return (o.run, o.new, o.unchanged, o.reopened, o.fixed, list(o.baseline.items()), o.absent)


def _record(steps: Sequence[Step], db: Path, fast: bool) -> tuple[list[tuple[Any, ...]], list[str]]:
    outcomes = []
    with _fast_path(fast), open_store(db) as store:
        for i, step in enumerate(steps):
            now = T0 + i * H
            if step.triage is not None:
                known = {t.fingerprint for t in store.list_findings()}
                if fnd(step.triage).fingerprint in known:
                    triage(store, fnd(step.triage).id, TriageStatus.ACCEPTED_RISK, "ok", None, "me", now)
            status = ScannerStatus.OK if step.secrets_ok else ScannerStatus.TIMEOUT
            run = make_run(f"r{i}", list(step.findings), secrets_status=status, at=now)
            outcomes.append(_outcome_view(record_run(store, run, now, POLICY, step.suppressions)))
    with sqlite3.connect(db) as conn:
        dump = list(conn.iterdump())
    return outcomes, dump


def _assert_same(steps: Sequence[Step], tmp: Path) -> list[tuple[Any, ...]]:
    fast, fast_dump = _record(steps, tmp / "fast.db", fast=True)
    slow, slow_dump = _record(steps, tmp / "slow.db", fast=False)
    assert fast == slow
    assert fast_dump == slow_dump
    return fast


def _variant(n: int, line: int = 1, message: str | None = None, sev: Severity = Severity.HIGH) -> Finding:
    f = fnd(n, line=line, tool=SECRETS if n % 4 == 3 else fnd(n).tool, sev=sev)
    return f if message is None else replace(f, message=message)


def test_a_re_scan_with_nothing_new_takes_the_fast_path_and_records_the_same(tmp_path: Path) -> None:
    findings = tuple(_variant(n) for n in range(12))
    steps = [Step(findings), Step(findings), Step(tuple(reversed(findings)))]
    outcomes = _assert_same(steps, tmp_path)
    assert len(outcomes[1][2]) == 12  # all unchanged
    calls: list[int] = []
    real = seen_again.split

    def counting(*args: Any) -> SeenAgain:
        result = real(*args)
        calls.append(len(result.tracked))
        return result

    with mock.patch.object(seen_again, "split", counting):
        _record(steps, tmp_path / "count.db", fast=True)
    assert calls == [0, 12, 12]


def test_changes_that_need_reconciliation_leave_the_fast_path(tmp_path: Path) -> None:
    base = tuple(_variant(n) for n in range(8))
    moved = (_variant(0, line=9), _variant(1, message="reworded"), _variant(2, sev=Severity.LOW), *base[3:])
    duplicated = (*base, _variant(4, line=3))  # the same fingerprint twice
    suppress = (Suppression(reason="tests", rule="R1"),)
    steps = [
        Step(base),
        Step(moved),
        Step(base[:5], secrets_ok=False),  # partial: closes only bandit's
        Step(base),  # reopens
        Step(duplicated, triage=5),
        Step(base, suppressions=suppress),
        Step(base, suppressions=()),  # lifts the suppressions
        Step(base, suppressions=None),
    ]
    _assert_same(steps, tmp_path)


_finding = st.builds(
    _variant,
    st.integers(0, 6),
    line=st.sampled_from([1, 4]),
    message=st.sampled_from([None, "other words"]),
    sev=st.sampled_from([Severity.HIGH, Severity.LOW]),
)
_step = st.builds(
    Step,
    st.lists(_finding, max_size=8).map(tuple),
    secrets_ok=st.booleans(),
    suppressions=st.sampled_from([(), None, (Suppression(reason="r", rule="R2"),)]),
    triage=st.none() | st.integers(0, 6),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_step, min_size=1, max_size=5))
def test_any_sequence_of_runs_records_the_same_with_and_without_the_fast_path(steps: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _assert_same(steps, Path(tmp))
