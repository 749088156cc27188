"""The lifecycle subcommands through argparse, as ``cli.main`` dispatches them: output and exit codes."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lifecycle_helpers import H, Seeded, dump, result, run_cli, sarif_doc, sarif_run, seed, write_sarif

from secscan.cli import lifecycle as cli_lifecycle
from secscan.core.errors import ConfigError
from secscan.core.policy import SeverityPolicy
from secscan.store import FindingQuery, open_store


@pytest.fixture
def seeded(tmp_path: Path, db_path: Path, policy: SeverityPolicy) -> Seeded:
    """The seed of the app tests, 30 h ago, so that the commands' real ``now`` sees the same SLAs."""
    with open_store(db_path) as store:
        return seed(store, policy, datetime.now(UTC) - 30 * H, tmp_path)


def test_findings_table_and_json(db_path: Path, seeded: Seeded) -> None:
    table = run_cli("findings", "--db", db_path)
    assert table.code == 0, table.err
    assert all(i in table.out for i in (seeded.a, seeded.c, seeded.e, seeded.f))
    assert seeded.b not in table.out and "breached, overdue 6h" in table.out
    doc = run_cli(
        "findings", "--db", db_path, "--format", "json", "--severity", "high", "--target", "app"
    ).json()
    assert {f["id"] for f in doc["findings"]} == {seeded.a, seeded.e}
    fixed = run_cli("findings", "--db", db_path, "--format", "json", "--state", "fixed").json()
    assert [f["id"] for f in fixed["findings"]] == [seeded.b]
    every = run_cli("findings", "--db", db_path, "--format", "json", "--state", "all", "--limit", "3").json()
    assert len(every["findings"]) == 3
    tool = run_cli("findings", "--db", db_path, "--format", "json", "--tool", "gitleaks").json()
    assert [f["id"] for f in tool["findings"]] == [seeded.e]


def test_no_matching_findings_is_said_plainly(db_path: Path, seeded: Seeded) -> None:
    res = run_cli("findings", "--db", db_path, "--tool", "nothing-here")
    assert res.code == 0 and "no findings match" in res.out


def test_show_table_and_json(db_path: Path, seeded: Seeded) -> None:
    res = run_cli("show", seeded.b[:6], "--db", db_path)
    assert res.code == 0, res.err
    assert "b.py:2" in res.out and "History" in res.out and "opened" in res.out and "fixed" in res.out
    doc = run_cli("show", seeded.a, "--db", db_path, "--format", "json").json()
    assert doc["finding"]["id"] == seeded.a and doc["finding"]["sla"]["status"] == "breached"
    assert [e["event"] for e in doc["history"]] == ["opened"]


def test_a_full_id_tracked_in_two_targets_asks_for_the_target(db_path: Path, tmp_path: Path) -> None:
    """The same finding (same tool, rule, path and code) in two targets has one id: more digits
    cannot tell them apart, --target can."""
    log = write_sarif(tmp_path / "same.sarif", sarif_doc(sarif_run("semgrep", [result("r1", "a.py", 1)])))
    for target in ("api", "web"):
        assert run_cli("ingest", log, "--target", target, "--db", db_path).code == 0
    with open_store(db_path) as store:
        (finding,) = store.list_findings(FindingQuery(target="api"))
    for ref in (finding.fingerprint, finding.fingerprint[:16]):  # the full id and the short one
        res = run_cli("show", ref, "--db", db_path)
        assert res.code == 2
        assert "tracked in several targets (api, web); give --target NAME" in res.err, res.err
        assert "more digits" not in res.err
        assert run_cli("show", ref, "--db", db_path, "--target", "web").code == 0


def test_sla_command(db_path: Path, seeded: Seeded) -> None:
    breached = run_cli("sla", "--breached", "--db", db_path, "--format", "json").json()
    assert {f["id"] for f in breached["findings"]} == {seeded.a, seeded.e, seeded.f}
    soon = run_cli("sla", "--due-within", "40d", "--db", db_path, "--format", "json").json()
    assert [f["id"] for f in soon["findings"]] == [seeded.c]
    table = run_cli("sla", "--db", db_path)
    assert table.code == 0 and "soonest due first" in table.out and seeded.d not in table.out


