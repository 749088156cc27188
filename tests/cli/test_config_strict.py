"""Settings and policy files that used to be taken silently, now refused at the command line.

Before: ``timeout = true`` was a one-second timeout (the run exited 3, "timed out after 1 s"),
``enabled = "off"`` disabled bandit, a severity policy's ``security-severity = "abc"`` reached
the SARIF log (which GitHub refuses), ``[windows] critcal`` and ``[clock] due_soon_fraction``
in an SLA file were ignored, and ``[daemon] sla_sweep_every = 1e12`` migrated the database and
opened the health endpoint before dying with an internal error (exit 70). Now each is exit 2,
one line naming the file and the key, and nothing is scanned, written or opened.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_helpers import secscan, small_repo


def _refused(tmp_path: Path, *args: str | Path, fragments: tuple[str, ...]) -> None:
    db = tmp_path / "db.sqlite"
    done = secscan(*args, "--db", db, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr)
    [line] = done.stderr.splitlines()
    assert line.startswith("secscan: error: "), line
    assert all(f in line for f in fragments), line
    assert not db.exists()  # refused before the database was opened, so before any scanner
    assert not (tmp_path / "out.sarif").exists()


def _run(tmp_path: Path, config: Path) -> tuple[str | Path, ...]:
    repo = small_repo(tmp_path / "repo")
    return ("run", repo, "--config", config, "--sarif", tmp_path / "out.sarif", "--no-cache")


@pytest.mark.parametrize(
    ("table", "key", "wanted"),
    [
        ("[scanners.pip-audit]\ntimeout = true", "'scanners.pip-audit.timeout'", "a number"),
        ('[scanners.bandit]\nenabled = "off"', "'scanners.bandit.enabled'", "true or false"),
        ('[scanners.bandit]\ntimeout = "10"', "'scanners.bandit.timeout'", "a number"),
        ("[scan]\nmax_file_size = 1.5", "'scan.max_file_size'", "a whole number"),
        ("[scan]\ninclude_ignored = 1", "'scan.include_ignored'", "true or false"),
    ],
)
def test_a_value_of_the_wrong_toml_type_is_refused_not_converted(
    tmp_path: Path, table: str, key: str, wanted: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(table + "\n")
    _refused(tmp_path, *_run(tmp_path, config), fragments=(str(config), key, wanted))


def test_an_integer_is_still_a_number_of_seconds(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[scanners.bandit]\ntimeout = 120\n")
    done = secscan(*_run(tmp_path, config), "--scanner", "bandit", "--fail-on", "none", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.sarif").is_file()


@pytest.mark.parametrize(
    ("policy", "text", "fragments"),
    [
        (
            "severity",
            '[security-severity]\ncritical = "abc"\n[bogus]\nx = 1\n',
            ("'security-severity.critical' = 'abc'", "0.0 to 10.0"),
        ),
        ("severity", "[bogus]\nx = 1\n", ("unknown key 'bogus'",)),
        ("severity", '[bandit.rules]\nB101 = "urgent"\n', ("'bandit.rules.B101' = 'urgent'",)),
        ("sla", '[windows]\ncritcal = "1h"\n', ("unknown key 'windows.critcal'",)),
        (
            "sla",
            "[clock]\ndue_soon_fraction = 7\n",
            ("unknown key 'clock.due_soon_fraction'", "due-soon-fraction"),
        ),
        ("sla", "[clock]\ndue-soon-fraction = 7\n", ("'clock.due-soon-fraction' = 7",)),
    ],
)
def test_a_bad_policy_file_is_refused_naming_the_file_and_the_key(
    tmp_path: Path, policy: str, text: str, fragments: tuple[str, ...]
) -> None:
    (tmp_path / "mine.toml").write_text(text)
    config = tmp_path / "c.toml"
    config.write_text(f'[policy]\n{policy} = "mine.toml"\n')
    _refused(tmp_path, *_run(tmp_path, config), fragments=(str(tmp_path / "mine.toml"), *fragments))


def test_a_numeric_security_severity_reaches_the_sarif_log_as_text(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text("[security-severity]\nhigh = 7.5\n")
    config = tmp_path / "c.toml"
    config.write_text('[policy]\nseverity = "mine.toml"\n')
    done = secscan(*_run(tmp_path, config), "--scanner", "bandit", "--fail-on", "none", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"security-severity": "7.5"' in (tmp_path / "out.sarif").read_text().replace('":"', '": "')


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("sla_sweep_every = 1e12", "'daemon.sla_sweep_every'"),
        ("delivery_every = 1e300", "'daemon.delivery_every'"),
        ("keep_runs_days = 100000000", "'daemon.keep_runs_days'"),
    ],
)
def test_a_daemon_interval_that_cannot_be_meant_is_refused_before_it_starts(
    tmp_path: Path, setting: str, key: str
) -> None:
    repo = small_repo(tmp_path / "repo")
    config = tmp_path / "d.toml"
    config.write_text(
        f'[daemon]\n{setting}\nhealth_listen = "127.0.0.1:0"\n[[daemon.targets]]\npath = "{repo}"\n'
    )
    _refused(tmp_path, "daemon", "--config", config, fragments=(str(config), key, "less than or equal"))


def test_the_daemon_refuses_a_bad_policy_file_at_start(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    (tmp_path / "sla.toml").write_text("[clock]\ndue_soon_fraction = 7\n")
    config = tmp_path / "d.toml"
    config.write_text(
        '[policy]\nsla = "sla.toml"\n[daemon]\nhealth_listen = "127.0.0.1:0"\n'
        f'[[daemon.targets]]\npath = "{repo}"\n'
    )
    _refused(
        tmp_path, "daemon", "--config", config,
        fragments=(str(tmp_path / "sla.toml"), "unknown key 'clock.due_soon_fraction'"),
    )  # fmt: skip
