"""``secscan alerts``, ``secscan alerts retry ID``, ``secscan notify test CHANNEL`` and routing
policy errors, through ``secscan.cli.main.main`` (output and exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from notify_helpers import ROUTING_KEY, T0, FakeServer, finding, record, send, serve, settings_for

from secscan.cli.main import main
from secscan.core.model import Severity
from secscan.core.ports.outbox import OutboxStatus
from secscan.store import open_store


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)


def write_config(tmp_path: Path, pd: FakeServer, routing: str | None = None) -> Path:
    config = tmp_path / "secscan.toml"
    lines = ["[notify]", 'allow_hosts = ["127.0.0.1"]']
    if routing is not None:
        (tmp_path / "routing.toml").write_text(routing, encoding="utf-8")
        lines.append('routing = "routing.toml"')
    lines += ["[notify.pager]", 'type = "pagerduty"', f'events_url = "{pd.url}/v2/enqueue"']
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.fixture
def outbox_db(tmp_path: Path) -> tuple[Path, int, int]:
    """A database with one dead letter (PagerDuty said 400) and one delivered alert."""
    db = tmp_path / "state" / "secscan.db"
    with serve(FakeServer("pagerduty", script=[400], default=202)) as pd:
        settings = settings_for(
            {"pager": {"type": "pagerduty", "events_url": f"{pd.url}/v2/enqueue"}}, tmp_path
        )
        with open_store(db) as store:
            record(store, settings, [finding(1, Severity.CRITICAL)], T0, "r1")
            send(store, settings, T0)
            record(store, settings, [finding(1), finding(2)], T0, "r2")
            send(store, settings, T0)
            (dead,) = store.outbox("alerts").items(OutboxStatus.DEAD)
            (delivered,) = store.outbox("alerts").items(OutboxStatus.DELIVERED)
    return db, dead.id, delivered.id


def test_alerts_lists_the_outbox_and_dead_lists_only_dead_letters(
    outbox_db: tuple[Path, int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    db, dead, delivered = outbox_db
    assert main(["alerts", "--db", str(db), "--format", "json"]) == 0
    listed = {a["id"]: a for a in json.loads(capsys.readouterr().out)}
    assert listed[dead]["status"] == "dead" and "HTTP 400" in listed[dead]["last_error"]
    assert listed[delivered]["status"] == "delivered" and listed[delivered]["action"] == "trigger"
    assert listed[delivered]["dedup_key"] == f"secscan/finding/shop/{finding(2).fingerprint}"

    assert main(["alerts", "--dead", "--db", str(db), "--format", "json"]) == 0
    assert [a["id"] for a in json.loads(capsys.readouterr().out)] == [dead]

    assert main(["alerts", "--dead", "--db", str(db)]) == 0
    table = capsys.readouterr().out
    assert "dead" in table and "HTTP 400" in table and "delivered" not in table


def test_alerts_retry_makes_a_dead_letter_due_again(
    outbox_db: tuple[Path, int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    db, dead, _ = outbox_db
    assert main(["alerts", "retry", str(dead), "--db", str(db)]) == 0
    assert f"alert {dead} to pager is due again" in one_line(capsys.readouterr().out)
    with open_store(db) as store:
        assert [i.id for i in store.outbox("alerts").items(OutboxStatus.PENDING)] == [dead]


@pytest.mark.parametrize(
    ("word", "expected"), [("999", "999 does not exist"), ("abc", "whole number from 1 to")]
)
def test_alerts_retry_of_a_bad_id_is_one_line_and_exit_2(
    outbox_db: tuple[Path, int, int], capsys: pytest.CaptureFixture[str], word: str, expected: str
) -> None:
    db, _, _ = outbox_db
    assert main(["alerts", "retry", word, "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert expected in one_line(captured.err) and captured.out == ""


def test_alerts_deliver_without_the_secret_is_exit_2_and_dead_letters_nothing(
    outbox_db: tuple[Path, int, int], pagerduty: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A missing routing key in the delivering process is its own fault, not the alerts'."""
    db, dead, _ = outbox_db
    assert main(["alerts", "retry", str(dead), "--db", str(db)]) == 0
    monkeypatch.delenv("PAGERDUTY_ROUTING_KEY")
    capsys.readouterr()
    assert main(["alerts", "deliver", "--config", str(write_config(tmp_path, pagerduty)), "--db", str(db)]) == 2
    assert "PAGERDUTY_ROUTING_KEY" in one_line(capsys.readouterr().err)
    with open_store(db) as store:
        (item,) = store.outbox("alerts").items(OutboxStatus.PENDING)
    assert item.id == dead and pagerduty.requests == []


