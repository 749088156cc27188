"""Permanent delivery errors are dead letters, found at config load when they can be (issue 13).

Every channel against its fake receiver on 127.0.0.1: 4xx answers other than 408/425/429 are
dead letters and the channel's fallback is told; 429 and 5xx are retried. A fault of the
configuration (a routing key that is not 32 characters, a URL secscan refuses, a secret that is
not there) stops ``secscan run`` with exit 2 before any scanner starts, and at delivery time
is a dead letter, except a secret file that may still appear, which is waited for for a day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from notify_helpers import ROUTING_KEY, T0, FakeServer, finding, record, send, serve, settings_for

from secscan.cli import main as cli
from secscan.core.ports.outbox import OutboxStatus
from secscan.store import Store, open_store

HMAC_SECRET = "whsec-0f1e2d3c4b5a6978"


@pytest.fixture
def backup() -> Iterator[FakeServer]:
    """The fallback channel (a Slack webhook that receives no role of its own)."""
    with serve(FakeServer("slack", default=200)) as fake:
        yield fake


def _channel(kind: str, fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``[notify.primary]`` of ``kind`` pointing at ``fake``, its secrets in the environment."""
    if kind == "pagerduty":
        monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
        return {"type": "pagerduty", "events_url": f"{fake.url}/v2/enqueue"}
    if kind == "slack":
        monkeypatch.setenv("TEST_PRIMARY_SLACK", f"{fake.url}/services/T000/B000/XXXXXXXX")
        return {"type": "slack", "webhook_url_env": "TEST_PRIMARY_SLACK", "receives": ["page"]}
    if kind == "webhook":
        monkeypatch.setenv("SECSCAN_WEBHOOK_URL", f"{fake.url}/hooks/secscan")
        monkeypatch.setenv("SECSCAN_WEBHOOK_SECRET", HMAC_SECRET)
        return {"type": "webhook"}
    monkeypatch.setenv("SENTRY_DSN", f"http://publickey@127.0.0.1:{fake.port}/1")
    return {"type": "sentry"}


