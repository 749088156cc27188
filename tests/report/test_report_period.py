"""Compliance evidence of a calendar period: counts from the audit trail, missed scans, expiries."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from report_history import DAY, POLICY, T0, History, _finding, _run

from secscan.app.tracking import record_run
from secscan.core.errors import ConfigError
from secscan.core.model import Severity
from secscan.core.ports.store import OPEN_STATES
from secscan.report import api
from secscan.report.period import EVENTS, Period, build_period, parse_period
from secscan.store import HistoryEvent, Store, open_store

DB = tuple[Store, History]
WORST = sorted(Severity, key=lambda s: -s.rank)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-Q4", datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_period(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-Q5", "26-11", "2026-11-01", "last month", "", "1969", "9999", "9999-12"]
)
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="period"):
        parse_period(text)


def _window(h: History) -> Period:
    return Period("test", T0 + 2 * DAY, T0 + 9 * DAY)


def test_events_equal_the_audit_trail(history_db: DB) -> None:
    store, h = history_db
    period = _window(h)
    report = build_period(store, period, h.now)
    expected: Counter[tuple[HistoryEvent, Severity]] = Counter()
    open_at_end: Counter[Severity] = Counter()
    for t in store.list_findings():
        entries = store.history(t.fingerprint, t.target)
        for e in entries:
            if period.start <= e.at < period.end:
                expected[(e.event, t.severity)] += 1
        before = [e.to_state for e in entries if e.at < period.end]
        open_at_end[t.severity] += bool(before) and before[-1] in OPEN_STATES
    for event in EVENTS:
        assert report.events[event] == {s: expected[(event, s)] for s in Severity}
    assert report.total(HistoryEvent.OPENED) > 0 and report.total(HistoryEvent.FIXED) > 0
    assert report.total(HistoryEvent.SLA_BREACHED) > 0
    assert dict(report.evidence.open_at_end) == {s: open_at_end[s] for s in Severity}


def test_decisions_and_expiries(history_db: DB) -> None:
    store, h = history_db
    report = build_period(store, _window(h), h.now)
    e = report.evidence
    assert e.decisions and all(_window(h).start <= d.decided_at < _window(h).end for d in e.decisions)
    assert {d.actor for d in e.decisions} == {"alice"}  # the suppressions were decided on day 0
    assert all(
        d.reason == "decided on day 3: reviewed" or d.reason.startswith("decided on day") for d in e.decisions
    )
    kinds = {(x.actor, x.until is not None) for x in e.expired}
    assert ("suppressions-file", True) in kinds and ("alice", True) in kinds
    for x in e.expired:
        assert x.until is not None and x.expired_at is not None and x.until <= x.expired_at
    everything = build_period(store, Period("all", T0, T0 + 30 * DAY), h.now)
    assert len(everything.evidence.decisions) == 10
    assert any(d.until is None for d in everything.evidence.decisions)


def test_runs_and_missed_scans(tmp_path: Path) -> None:
    with open_store(tmp_path / "db.sqlite") as store:
        for day in range(10):
            for target in ("alpha", "beta"):
                if target == "beta" and day in (3, 4, 7):
                    continue  # three nightly runs missed
                at = T0 + day * DAY
                run = _run(target, f"/srv/{target}", day, [_finding(target, 1)], day != 5, at)
                record_run(store, run, at + timedelta(minutes=3), POLICY, ())
        now = T0 + 10 * DAY + timedelta(hours=1)
        report = build_period(store, Period("p", T0 - 5 * DAY, T0 + 30 * DAY), now)
    runs = {t.target: t for t in report.runs}
    assert runs["alpha"].by_status == {"complete": 9, "partial": 1} and runs["alpha"].with_failures == 1
    assert runs["beta"].by_status == {"complete": 6, "partial": 1} and runs["beta"].missed == 3
    assert runs["alpha"].missed == 0 and runs["alpha"].expected == runs["beta"].expected == 10


def test_period_report_formats(history_db: DB, tmp_path: Path) -> None:
    store, h = history_db
    period = parse_period("2026-11")
    md = api.write_report(store, tmp_path / "p.md", "md", h.now, period=period).read_text()
    report = build_period(store, period, h.now)
    assert md.startswith("# Compliance evidence: 2026-11")
    assert "| opened | " + " | ".join(str(report.events[HistoryEvent.OPENED][s]) for s in WORST) in md
    assert "suppressions\\-file" in md and "accepted until the vendor fix" in md
    doc = json.loads(api.write_report(store, tmp_path / "p.json", "json", h.now, period=period).read_text())
    assert doc["kind"] == "period" and doc["findings"]["fixed"]["total"] == report.total(HistoryEvent.FIXED)
    assert len(doc["triage_decisions"]) == len(report.evidence.decisions)
    page = api.write_report(store, tmp_path / "p.html", "html", h.now, period=period).read_text()
    assert "Compliance evidence: 2026-11" in page and "<script" not in page
