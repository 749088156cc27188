"""Grouped incidents (alert storms) resolve when their own findings are closed (issue 13).

A storm incident used to stay open while any finding of its rule was open in the target, so
two findings of the same rule paged separately kept a fixed 200-finding storm open for ever.
Its members (the storm's findings, and later findings that joined it) are now kept with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from notify_helpers import ROUTING_KEY, SLA, T0, FakeServer, finding, record, send, serve, settings_for

from secscan.app.tracking import record_run, triage
from secscan.config.settings import Settings
from secscan.core.model import Finding
from secscan.core.ports.alerts import AlertIncident, IncidentStatus
from secscan.store import Store, TriageStatus

RULE = "B602"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)


@pytest.fixture
def pd() -> Iterator[FakeServer]:
    with serve(FakeServer("pagerduty", default=202)) as fake:
        yield fake


def _settings(pd: FakeServer, tmp_path: Path) -> Settings:
    return settings_for({"pager": {"type": "pagerduty", "events_url": f"{pd.url}/v2/enqueue"}}, tmp_path)


def _same_rule(numbers: range) -> list[Finding]:
    return [finding(n, rule=RULE) for n in numbers]


def _step(store: Store, settings: Settings, findings: list[Finding], at: datetime, run_id: str) -> None:
    record(store, settings, findings, at, run_id)
    send(store, settings, at)


def _actions(pd: FakeServer) -> list[tuple[str, bool]]:
    """(action, grouped) of each accepted request, in order."""
    return [(b["event_action"], "/group/" in b["dedup_key"]) for b in pd.accepted()]


def test_a_storm_resolves_when_its_findings_are_fixed_though_others_of_its_rule_stay_open(
    store: Store, pd: FakeServer, tmp_path: Path
) -> None:
    settings = _settings(pd, tmp_path)
    two = _same_rule(range(2))  # paged one by one (below the storm threshold)
    storm = _same_rule(range(100, 300))
    _step(store, settings, two, T0, "r1")
    _step(store, settings, [*two, *storm], T0 + timedelta(minutes=1), "r2")
    assert _actions(pd) == [("trigger", False), ("trigger", False), ("trigger", True)]
    group = pd.accepted()[2]
    assert group["payload"]["custom_details"]["count"] == 200

    _step(store, settings, two, T0 + timedelta(minutes=2), "r3")  # the 200 are fixed, the two are not
    assert _actions(pd)[3:] == [("resolve", True)]
    assert pd.accepted()[3]["dedup_key"] == group["dedup_key"]
    open_incidents = store.alert_incidents(target="shop", open_only=True)
    assert sorted(i.fingerprint or "" for i in open_incidents) == sorted(f.fingerprint for f in two)
    assert store.alert_incident_members("shop", group["dedup_key"], "pager") == ()  # forgotten


def test_findings_that_join_an_open_storm_keep_it_open_until_they_are_closed_too(
    store: Store, pd: FakeServer, tmp_path: Path
) -> None:
    settings = _settings(pd, tmp_path)
    storm, joiners = _same_rule(range(100, 120)), _same_rule(range(500, 503))
    _step(store, settings, storm, T0, "r1")
    (trigger,) = pd.accepted()
    key = trigger["dedup_key"]
    # the storm is fixed in the same run as three new findings of its rule appear: they join it
    _step(store, settings, joiners, T0 + timedelta(minutes=1), "r2")
    assert len(pd.requests) == 1
    assert store.alert_incident_members("shop", key, "pager") == tuple(
        sorted(f.fingerprint for f in (*storm, *joiners))
    )
    triage(store, joiners[0].fingerprint, TriageStatus.FALSE_POSITIVE, "test data", None, "t", T0 + timedelta(minutes=2))
    _step(store, settings, joiners[1:], T0 + timedelta(minutes=2), "r3")
    assert len(pd.requests) == 1  # two members still open
    _step(store, settings, [], T0 + timedelta(minutes=3), "r4")
    assert _actions(pd) == [("trigger", True), ("resolve", True)]


def test_a_storm_recorded_before_members_were_keeps_the_rule_wide_resolution(store: Store) -> None:
    """An incident of a database upgraded from schema 0005 has no members: it is resolved as it
    was then, when no finding of its rule is open in its target."""
    from notify_helpers import scan

    run = scan("r1", _same_rule(range(3)), T0)
    record_run(store, run, T0, SLA, ())
    old = AlertIncident("secscan/group/finding/shop/bandit/B602", "pager", "finding", "shop",
                        IncidentStatus.TRIGGERED, 1, T0, tool="bandit", rule=RULE, grouped=True)  # fmt: skip
    store.save_alert_incidents([old])
    assert store.alert_stale_incidents("shop") == ()
    record_run(store, scan("r2", [], T0 + timedelta(minutes=1)), T0 + timedelta(minutes=1), SLA, ())
    assert [i.dedup_key for i in store.alert_stale_incidents("shop")] == [old.dedup_key]