def test_stats_command(db_path: Path, seeded: Seeded) -> None:
    table = run_cli("stats", "--db", db_path, "--target", "app")
    assert table.code == 0, table.err
    assert "security score:" in table.out and "below the baseline 95" in table.out
    assert "SLA compliance:" in table.out and "MTTR" in table.out
    doc = run_cli("stats", "--db", db_path, "--format", "json").json()
    assert doc["open"] == 5 and doc["findings"] == 6 and doc["score_baseline"] == 95.0
    assert doc["mttr_s"]["medium"] == pytest.approx(30 * 3600, abs=2)


def test_triage_command_records_the_os_user(db_path: Path, seeded: Seeded) -> None:
    until = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    res = run_cli(
        "triage",
        seeded.a,
        "--as",
        "accepted-risk",
        "--reason",
        "mitigated by WAF",
        "--until",
        until,
        "--db",
        db_path,
    )
    assert res.code == 0, res.err
    assert f"{seeded.a}: accepted-risk through {until}; state triaged" in res.out
    shown = run_cli("show", seeded.a, "--db", db_path, "--format", "json").json()
    assert shown["finding"]["triage"]["actor"] == getpass.getuser()
    assert shown["finding"]["state"] == "triaged" and shown["history"][-1]["event"] == "triaged"
    lifted = run_cli(
        "triage", seeded.a, "--as", "open", "--reason", "WAF removed", "--db", db_path, "--format", "json"
    )
    assert lifted.code == 0 and lifted.json()["state"] == "unchanged"


def test_triage_until_the_last_day_a_date_can_name(db_path: Path, seeded: Seeded) -> None:
    res = run_cli("triage", seeded.a, "--as", "accepted-risk", "--reason", "r", "--until", "9999-12-31",
                  "--db", db_path)  # fmt: skip
    assert res.code == 0, res.err
    shown = run_cli("show", seeded.a, "--db", db_path, "--format", "json").json()
    assert shown["finding"]["triage"]["until"] == "9999-12-31T23:59:59+00:00"
    assert run_cli("sla", "--db", db_path).code == 0


def test_triage_actor_falls_back_when_the_user_is_unknown(
    db_path: Path, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unknown() -> str:
        raise OSError("no user")

    monkeypatch.setattr(getpass, "getuser", unknown)
    assert (
        run_cli("triage", seeded.c, "--as", "false-positive", "--reason", "test data", "--db", db_path).code
        == 0
    )
    shown = run_cli("show", seeded.c, "--db", db_path, "--format", "json").json()
    assert shown["finding"]["triage"]["actor"] == "cli"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--as", "accepted-risk", "--reason", "r", "--until", "2001-01-01"], "in the past"),
        (["--as", "false-positive", "--reason", "r", "--until", "2099-01-01"], "only applies to"),
        (["--as", "accepted-risk", "--reason", "r", "--until", "2099-13-01"], "YYYY-MM-DD"),
        (["--as", "accepted-risk", "--reason", "r", "--until", "tomorrow"], "YYYY-MM-DD"),
        (["--as", "false-positive", "--reason", "   "], "--reason is required"),
        (["--as", "false-positive"], "--reason"),
        (["--as", "wontfix", "--reason", "r"], "invalid choice"),
    ],
)
def test_bad_triage_exits_2_with_one_line_and_writes_nothing(
    db_path: Path, seeded: Seeded, argv: list[str], expected: str
) -> None:
    before = dump(db_path)
    res = run_cli("triage", seeded.a, *argv, "--db", db_path)
    assert res.code == 2 and expected in res.err and res.err.count("\n") == 1 and res.out == ""
    assert dump(db_path) == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sla", "--due-within", "24x"], "not like 30m"),
        (["sla", "--due-within", "1.5h"], "not like 30m"),
        (["sla", "--due-within", "0h"], "not like 30m"),
        (["sla", "--due-within", " 24h"], "not like 30m"),
        (["findings", "--state", "open,bogus"], "'bogus' is not one of"),
        (["findings", "--severity", "huge"], "invalid choice"),
        (["findings", "--limit", "0"], "whole number from 1 to"),
        # past a database integer: a clear usage error, not an overflow or a "datatype mismatch"
        (["findings", "--limit", str(2**63)], "whole number from 1 to 9223372036854775807"),
        (["alerts", "--limit", str(2**63)], "whole number from 1 to 9223372036854775807"),
        (["alerts", "retry", str(2**63)], "whole number from 1 to 9223372036854775807"),
        # the names every other command refuses are refused when a run would record them too
        (["run", ".", "--target", "evil\nname"], "target name must be 1 to 200 printable characters"),
        (["run", ".", "--target", "x" * 201], "target name must be 1 to 200 printable characters"),
        (["run", ".", "--fail-on-new", "--baseline-target", " "], "target name must be 1 to 200"),
        (["findings", "--format", "xml"], "invalid choice"),
        (["show", "zz"], "at least 4 hex digits"),
        (["show", "ffffffffff"], "no finding"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    db_path: Path, seeded: Seeded, argv: list[str], expected: str
) -> None:
    res = run_cli(*argv, "--db", db_path)
    assert res.code == 2 and expected in res.err and res.err.count("\n") == 1 and res.out == ""


