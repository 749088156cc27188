"""End to end through ``secscan.app.run.run`` with the real bandit on a one-file tree: a new critical
finding gives one PagerDuty trigger, the same scan again sends nothing, the fix one resolve."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from notify_helpers import ROUTING_KEY, FakeServer, serve, settings_for

from secscan.app.run import RunRequest, run
from secscan.config.settings import load_settings
from secscan.core.ports.outbox import OutboxStatus

VULNERABLE = "import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"
FIXED = "import shlex\nimport subprocess\n\n\ndef run(cmd):\n    return subprocess.call(shlex.split(cmd))\n"


def _config(tmp_path: Path, pd: FakeServer) -> Path:
    """A trusted config: only bandit, B602 (shell=True with a variable) critical, one pager."""
    (tmp_path / "severity.toml").write_text('[bandit.rules]\nB602 = "critical"\n', encoding="utf-8")
    config = tmp_path / "secscan.toml"
    config.write_text(
        "[scanners.detect-secrets]\nenabled = false\n[scanners.pip-audit]\nenabled = false\n"
        '[policy]\nseverity = "severity.toml"\n'
        '[notify]\nallow_hosts = ["127.0.0.1"]\n'
        f'[notify.pager]\ntype = "pagerduty"\nevents_url = "{pd.url}/v2/enqueue"\n',
        encoding="utf-8",
    )
    return config


def test_secscan_run_pages_a_new_critical_once_and_resolves_it_after_the_fix(
    pagerduty: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    tree = tmp_path / "shop"
    tree.mkdir()
    source = tree / "app.py"
    source.write_text(VULNERABLE, encoding="utf-8")
    settings = load_settings(_config(tmp_path, pagerduty))
    request = RunRequest(
        target=tree, settings=settings, sarif_path=tmp_path / "out.sarif", db=str(tmp_path / "secscan.db")
    )

    first = run(request)
    critical = [f for f in first.run.findings if f.severity.value == "critical"]
    assert [f.rule_id for f in critical] == ["B602"]
    key = f"secscan/finding/shop/{critical[0].fingerprint}"
    assert [(b["event_action"], b["dedup_key"]) for b in pagerduty.accepted()] == [("trigger", key)]

    run(request)  # the same scan again
    assert len(pagerduty.requests) == 1

    source.write_text(FIXED, encoding="utf-8")
    fixed = run(request)
    assert "B602" not in {f.rule_id for f in fixed.run.findings}
    assert [(b["event_action"], b["dedup_key"]) for b in pagerduty.accepted()] == [
        ("trigger", key),
        ("resolve", key),
    ]
    assert pagerduty.errors == []
    assert "B602" in pagerduty.accepted()[0]["payload"]["summary"]


# -- the run's pages go out before it ends (issue 13) ----------------------------------------------


@dataclass
class FakeTime:
    """``clock`` and ``sleep`` of a delivery wait: the real clock plus the time slept, which
    passes at once (so the fake is never behind what the store was told by the real clock)."""

    slept: list[float] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=sum(self.slept))

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def _one_shot(tmp_path: Path, pd: FakeServer, time: FakeTime, wait_s: float = 120) -> RunRequest:
    from secscan.app.deliver import DeliveryWait  # here: the tests run (and fail) on code without it

    tree = tmp_path / "shop"
    tree.mkdir(exist_ok=True)
    (tree / "app.py").write_text(VULNERABLE, encoding="utf-8")
    return RunRequest(
        target=tree, settings=load_settings(_config(tmp_path, pd)), sarif_path=tmp_path / "out.sarif",
        db=str(tmp_path / "secscan.db"), delivery_wait=DeliveryWait(wait_s, time.clock, time.sleep),
    )  # fmt: skip


def test_a_page_refused_with_a_5xx_is_retried_within_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    time = FakeTime()
    with serve(FakeServer("pagerduty", script=[500, 502], default=202)) as pd:
        result = run(_one_shot(tmp_path, pd, time))
        assert [b["event_action"] for b in pd.accepted()] == ["trigger"] and len(pd.requests) == 3
    assert result.undelivered == () and int(result.exit_code) == 1  # the critical finding, nothing else
    assert 45 <= sum(time.slept) <= 92  # two backoffs: 15-30 s, then 30-60 s


def test_a_page_still_failing_when_the_wait_ends_exits_3_and_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    time = FakeTime()
    with serve(FakeServer("pagerduty", default=503)) as pd:
        result = run(_one_shot(tmp_path, pd, time))
    assert int(result.exit_code) == 3 and sum(time.slept) <= 120
    (item,) = result.undelivered
    assert (item.outbox, item.name, item.status) == ("alerts", "pager (finding trigger)", OutboxStatus.PENDING)
    assert "HTTP 503" in (item.error or "") and "alert to pager (finding trigger) is still pending" in item.line()


def test_a_dead_page_exits_3_even_when_its_fallback_was_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    time = FakeTime()
    with serve(FakeServer("pagerduty", script=[400], default=202)) as pd:
        result = run(_one_shot(tmp_path, pd, time))
    assert int(result.exit_code) == 3 and time.slept == []
    (item,) = result.undelivered
    assert item.status is OutboxStatus.DEAD and "HTTP 400" in (item.error or "")
    assert "secscan alerts --dead" in item.line()


def test_a_slow_peer_and_more_than_a_pass_of_alerts_stop_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """150 due alerts to a peer that takes a second each: the delivery used to go through up to
    50 passes of 100 alerts, each bounded only by the lease (5 minutes), past a one-shot run's
    wait. With a deadline no alert is started after it; the rest stay due for the next command."""
    from secscan.delivery.notify import outbox as notify_outbox
    from secscan.delivery.verdicts import Delivered
    from secscan.store import OutboxItem, open_store

    t0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    now = [t0]

    def slow(item: OutboxItem) -> Delivered:
        now[0] += timedelta(seconds=1)
        return Delivered()

    monkeypatch.setattr(notify_outbox, "handlers", lambda *a, **k: {"h": slow})
    settings = settings_for({"pager": {"type": "pagerduty", "events_url": "http://127.0.0.1:9/v2/enqueue"}},
                            tmp_path)  # fmt: skip
    with open_store(tmp_path / "s.db") as store:
        store.outbox("alerts").enqueue_many([("h", f"k{n}", {}) for n in range(150)], t0)
        report = notify_outbox.deliver(store, settings, lambda: now[0], sleep=lambda s: None,
                                       deadline=t0 + timedelta(seconds=60))  # fmt: skip
        assert report.delivered == 60 and now[0] == t0 + timedelta(seconds=60)
        assert len(store.outbox("alerts").due(now[0], 1000)) == 90
