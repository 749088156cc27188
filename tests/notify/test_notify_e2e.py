"""Acceptance cases of paging: one trigger per critical finding, nothing on a re-run, one resolve
per fix, SLA breaches paged once, outages survived across a restart, dead letters passed to the
fallback, storms grouped and rate limited, no secret in any payload, SSRF targets blocked.

Fake PagerDuty and Slack servers on 127.0.0.1 check every request against the published specs.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from notify_helpers import ROUTING_KEY, SLA, T0, FakeServer, finding, scan, serve, settings_for

from secscan.app.tracking import record_run, sla_sweep, triage
from secscan.config.settings import Settings
from secscan.core.model import Finding, Severity
from secscan.core.ports.outbox import OutboxStatus
from secscan.delivery.notify import events
from secscan.delivery.notify.outbox import deliver
from secscan.store import Store, TriageStatus, open_store
from tests.postgres import raw_rows


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)


@pytest.fixture
def db(store_url: str) -> str:
    """The paging lifecycle end to end runs over every store backend (incidents, members, outbox)."""
    return store_url


def pager_settings(
    pd: FakeServer,
    tmp_path: Path,
    *,
    slack: FakeServer | None = None,
    routing: str | None = None,
    **extra: Any,
) -> Settings:
    notify: dict[str, Any] = {"pager": {"type": "pagerduty", "events_url": f"{pd.url}/v2/enqueue", **extra}}
    if slack is not None:
        notify["chat"] = {"type": "slack", "webhook_url_file": "slack-url"}
        (tmp_path / "slack-url").write_text(f"{slack.url}/services/T000/B000/XXXXXXXX\n", encoding="utf-8")
    return settings_for(notify, tmp_path, routing=routing)


def record(store: Store, settings: Settings, findings: list[Finding], at: datetime, run_id: str) -> None:
    run = scan(run_id, findings, at)
    recorded = record_run(store, run, at, SLA, ())
    events.on_run(store, run, recorded, settings, at)


def send(store: Store, settings: Settings, at: datetime) -> None:
    deliver(store, settings, lambda: at, sleep=lambda s: None)


def pd_actions(pd: FakeServer) -> list[tuple[str, str]]:
    return [(b["event_action"], b["dedup_key"]) for b in pd.accepted()]


def test_a_new_critical_pages_once_a_rerun_sends_nothing_and_the_fix_resolves_once(
    store: Store, pagerduty: FakeServer, tmp_path: Path
) -> None:
    settings = pager_settings(pagerduty, tmp_path)
    critical, high = finding(1), finding(2, Severity.HIGH)
    record(store, settings, [critical, high], T0, "r1")
    send(store, settings, T0)
    assert pd_actions(pagerduty) == [("trigger", f"secscan/finding/shop/{critical.fingerprint}")]
    trigger = pagerduty.accepted()[0]
    assert trigger["payload"]["severity"] == "critical" and trigger["payload"]["source"] == "shop"
    assert critical.id in trigger["payload"]["summary"]

    record(store, settings, [critical, high], T0 + timedelta(minutes=5), "r2")
    send(store, settings, T0 + timedelta(minutes=5))
    assert len(pagerduty.requests) == 1

    record(store, settings, [high], T0 + timedelta(minutes=10), "r3")  # the critical is fixed
    send(store, settings, T0 + timedelta(minutes=10))
    record(store, settings, [high], T0 + timedelta(minutes=15), "r4")
    send(store, settings, T0 + timedelta(minutes=15))
    assert pd_actions(pagerduty)[1:] == [("resolve", f"secscan/finding/shop/{critical.fingerprint}")]
    assert pagerduty.errors == []


def test_a_reopened_finding_is_a_new_incident_and_triage_resolves_it_at_the_next_sweep(
    store: Store, pagerduty: FakeServer, tmp_path: Path
) -> None:
    settings = pager_settings(pagerduty, tmp_path)
    f = finding(1)
    for i, found in enumerate(([f], [], [f])):
        record(store, settings, found, T0 + timedelta(minutes=i), f"r{i}")
        send(store, settings, T0 + timedelta(minutes=i))
    assert [a for a, _ in pd_actions(pagerduty)] == ["trigger", "resolve", "trigger"]
    triage(store, f.id, TriageStatus.FALSE_POSITIVE, "test data", None, "me", T0 + timedelta(minutes=5))
    later = T0 + timedelta(minutes=6)
    events.on_sweep(store, sla_sweep(store, later, SLA), settings, later)
    send(store, settings, later)
    assert [a for a, _ in pd_actions(pagerduty)] == ["trigger", "resolve", "trigger", "resolve"]
    assert pagerduty.errors == []


def test_an_sla_breach_pages_once_however_often_the_sweep_runs(
    store: Store, pagerduty: FakeServer, tmp_path: Path
) -> None:
    settings = pager_settings(pagerduty, tmp_path)
    record(store, settings, [finding(1, Severity.HIGH)], T0, "r1")  # high: not paged when new
    for i in range(10):
        at = T0 + timedelta(hours=25, minutes=i)
        events.on_sweep(store, sla_sweep(store, at, SLA), settings, at)
        send(store, settings, at)
    bodies = pagerduty.accepted()
    assert [(b["event_action"], b["payload"]["class"]) for b in bodies] == [("trigger", "sla-breached")]
    assert bodies[0]["payload"]["severity"] == "error"
    assert pagerduty.errors == []


def sweep(store: Store, settings: Settings, at: datetime) -> None:
    events.on_sweep(store, sla_sweep(store, at, SLA), settings, at)
    send(store, settings, at)


@pytest.mark.parametrize("closed_by", ["fix", "triage"])
def test_a_finding_fixed_or_triaged_after_its_due_time_but_before_the_sweep_pages_nobody(
    store: Store, pagerduty: FakeServer, slack: FakeServer, tmp_path: Path, closed_by: str
) -> None:
    """A high is due at T0 + 24 h; the sweeps run every 15 minutes. It is closed 5 minutes after
    its due time, before the sweep of T0 + 24 h 15 min sees the breach: the breach is recorded
    (it was late), but paging on-call about a finding nobody has to act on, with an incident no
    fix can resolve any more, is wrong."""
    settings = pager_settings(pagerduty, tmp_path, slack=slack)
    high, low = finding(1, Severity.HIGH), finding(2, Severity.LOW)
    record(store, settings, [high, low], T0, "r1")
    sweep(store, settings, T0 + timedelta(hours=19))  # due soon (75% of 24 h = 18 h)
    closed = T0 + timedelta(hours=24, minutes=5)
    if closed_by == "fix":
        record(store, settings, [low], closed, "r2")
    else:
        triage(store, high.id, TriageStatus.ACCEPTED_RISK, "compensating control", None, "me", closed)
    sweep(store, settings, T0 + timedelta(hours=24, minutes=15))
    assert pd_actions(pagerduty) == []
    assert store.get_finding(high.id).sla.paused_at == closed
    assert [e.event.value for e in store.history(high.fingerprint)][-1] == "sla-breached"


def test_a_breached_finding_open_again_after_triage_pages_again(
    store: Store, pagerduty: FakeServer, tmp_path: Path
) -> None:
    """A high breaches at T0 + 24 h and pages; triage resolves the incident. When the decision is
    lifted (here by hand, then by an accepted risk that runs out) the finding is open and still
    breached: on-call is paged again (a new incident), by the next run or by the sweep that
    expires the decision; nothing pages twice while an incident is open."""
    settings = pager_settings(pagerduty, tmp_path)
    f = finding(1, Severity.HIGH)
    key = f"secscan/sla-breached/shop/{f.fingerprint}"
    record(store, settings, [f], T0, "r1")
    sweep(store, settings, T0 + timedelta(hours=25))
    triage(store, f.id, TriageStatus.FALSE_POSITIVE, "test data", None, "me", T0 + timedelta(hours=26))
    sweep(store, settings, T0 + timedelta(hours=26, minutes=15))
    assert pd_actions(pagerduty) == [("trigger", key), ("resolve", key)]
    triage(store, f.id, TriageStatus.OPEN, "it is not", None, "me", T0 + timedelta(hours=27))
    sweep(store, settings, T0 + timedelta(hours=27, minutes=15))  # nothing changed status
    record(store, settings, [f], T0 + timedelta(hours=28), "r2")
    send(store, settings, T0 + timedelta(hours=28))
    record(store, settings, [f], T0 + timedelta(hours=29), "r3")
    send(store, settings, T0 + timedelta(hours=29))
    assert pd_actions(pagerduty) == [("trigger", key), ("resolve", key), ("trigger", key)]

    accepted = T0 + timedelta(hours=30)
    until = datetime(accepted.year, accepted.month, accepted.day + 1, tzinfo=accepted.tzinfo)
    triage(store, f.id, TriageStatus.ACCEPTED_RISK, "for a day", until, "me", accepted)
    sweep(store, settings, accepted + timedelta(minutes=15))
    sweep(store, settings, until + timedelta(minutes=15))  # the decision ran out
    sweep(store, settings, until + timedelta(minutes=30))
    assert pd_actions(pagerduty)[3:] == [("resolve", key), ("trigger", key)]
    assert pagerduty.errors == []


def test_a_pager_outage_across_a_restart_gives_one_incident_delivered_later(db: Path, tmp_path: Path) -> None:
    with serve(FakeServer("pagerduty", script=[500, 503, 429, 500])) as pd:
        settings = pager_settings(pd, tmp_path)
        f = finding(1)
        with open_store(db) as first:
            record(first, settings, [f], T0, "r1")
            send(first, settings, T0)
            record(first, settings, [f], T0 + timedelta(minutes=1), "r2")  # a re-run during the outage
        at = T0
        for _ in range(10):  # a new process on the same database, later, several passes
            at += timedelta(minutes=10)  # within the critical's 2 h: no SLA breach to page
            with open_store(db) as second:
                record(second, settings, [f], at, f"later-{at:%H%M}")
                send(second, settings, at)
        assert [s for (_, h, _, _) in pd.requests for s in [h["x-status"]]] == [
            "500",
            "503",
            "429",
            "500",
            "202",
        ]
        assert {b["dedup_key"] for b in pd.bodies()} == {f"secscan/finding/shop/{f.fingerprint}"}
        assert pd_actions(pd) == [("trigger", f"secscan/finding/shop/{f.fingerprint}")]
        assert pd.errors == []


def test_a_400_is_a_dead_letter_with_its_error_and_the_fallback_fires(
    store: Store, tmp_path: Path, slack: FakeServer
) -> None:
    with serve(FakeServer("pagerduty", script=[400])) as pd:
        settings = pager_settings(pd, tmp_path, slack=slack, fallback="chat")
        record(store, settings, [finding(1)], T0, "r1")
        send(store, settings, T0)
    dead = store.outbox("alerts").items(OutboxStatus.DEAD)
    assert len(dead) == 1 and dead[0].kind == "pager" and "HTTP 400" in (dead[0].last_error or "")
    assert len(slack.accepted()) == 1
    notice = slack.accepted()[0]
    assert "could not deliver" in notice["text"] and "pager" in notice["text"]
    assert slack.errors == []


def test_a_5000_critical_storm_is_grouped_per_rule_and_rate_limited(
    store: Store, pagerduty: FakeServer, slack: FakeServer, tmp_path: Path
) -> None:
    routing = '[[route]]\nevent = "finding"\nseverity = ["critical"]\nto = ["page", "chat"]\n'
    settings = pager_settings(pagerduty, tmp_path, slack=slack, routing=routing)
    storm = [finding(n) for n in range(5000)]  # three rules: B600, B601, B602
    record(store, settings, storm, T0, "r1")
    deliver(store, settings, lambda: T0)  # real sleeps: Slack gets at most one message per second
    triggers = pagerduty.accepted()
    assert sorted(b["payload"]["custom_details"]["rule"] for b in triggers) == ["B600", "B601", "B602"]
    assert all(b["payload"]["custom_details"]["count"] in (1666, 1667) for b in triggers)
    times = [t for (_, _, _, t) in slack.requests]
    assert len(times) == 3 and all(b - a >= 0.95 for a, b in pairwise(times))

    more = [*storm, *(finding(n) for n in range(5000, 5010))]  # new findings of the same rules join
    record(store, settings, more, T0 + timedelta(minutes=1), "r2")
    deliver(store, settings, lambda: T0 + timedelta(minutes=1))
    assert len(pagerduty.requests) == 3 and len(slack.requests) == 3

    record(store, settings, [], T0 + timedelta(minutes=2), "r3")  # all fixed: one resolve per group
    deliver(store, settings, lambda: T0 + timedelta(minutes=2))
    assert [b["event_action"] for b in pagerduty.accepted()[3:]] == ["resolve"] * 3
    assert pagerduty.errors == [] and slack.errors == []


CANARY = "AKIAQWERTYUIOPASDFGH"  # an AWS access key id shape


def test_a_canary_secret_reaches_no_payload_row_or_request(
    store: Store, db: Path, pagerduty: FakeServer, slack: FakeServer, tmp_path: Path
) -> None:
    routing = '[[route]]\nevent = "finding"\nto = ["page", "chat"]\n'
    settings = pager_settings(pagerduty, tmp_path, slack=slack, routing=routing)
    leaky = [
        finding(1, message=f"Possible hardcoded password: '{CANARY}'"),
        finding(2, message="x").__class__(
            **{**finding(2).__dict__, "location": finding(2).location.__class__(f"keys/{CANARY}.txt", 3)}
        ),
    ]
    record(store, settings, leaky, T0, "r1")
    send(store, settings, T0)
    assert len(pagerduty.accepted()) == 2 and len(slack.accepted()) == 2
    for _, _, raw, _ in pagerduty.requests + slack.requests:
        assert CANARY.encode() not in raw
    database = store.database  # type: ignore[attr-defined]
    rows = raw_rows(database, "SELECT payload, coalesce(last_error, '') FROM outbox_alerts")
    rows += raw_rows(database, "SELECT dedup_key, coalesce(tool, '') FROM alert_incidents")
    assert rows and all(CANARY not in a + b for a, b in rows)
    assert all(ROUTING_KEY not in a for a, _ in rows)  # the routing key stays out of the queue


@pytest.mark.parametrize("host", ["169.254.169.254", "127.0.0.1", "localhost", "10.0.0.7"])
def test_ssrf_targets_are_blocked_at_connect_time(
    store: Store, pagerduty: FakeServer, tmp_path: Path, host: str
) -> None:
    port = f":{pagerduty.port}" if host in ("127.0.0.1", "localhost") else ""
    notify = {
        "allow_hosts": [],
        "pager": {"type": "pagerduty", "events_url": f"https://{host}{port}/v2/enqueue"},
    }
    settings = settings_for(notify, tmp_path)
    record(store, settings, [finding(1)], T0, "r1")
    send(store, settings, T0)
    dead = store.outbox("alerts").items(OutboxStatus.DEAD)
    assert len(dead) == 1 and "non-public address" in (dead[0].last_error or "")
    assert pagerduty.requests == []


def test_plain_http_outside_the_allow_list_is_refused_as_a_dead_letter(
    store: Store, pagerduty: FakeServer, tmp_path: Path
) -> None:
    """A config fault cannot heal by waiting (issue 13: it was retried every 5 minutes, forever)."""
    notify = {"allow_hosts": [], "pager": {"type": "pagerduty", "events_url": f"{pagerduty.url}/v2/enqueue"}}
    settings = settings_for(notify, tmp_path)
    record(store, settings, [finding(1)], T0, "r1")
    send(store, settings, T0)
    (item,) = store.outbox("alerts").items()
    assert item.status is OutboxStatus.DEAD and "allow_hosts" in (item.last_error or "")
    assert pagerduty.requests == []


def test_a_failed_scanner_pages_and_resolves_when_it_runs_ok_again(
    store: Store, pagerduty: FakeServer, tmp_path: Path
) -> None:
    settings = pager_settings(pagerduty, tmp_path)
    run = scan("r1", [], T0, failed=True)
    events.on_run(store, run, record_run(store, run, T0, SLA, ()), settings, T0)
    send(store, settings, T0)
    record(store, settings, [], T0 + timedelta(minutes=1), "r2")
    send(store, settings, T0 + timedelta(minutes=1))
    assert [(b["event_action"], b["dedup_key"]) for b in pagerduty.accepted()] == [
        ("trigger", "secscan/scanner-failed/shop/bandit"),
        ("resolve", "secscan/scanner-failed/shop/bandit"),
    ]
    assert pagerduty.errors == []


def test_a_missed_run_pages_once_and_the_next_run_resolves_it(
    store: Store, pagerduty: FakeServer, tmp_path: Path
) -> None:
    settings = pager_settings(pagerduty, tmp_path)
    record(store, settings, [], T0, "r0")
    for i in range(3):
        events.on_missed_run(store, "shop", T0 + timedelta(days=1), settings, T0 + timedelta(days=1, hours=i))
    send(store, settings, T0 + timedelta(days=1, hours=3))
    record(store, settings, [], T0 + timedelta(days=1, hours=4), "r1")
    send(store, settings, T0 + timedelta(days=1, hours=4))
    assert [b["event_action"] for b in pagerduty.accepted()] == ["trigger", "resolve"]
    assert json.loads(pagerduty.requests[0][2])["payload"]["class"] == "missed-run"


def test_an_incomplete_scanner_pages_like_a_failed_one(
    store: Store, pagerduty: FakeServer, tmp_path: Path
) -> None:
    from dataclasses import replace

    from secscan.core.model import ScannerStatus

    settings = pager_settings(pagerduty, tmp_path)
    run = scan("r1", [finding(1)], T0)
    run = replace(run, scanners=tuple(
        replace(s, status=ScannerStatus.INCOMPLETE, reason="only the first 10 of 30 results were read")
        for s in run.scanners
    ))  # fmt: skip
    events.on_run(store, run, record_run(store, run, T0, SLA, ()), settings, T0)
    send(store, settings, T0)
    keys = {b["dedup_key"] for b in pagerduty.accepted() if b["event_action"] == "trigger"}
    assert "secscan/scanner-failed/shop/bandit" in keys