def test_reading_commands_refuse_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "secscan.db"
    for command in ("findings", "sla", "stats"):
        res = run_cli(command, "--db", missing)
        assert res.code == 2 and "no database at" in res.err and res.err.count("\n") == 1
    assert not missing.parent.exists()


def test_default_database_is_the_xdg_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: SeverityPolicy
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert "no database at" in run_cli("findings").err
    from lifecycle_helpers import ASSETS

    assert run_cli("ingest", ASSETS / "semgrep-like.sarif", "--target", "app").code == 0
    assert (tmp_path / "xdg" / "secscan" / "secscan.db").is_file()
    assert len(run_cli("findings", "--format", "json").json()["findings"]) == 2


def test_an_unknown_url_is_refused(tmp_path: Path) -> None:
    res = run_cli("stats", "--db", "mysql://db.example/secscan")
    assert res.code == 2 and "not supported" in res.err


def test_an_unreachable_postgresql_database_is_one_line_exit_2(tmp_path: Path) -> None:
    res = run_cli("stats", "--db", "postgresql://secscan:hunter2@db.invalid/secscan")
    assert res.code == 2
    assert res.err.startswith("secscan: error: cannot connect to postgresql://secscan:***@db.invalid/secscan")
    assert len(res.err.strip().splitlines()) == 1 and "hunter2" not in res.err


def test_config_sla_policy_is_used(tmp_path: Path, db_path: Path, seeded: Seeded) -> None:
    (tmp_path / "sla.toml").write_text('[windows]\nhigh = "7d"\n')
    (tmp_path / "secscan.toml").write_text('[policy]\nsla = "sla.toml"\n')
    doc = run_cli(
        "sla", "--breached", "--db", db_path, "--format", "json", "--config", tmp_path / "secscan.toml"
    )
    assert doc.json()["findings"] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_parse_duration(text: str, value: timedelta) -> None:
    assert cli_lifecycle.parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "h", "24", "-1h", "0d", "1.5h", "24H ", "1h30m", "9999999d", "24 h"])
def test_parse_duration_is_strict(text: str) -> None:
    with pytest.raises(ConfigError, match="not like 30m"):
        cli_lifecycle.parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=45), "45m"),
        (timedelta(days=2, hours=3, minutes=5), "2d 3h"),
        (-timedelta(hours=6), "-6h"),
        (None, "-"),
    ],
)
def test_span(value: timedelta | None, text: str) -> None:
    from secscan.cli import lifecycle_console

    assert lifecycle_console.span(value) == text
