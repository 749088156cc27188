"""Contract tests of the Store interface, run against every backend (see conftest ``store``).

Persistence only: findings are written as new with hand-built changesets (``write_new``), no
reconciliation runs. The write sessions are tested in ``test_store_sessions.py``; the lifecycle
use cases over every backend in ``tests/tracking/test_tracking.py``.
"""

from __future__ import annotations

import pytest

from secscan.core.errors import StoreError
from secscan.core.model import RunId, Severity
from secscan.store import FindingQuery, RunStatus, Store
from tests.store.builders import SECRETS, T0, H, fnd, make_run, write_new


def test_get_finding_errors_are_actionable(store: Store) -> None:
    write_new(store, make_run("r1", [fnd(1), fnd(2)]))
    with pytest.raises(StoreError, match="no finding with id"):
        store.get_finding("ffffffff")
    with pytest.raises(StoreError, match=r"matches more than one finding .*; give more digits$"):
        store.get_finding("0000")  # both fingerprints start with 0000
    with pytest.raises(StoreError, match="at least 4 hex digits"):
        store.get_finding("xyz")


def test_begin_and_interrupted_runs(store: Store) -> None:
    store.begin_run(RunId("r1"), "/srv/repo", "repo", T0)
    store.begin_run(RunId("r2"), "/srv/repo", "repo", T0 + H)
    write_new(store, make_run("r2", [fnd(1)], at=T0 + H))
    assert store.mark_interrupted(T0 + 2 * H) == ("r1",)
    statuses = {r.run_id: r.status for r in store.runs()}
    assert statuses == {"r1": RunStatus.INTERRUPTED, "r2": RunStatus.COMPLETE}
    assert store.mark_interrupted(T0 + 3 * H) == ()


def test_list_findings_filters_and_orders_worst_first(store: Store) -> None:
    findings = [
        fnd(1, sev=Severity.LOW),
        fnd(2, sev=Severity.CRITICAL),
        fnd(3, tool=SECRETS, sev=Severity.MEDIUM),
    ]
    write_new(store, make_run("r1", findings))
    assert [t.severity for t in store.list_findings()] == [Severity.CRITICAL, Severity.MEDIUM, Severity.LOW]
    at_least_medium = store.list_findings(FindingQuery(min_severity=Severity.MEDIUM))
    assert [t.severity for t in at_least_medium] == [Severity.CRITICAL, Severity.MEDIUM]
    assert [t.tool for t in store.list_findings(FindingQuery(tool=SECRETS))] == ["detect-secrets"]
    assert len(store.list_findings(FindingQuery(limit=1))) == 1
