"""The report's figures equal the store's metrics (``secscan stats``) on a known history."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from report_history import POLICY, History, build_history, make_checkout

from secscan.app import lifecycle
from secscan.config.policy import load_sla_policy
from secscan.config.report import ReportConfig
from secscan.core import metrics, sla
from secscan.core.errors import StoreError
from secscan.core.model import Severity
from secscan.core.ports.store import OPEN_STATES
from secscan.report import api, figures
from secscan.store import FindingQuery, Store, open_store

DB = tuple[Store, History]


@pytest.mark.parametrize("target", [None, "alpha", "beta"])
def test_metrics_equal_secscan_stats(history_db: DB, target: str | None) -> None:
    store, h = history_db
    report = api.build_dashboard(store, h.now, policy=POLICY, targets=() if target is None else (target,))
    stats = lifecycle.stats(store, h.now, POLICY, target)
    assert report.metrics == stats.metrics
    assert (report.total, report.open) == (stats.total, stats.open)
    # the history really exercises every figure
    assert sum(v is not None for v in stats.metrics.mttr.values()) >= 3
    assert stats.metrics.sla_compliance is not None and 0 < stats.metrics.sla_compliance < 100
    assert any(v is not None and v.count > 1 for v in stats.metrics.mttd.values())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_metrics_equal_for_other_histories(tmp_path: Path, seed: int) -> None:
    with open_store(tmp_path / "db.sqlite") as store:
        h = build_history(
            store, {"alpha": str(make_checkout(tmp_path / "a")), "beta": "/x"}, seed=seed, days=7
        )
        for now in (h.now, h.now - timedelta(days=2, seconds=1), h.now + timedelta(days=40)):
            report = api.build_dashboard(store, now, policy=POLICY)
            assert report.metrics == metrics.compute(store.list_findings(), POLICY, now)


def test_stored_policy_is_used_without_one(history_db: DB) -> None:
    store, h = history_db
    assert api.build_dashboard(store, h.now).metrics == lifecycle.stats(store, h.now, POLICY).metrics
    other = sla.SlaPolicy(windows={s: timedelta(days=90) for s in Severity})
    assert (
        api.build_dashboard(store, h.now, policy=other).metrics
        == lifecycle.stats(store, h.now, other).metrics
    )


def test_summary_counts_match_the_findings(history_db: DB) -> None:
    store, h = history_db
    report = api.build_dashboard(store, h.now, policy=POLICY)
    open_rows = lifecycle.list_findings(store, FindingQuery(states=OPEN_STATES), h.now, POLICY)
    assert report.open_by_severity == {s: sum(r.finding.severity is s for r in open_rows) for s in Severity}
    statuses = Counter(r.sla.status for r in open_rows)
    assert report.breached == statuses[sla.SlaStatus.BREACHED] > 0
    assert report.due_soon == statuses[sla.SlaStatus.DUE_SOON]


def test_breached_and_due_soon_lists_follow_secscan_sla(history_db: DB) -> None:
    store, h = history_db
    rows = lifecycle.sla_report(store, h.now, POLICY, breached=True)
    report = api.build_dashboard(store, h.now, policy=POLICY, config=ReportConfig(max_rows=5))
    assert [r.finding.fingerprint for r in report.breached_rows] == [r.finding.fingerprint for r in rows[:5]]
    assert [r.finding.due_at for r in report.breached_rows] == [r.sla.due_at for r in rows[:5]]
    soon_at = h.now - timedelta(hours=12)  # earlier in the day some findings were only due soon
    expected = [
        r for r in lifecycle.sla_report(store, soon_at, POLICY) if r.sla.status is sla.SlaStatus.DUE_SOON
    ]
    got = api.build_dashboard(store, soon_at, policy=POLICY).due_soon_rows
    assert expected and [r.finding.fingerprint for r in got] == [r.finding.fingerprint for r in expected]


def test_trend_ends_at_the_current_figures(history_db: DB) -> None:
    store, h = history_db
    report = api.build_dashboard(store, h.now, policy=POLICY, since=timedelta(days=20))
    trend = report.dashboard.trend
    assert trend[-1].at == h.now and trend[1].at - trend[0].at == timedelta(days=1)
    assert trend[-1].open == report.open_by_severity
    assert 100.0 * trend[-1].sla_ok / trend[-1].sla_counted == report.metrics.sla_compliance
    assert sum(trend[0].open.values()) == 0  # before the first run


def test_trend_replays_the_open_count_of_an_earlier_day(history_db: DB, tmp_path: Path) -> None:
    """A point in the past equals the open count a report made at that instant shows."""
    store, h = history_db
    earlier = h.now - timedelta(days=4)
    past = api.build_dashboard(store, earlier, policy=POLICY)
    trend = api.build_dashboard(store, h.now, policy=POLICY, since=timedelta(days=8)).dashboard.trend
    point = next(p for p in trend if p.at == earlier)
    # findings whose history changed later still count as they were at that instant
    assert sum(point.open.values()) == _open_at(store, earlier)
    assert past.dashboard.trend[-1].open == point.open


def _open_at(store: Store, at: object) -> int:
    count = 0
    for t in store.list_findings():
        states = [e.to_state for e in store.history(t.fingerprint, t.target) if e.at <= at]  # type: ignore[operator]
        count += bool(states) and states[-1] in OPEN_STATES
    return count


def test_top_rules_and_targets_rank_open_findings(history_db: DB) -> None:
    store, h = history_db
    report = api.build_dashboard(store, h.now, policy=POLICY)
    open_rows = [
        r.finding for r in lifecycle.list_findings(store, FindingQuery(states=OPEN_STATES), h.now, POLICY)
    ]
    by_rule = Counter((t.tool, t.rule_id) for t in open_rows)
    top = report.dashboard.top_rules
    assert [g.total for g in top] == sorted((g.total for g in top), reverse=True)
    assert all(by_rule[(g.tool, g.name)] == g.total for g in top)
    assert {g.name: g.total for g in report.dashboard.top_targets} == Counter(t.target for t in open_rows)


def test_owners_and_links_come_from_the_checkout(history_db: DB) -> None:
    store, h = history_db
    rows = api.build_dashboard(store, h.now, policy=POLICY).breached_rows
    alpha = [r for r in rows if r.finding.target == "alpha"]
    beta = [r for r in rows if r.finding.target == "beta"]
    assert alpha and beta
    for r in alpha:
        f = r.finding
        assert r.link == f"https://github.com/acme/alpha-service/blob/HEAD/{f.path}#L{f.line}"
        expected = ("@acme/backend", "jane@example.com") if f.path.startswith("src/") else ("@acme/security",)
        assert r.owners == expected
        assert r.age == h.now - f.first_seen
    assert all(r.link is None and r.owners == () for r in beta)  # no checkout on this host
    configured = ReportConfig(repositories={"beta": "https://github.example.com/acme/beta"})
    linked = api.build_dashboard(store, h.now, policy=POLICY, config=configured).breached_rows
    assert all(
        r.link and r.link.startswith("https://github.example.com/acme/beta/blob/HEAD/")
        for r in linked
        if r.finding.target == "beta"
    )


def test_runs_and_uploads(history_db: DB) -> None:
    store, h = history_db
    d = api.build_dashboard(store, h.now, policy=POLICY).dashboard
    assert [r.run_id for r in d.runs if r.target == "alpha"] == [
        r.run_id for r in store.runs("alpha", limit=5)
    ]
    assert any(s.status == "failed" for r in store.runs("alpha", limit=50) for s in r.scanners)
    assert d.uploads.by_status == {} and d.uploads.last_delivered_at is None


def test_unknown_target_is_refused(history_db: DB) -> None:
    store, h = history_db
    with pytest.raises(StoreError, match="no target named 'gamma'"):
        api.build_dashboard(store, h.now, targets=("gamma",))


def test_empty_database(empty_store: Store) -> None:
    from datetime import UTC, datetime

    report = api.build_dashboard(empty_store, datetime(2026, 11, 26, tzinfo=UTC))
    assert report.empty and report.total == 0 and report.metrics.score == 100.0
    assert report.metrics == metrics.compute((), load_sla_policy(), report.generated_at)


def test_trend_steps_keep_points_bounded() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 26, tzinfo=UTC)
    for since, step in (
        (timedelta(hours=24), timedelta(hours=1)),
        (timedelta(days=30), timedelta(days=1)),
        (timedelta(days=365), timedelta(days=7)),
        (timedelta(days=3650), timedelta(days=365)),
    ):
        q = figures.trend_query(now, since)
        assert q.step == step and q.points <= figures.MAX_POINTS + 1
        assert (q.points - 1) * q.step >= min(since, figures.MAX_POINTS * step)


def test_run_health_shows_each_runs_uploads(tmp_path: Path) -> None:
    from secscan.core.ports.uploads import UploadReceipt, UploadStatus
    from secscan.report import document

    with open_store(tmp_path / "db.sqlite") as store:
        h = build_history(store, {"alpha": "/x/alpha"}, days=2)
        latest = store.runs("alpha", limit=1)[0]
        for category, status in (
            ("secscan/bandit", UploadStatus.COMPLETE),
            ("secscan/pip-audit", UploadStatus.DEAD),
        ):
            receipt = UploadReceipt(
                f"k-{category}",
                latest.run_id,
                "alpha",
                "acme/alpha",
                category,
                "a" * 40,
                "refs/heads/main",
                status,
            )
            store.save_upload(receipt, h.now)
        report = api.build_dashboard(store, h.now, policy=POLICY)
    assert report.run_uploads == {
        latest.run_id: (("secscan/bandit", "complete"), ("secscan/pip-audit", "dead"))
    }
    runs = document.dashboard_document(report)["runs"]
    assert [u["status"] for u in runs[0]["uploads"]] == ["complete", "dead"] and runs[1]["uploads"] == []
