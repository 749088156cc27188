"""findings, show, sla, stats and triage: the application functions over a real store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from lifecycle_helpers import SLA, Seeded, dump, seed

from secscan.app import lifecycle, lifecycle_json
from secscan.core.errors import ConfigError, StoreError
from secscan.core.model import FindingState, Severity, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.core.ports.store import OPEN_STATES
from secscan.core.sla import SlaStatus
from secscan.store import FindingQuery, HistoryEvent, Store, TriageStatus

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=30)


@pytest.fixture
def ids(tmp_path: Path, store: Store, policy: SeverityPolicy) -> Seeded:
    return seed(store, policy, T0, tmp_path)


def _list(store: Store, **kw: object) -> list[str]:
    query = FindingQuery(**{"states": OPEN_STATES, **kw})  # type: ignore[arg-type]
    return [r.finding.id for r in lifecycle.list_findings(store, query, NOW, SLA)]


def test_findings_are_filtered_and_worst_first(store: Store, ids: Seeded) -> None:
    assert set(_list(store)) == {ids.a, ids.c, ids.d, ids.e, ids.f}
    assert set(_list(store, min_severity=Severity.HIGH)) == {ids.a, ids.e, ids.f}
    assert _list(store, tool=ToolName("gitleaks")) == [ids.e]
    assert _list(store, target="web") == [ids.f]
    assert _list(store, states=frozenset({FindingState.FIXED})) == [ids.b]
    assert len(_list(store, limit=2)) == 2
    ranks = [r.finding.severity.rank for r in lifecycle.list_findings(store, FindingQuery(), NOW, SLA)]
    assert ranks == sorted(ranks, reverse=True)


def test_findings_rows_carry_the_sla_at_now(store: Store, ids: Seeded) -> None:
    rows = {r.finding.id: r.sla for r in lifecycle.list_findings(store, FindingQuery(), NOW, SLA)}
    assert rows[ids.a].status is SlaStatus.BREACHED and rows[ids.a].due_at == T0 + timedelta(hours=24)
    assert rows[ids.a].remaining(NOW) == -timedelta(hours=6)
    assert rows[ids.b].status is SlaStatus.MET and rows[ids.b].paused
    assert rows[ids.c].status is SlaStatus.WITHIN
    assert rows[ids.d].status is SlaStatus.NONE and rows[ids.d].due_at is None


def test_show_gives_location_sla_and_history(store: Store, ids: Seeded) -> None:
    detail = lifecycle.show_finding(store, ids.b[:8], NOW, SLA)
    assert (detail.finding.path, detail.finding.line, detail.finding.target) == ("b.py", 2, "app")
    assert [e.event for e in detail.history] == [HistoryEvent.OPENED, HistoryEvent.FIXED]
    assert detail.history[1].at == NOW and detail.sla.status is SlaStatus.MET
    document = lifecycle_json.detail_document(detail)
    assert document["finding"]["state"] == "fixed" and len(document["history"]) == 2


def test_show_unknown_or_short_id_is_a_store_error(store: Store, ids: Seeded) -> None:
    with pytest.raises(StoreError, match="no finding"):
        lifecycle.show_finding(store, "ffffffff", NOW, SLA)
    with pytest.raises(StoreError, match="at least 4 hex digits"):
        lifecycle.show_finding(store, "ab", NOW, SLA)


def test_sla_lists_open_findings_with_a_due_time_soonest_first(store: Store, ids: Seeded) -> None:
    rows = lifecycle.sla_report(store, NOW, SLA)
    assert [r.finding.id for r in rows][-1] == ids.c
    assert {r.finding.id for r in rows} == {ids.a, ids.c, ids.e, ids.f}  # d has no window, b is fixed
    due = [r.sla.due_at for r in rows]
    assert due == sorted(due)  # type: ignore[type-var]


def test_sla_breached_and_due_within(store: Store, ids: Seeded) -> None:
    breached = lifecycle.sla_report(store, NOW, SLA, breached=True)
    assert {r.finding.id for r in breached} == {ids.a, ids.e, ids.f}
    assert lifecycle.sla_report(store, NOW, SLA, due_within=timedelta(days=1)) == ()
    soon = lifecycle.sla_report(store, NOW, SLA, due_within=timedelta(days=30))
    assert [r.finding.id for r in soon] == [ids.c]
    both = lifecycle.sla_report(store, NOW, SLA, breached=True, due_within=timedelta(days=30), target="app")
    assert {r.finding.id for r in both} == {ids.a, ids.c, ids.e}


def test_stats_of_one_target_and_of_all(store: Store, ids: Seeded) -> None:
    app = lifecycle.stats(store, NOW, SLA, "app")
    assert (app.total, app.open) == (5, 4)
    assert app.metrics.mttr[Severity.MEDIUM] == timedelta(hours=30)
    assert app.metrics.score < app.baseline == 95.0
    everything = lifecycle.stats(store, NOW, SLA)
    assert (everything.total, everything.open) == (6, 5)
    document = lifecycle_json.stats_document(app)
    assert document["mttr_s"]["medium"] == 30 * 3600 and document["score_meets_baseline"] is False
    assert sum(c["count"] for c in document["open_by_age"]) == 4
    assert set(document["mttd_s"]) == {s.value for s in Severity}


def test_triage_accepted_risk_until_a_day(store: Store, ids: Seeded) -> None:
    until = (NOW + timedelta(days=3)).date()
    after = lifecycle.triage_finding(
        store, ids.a, TriageStatus.ACCEPTED_RISK, "  fix  planned\nnext sprint ", until, "alice", NOW
    )
    assert after.state is FindingState.TRIAGED and after.triage is not None
    assert after.triage.reason == "fix planned next sprint" and after.triage.actor == "alice"
    assert after.triage.until == datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
    history = store.history(ids.a)
    assert history[-1].event is HistoryEvent.TRIAGED and history[-1].actor == "alice"
    lifted = lifecycle.triage_finding(
        store, ids.a, TriageStatus.OPEN, "risk no longer accepted", None, "bob", NOW
    )
    assert lifted.triage is None and lifted.state is FindingState.UNCHANGED


def test_triage_until_today_holds_through_today(store: Store, ids: Seeded) -> None:
    after = lifecycle.triage_finding(store, ids.c, TriageStatus.ACCEPTED_RISK, "ok", NOW.date(), "a", NOW)
    assert after.triage is not None and after.triage.until is not None and after.triage.until > NOW


@pytest.mark.parametrize(
    ("status", "reason", "until", "expected"),
    [
        (TriageStatus.ACCEPTED_RISK, "why", date(2025, 3, 1), "in the past"),
        (TriageStatus.FALSE_POSITIVE, "why", date(2026, 1, 1), "only applies to --as accepted-risk"),
        (TriageStatus.OPEN, "why", date(2026, 1, 1), "only applies to --as accepted-risk"),
        (TriageStatus.FALSE_POSITIVE, " \n\t", None, "--reason is required"),
        (TriageStatus.FALSE_POSITIVE, "x" * 1001, None, "longer than 1000"),
    ],
)
def test_bad_triage_is_refused_and_writes_nothing(
    store: Store,
    ids: Seeded,
    db_path: Path,
    status: TriageStatus,
    reason: str,
    until: date | None,
    expected: str,
) -> None:
    before = dump(db_path)
    with pytest.raises(ConfigError, match=expected) as info:
        lifecycle.triage_finding(store, ids.a, status, reason, until, "alice", NOW)
    assert "\n" not in str(info.value)
    assert dump(db_path) == before


def test_findings_document_has_the_contract_fields(store: Store, ids: Seeded) -> None:
    rows = lifecycle.list_findings(store, FindingQuery(target="app", states=OPEN_STATES), NOW, SLA)
    [a] = [lifecycle_json.finding_json(r) for r in rows if r.finding.id == ids.a]
    assert a["severity"] == "high" and a["state"] == "unchanged" and a["tool"] == "semgrep"
    assert a["sla"] == {
        "status": "breached",
        "due_at": (T0 + timedelta(hours=24)).isoformat(),
        "paused": False,
    }
    assert a["first_seen"] == T0.isoformat() and a["triage"] is None


def test_stats_json_and_table_carry_detection_times(store: Store, ids: Seeded) -> None:
    from io import StringIO

    from rich.console import Console

    from secscan.cli import lifecycle_console

    finding = store.list_findings()[0]
    store.set_introduced(finding.target, {finding.fingerprint: finding.first_seen - timedelta(minutes=20)})
    stats = lifecycle.stats(store, NOW, SLA)
    document = lifecycle_json.stats_document(stats)
    assert document["mttd_s"][finding.severity.value] == {"mean": 1200.0, "median": 1200.0, "count": 1}
    out = StringIO()
    lifecycle_console.stats_tables(stats, Console(file=out, width=160))
    assert "MTTD mean" in out.getvalue() and "20m" in out.getvalue()