def _settings(primary: dict[str, Any], backup: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TEST_BACKUP_SLACK", f"{backup.url}/services/T000/B000/YYYYYYYY")
    notify = {
        "primary": {**primary, "fallback": "backup"},
        "backup": {"type": "slack", "webhook_url_env": "TEST_BACKUP_SLACK", "receives": ["nothing"]},
    }
    return settings_for(notify, tmp_path)


CASES = [
    ("pagerduty", 400, "dead"), ("pagerduty", 429, "retry"), ("pagerduty", 500, "retry"),
    ("slack", 400, "dead"), ("slack", 403, "dead"), ("slack", 404, "dead"), ("slack", 410, "dead"),
    ("slack", 429, "retry"), ("slack", 500, "retry"),
    ("webhook", 400, "dead"), ("webhook", 404, "dead"), ("webhook", 410, "dead"), ("webhook", 422, "dead"),
    ("webhook", 408, "retry"), ("webhook", 429, "retry"), ("webhook", 503, "retry"),
    ("sentry", 400, "dead"), ("sentry", 401, "dead"), ("sentry", 403, "dead"), ("sentry", 413, "dead"),
    ("sentry", 429, "retry"), ("sentry", 503, "retry"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "status", "verdict"), CASES)
def test_each_channel_dead_letters_4xx_and_retries_429_and_5xx(
    kind: str, status: int, verdict: str, store: Store, backup: FakeServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    default = {"pagerduty": 202, "slack": 200, "webhook": 204, "sentry": 200}[kind]
    with serve(FakeServer(kind, secret=HMAC_SECRET, script=[status], default=default)) as fake:
        settings = _settings(_channel(kind, fake, monkeypatch), backup, tmp_path, monkeypatch)
        record(store, settings, [finding(1)], T0, "r1")
        send(store, settings, T0)
        assert fake.errors == [] and len(fake.requests) == 1
    (item,) = [i for i in store.outbox("alerts").items() if i.kind == "primary"]
    assert f"HTTP {status}" in (item.last_error or "")
    if verdict == "dead":
        assert item.status is OutboxStatus.DEAD
        (notice,) = backup.accepted()
        assert "could not deliver" in notice["text"] and "primary" in notice["text"]
    else:
        assert item.status is OutboxStatus.PENDING and backup.requests == []


# -- faults of the configuration ----------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n", encoding="utf-8")
    return root


def _config(tmp_path: Path, pd_url: str, key_file: str | None = None) -> Path:
    config = tmp_path / "trusted.toml"
    key = f'routing_key_file = "{key_file}"\n' if key_file else ""
    config.write_text(
        '[notify]\nallow_hosts = ["127.0.0.1"]\n'
        f'[notify.pager]\ntype = "pagerduty"\nevents_url = "{pd_url}/v2/enqueue"\n{key}',
        encoding="utf-8",
    )
    return config


def _run(repo: Path, config: Path, db: Path, *extra: str) -> list[str]:
    return ["run", str(repo), "--config", str(config), "--db", str(db), "--scanner", "bandit",
            "--sarif", str(db.parent.parent / "out.sarif"), "--fail-on", "none", *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "flags", "needle"),
    [
        (ROUTING_KEY[:31], (), "routing key must be 32 characters"),
        (ROUTING_KEY[:31], ("--no-notify",), "routing key must be 32 characters"),
        (None, (), "is not set: export PAGERDUTY_ROUTING_KEY"),
    ],
    ids=["short-key", "short-key-no-notify", "missing-key"],
)
def test_a_channel_that_cannot_deliver_stops_secscan_run_before_any_scanner(
    key: str | None, flags: tuple[str, ...], needle: str, repo: Path, tmp_path: Path, pagerduty: FakeServer,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A routing key of 31 characters was retried every 300 s after the scan, forever."""
    if key is None:
        monkeypatch.delenv("PAGERDUTY_ROUTING_KEY", raising=False)
    else:
        monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", key)
    db = tmp_path / "state" / "secscan.db"
    code = cli.main(_run(repo, _config(tmp_path, pagerduty.url), db, *flags))
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err
    assert "bandit" not in err and not db.exists()  # no scanner ran, nothing was recorded
    assert pagerduty.requests == []


def test_a_missing_secret_is_fine_when_the_run_only_queues(
    repo: Path, tmp_path: Path, pagerduty: FakeServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """``--no-notify`` leaves delivery to another process (the daemon), which may have it."""
    monkeypatch.delenv("PAGERDUTY_ROUTING_KEY", raising=False)
    db = tmp_path / "state" / "secscan.db"
    assert cli.main(_run(repo, _config(tmp_path, pagerduty.url), db, "--no-notify")) == 0, capsys.readouterr()
    with open_store(db) as store:
        assert len(store.runs()) == 1


def _pager(pd: FakeServer, backup: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           **key: str) -> Any:  # fmt: skip
    return _settings({"type": "pagerduty", "events_url": f"{pd.url}/v2/enqueue", **key}, backup, tmp_path,
                     monkeypatch)  # fmt: skip


def test_a_key_malformed_after_queueing_is_a_dead_letter_and_the_fallback_is_told(
    store: Store, pagerduty: FakeServer, backup: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pd-key").write_text(ROUTING_KEY[:20] + "\n", encoding="utf-8")  # rotated to a bad value
    settings = _pager(pagerduty, backup, tmp_path, monkeypatch, routing_key_file="pd-key")
    record(store, settings, [finding(1)], T0, "r1")
    send(store, settings, T0)
    (item,) = [i for i in store.outbox("alerts").items() if i.kind == "primary"]
    assert item.status is OutboxStatus.DEAD and "must be 32 characters" in (item.last_error or "")
    assert len(backup.accepted()) == 1 and pagerduty.requests == []


def test_a_secret_missing_from_the_environment_is_a_dead_letter_at_once(
    store: Store, pagerduty: FakeServer, backup: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment variable cannot appear in a running process (the daemon)."""
    settings = _pager(pagerduty, backup, tmp_path, monkeypatch, routing_key_env="TEST_NO_SUCH_KEY")
    monkeypatch.delenv("TEST_NO_SUCH_KEY", raising=False)
    record(store, settings, [finding(1)], T0, "r1")
    send(store, settings, T0)
    (item,) = [i for i in store.outbox("alerts").items() if i.kind == "primary"]
    assert item.status is OutboxStatus.DEAD and "TEST_NO_SUCH_KEY" in (item.last_error or "")
    assert len(backup.accepted()) == 1


def test_a_missing_secret_file_is_waited_for_a_day_then_dead_lettered(
    store: Store, pagerduty: FakeServer, backup: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A credential file may still appear (mounted late, being rotated): the alert waits, and is
    delivered when it appears; one that never appears is a dead letter after a day."""
    settings = _pager(pagerduty, backup, tmp_path, monkeypatch, routing_key_file="pd-key")
    record(store, settings, [finding(1)], T0, "r1")
    record(store, settings, [finding(1), finding(2)], T0 + timedelta(minutes=1), "r2")
    send(store, settings, T0 + timedelta(minutes=1))
    box = store.outbox("alerts")
    assert {i.status for i in box.items() if i.kind == "primary"} == {OutboxStatus.PENDING}
    assert "pd-key" in (box.items()[0].last_error or "") and backup.requests == []
    send(store, settings, T0 + timedelta(hours=2))  # still no file: waits on
    assert {i.status for i in box.items() if i.kind == "primary"} == {OutboxStatus.PENDING}
    (tmp_path / "pd-key").write_text(ROUTING_KEY + "\n", encoding="utf-8")
    send(store, settings, T0 + timedelta(hours=4))
    assert len(pagerduty.accepted()) == 2  # it appeared: both go out
    (tmp_path / "pd-key").unlink()
    record(store, settings, [finding(1), finding(2), finding(3)], T0 + timedelta(hours=5), "r3")
    send(store, settings, T0 + timedelta(hours=5))
    send(store, settings, T0 + timedelta(hours=29, minutes=1))  # a day after it was queued
    # finding 3's page, and the breaches of findings 1 and 2 (2 h SLA) that run r3 saw
    dead = box.items(OutboxStatus.DEAD)
    assert {d.kind for d in dead} == {"primary"} and all("pd-key" in (d.last_error or "") for d in dead)
    assert sorted(d.payload["event"] for d in dead) == ["finding", "sla-breached", "sla-breached"]
    assert len(backup.accepted()) == 3