def test_notify_test_sends_a_test_event_to_the_channel(
    pagerduty: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, pagerduty)
    assert main(["notify", "test", "pager", "--config", str(config)]) == 0
    assert one_line(capsys.readouterr().out) == "test notice delivered to pager"
    (body,) = pagerduty.accepted()
    assert body["payload"]["class"] == "test" and "test notice" in body["payload"]["summary"]
    assert pagerduty.errors == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["notify", "test", "nosuch"], "no channel [notify.nosuch] in the config (configured: pager)"),
        (["notify", "test"], "the following arguments are required: channel"),
    ],
)
def test_notify_test_of_an_unknown_channel_is_one_line_and_exit_2(
    pagerduty: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    config = write_config(tmp_path, pagerduty)
    assert main([*argv, "--config", str(config)]) == 2
    assert expected in one_line(capsys.readouterr().err)
    assert pagerduty.requests == []


def test_notify_test_refused_by_the_peer_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(FakeServer("pagerduty", script=[400])) as pd:
        config = write_config(tmp_path, pd)
        assert main(["notify", "test", "pager", "--config", str(config)]) == 2
    assert "HTTP 400" in one_line(capsys.readouterr().err)


BAD_POLICIES = [
    ('[[route]]\nevent = "findings"\nto = ["page"]\n', "route[0].event = 'findings' is not one of"),
    ('[[route]]\nevent = "finding"\nto = ["pagr"]\n', "route[0].to = 'pagr' is neither a configured channel"),
    ('[[route]]\nevent = "finding"\nseverity = ["urgent"]\nto = ["page"]\n', "route[0].severity = 'urgent'"),
    ("[storm]\nthreshold = 0\n", "storm.threshold = 0 must be a whole number of at least 1"),
    ("storm = 5\n", "[storm] must be a table"),
    ('[[route]]\nevent = "finding"\nto = ["page"]\nwhen = "always"\n', "unknown key route[0].when"),
    ("[[route]\n", "is not valid TOML"),
]


@pytest.mark.parametrize(("policy", "expected"), BAD_POLICIES)
def test_a_bad_routing_policy_fails_secscan_run_before_any_scanner_starts(
    pagerduty: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str, expected: str
) -> None:
    config = write_config(tmp_path, pagerduty, routing=policy)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n", encoding="utf-8")
    sarif, db = tmp_path / "out.sarif", tmp_path / "state" / "secscan.db"
    argv = ["run", str(tree), "--config", str(config), "--db", str(db), "--sarif", str(sarif)]
    assert main(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert expected in line and str(tmp_path / "routing.toml") in line
    assert not sarif.exists() and not db.exists()  # nothing ran, nothing was recorded


def test_alerts_deliver_exits_3_while_an_alert_does_not_go_out(
    outbox_db: tuple[Path, int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cron job or CI step running `secscan alerts deliver` must see a pager that refuses
    (or is down): exit 3 and one line, as `secscan upload` does; 0 once everything went out."""
    db, dead, _ = outbox_db
    with serve(FakeServer("pagerduty", script=[503], default=202)) as pd:
        config = str(write_config(tmp_path, pd))
        assert main(["alerts", "retry", str(dead), "--db", str(db)]) == 0
        capsys.readouterr()
        assert main(["alerts", "deliver", "--config", config, "--db", str(db)]) == 3
        captured = capsys.readouterr()
        assert "0 delivered, 1 to retry, 0 dead" in captured.out
        assert captured.err.splitlines()[-1].startswith("secscan: 1 alert(s) not delivered")
        assert main(["alerts", "retry", str(dead), "--db", str(db)]) == 0
        assert main(["alerts", "deliver", "--config", config, "--db", str(db)]) == 0
