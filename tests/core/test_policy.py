from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from secscan.config.policy import load_policy
from secscan.core.errors import ConfigError
from secscan.core.model import Severity


def test_bundled_policy_maps_each_tools_scale() -> None:
    policy = load_policy()
    assert policy.bandit("B602", "HIGH", "HIGH") is Severity.HIGH
    assert policy.bandit("B101", "LOW", "LOW") is Severity.INFO
    assert policy.secret("AWS Access Key", verified=False) is Severity.CRITICAL
    assert policy.secret("Some Future Type", verified=False) is Severity.HIGH
    assert policy.secret("Hex High Entropy String", verified=True) is Severity.CRITICAL
    assert policy.advisory(9.8) is Severity.CRITICAL
    assert policy.advisory(7.5) is Severity.HIGH
    assert policy.advisory(4.2) is Severity.MEDIUM
    assert policy.advisory(None, "MODERATE") is Severity.MEDIUM
    assert policy.advisory() is Severity.HIGH  # unscored vulnerabilities: the 24 h policy
    assert policy.sarif("9.1", "note") is Severity.CRITICAL  # security-severity wins over level
    assert policy.sarif(None, "error") is Severity.HIGH
    assert policy.sarif("not-a-number", "note") is Severity.LOW
    assert [policy.security_severity_of(s) for s in Severity] == ["9.5", "8.0", "5.5", "2.0", "0.0"]


def test_user_override_is_merged_key_by_key(tmp_path: Path) -> None:
    override = tmp_path / "severity.toml"
    override.write_text(
        '[bandit.rules]\nB602 = "critical"\n[detect-secrets.types]\n"Secret Keyword" = "low"\n'
    )
    policy = load_policy(override)
    assert policy.bandit("B602", "HIGH", "HIGH") is Severity.CRITICAL
    assert policy.bandit("B324", "HIGH", "HIGH") is Severity.HIGH  # untouched keys keep the default
    assert policy.secret("Secret Keyword", verified=False) is Severity.LOW
    assert policy.secret("AWS Access Key", verified=False) is Severity.CRITICAL


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[bandit.rules]\nB602 = "urgent"\n', "bandit.rules.B602"),
        ('[advisory.cvss]\nhigh = "seven"\n', "advisory.cvss.high"),
        ("[bandit\n", "not valid TOML"),
    ],
)
def test_bad_override_is_a_config_error(tmp_path: Path, text: str, needle: str) -> None:
    override = tmp_path / "severity.toml"
    override.write_text(text)
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        load_policy(override)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            '[security-severity]\ncritical = "abc"\n',
            "'security-severity.critical' = 'abc' must be a score from 0.0 to 10.0",
        ),
        ('[security-severity]\ncritical = "11"\n', "'security-severity.critical' = '11'"),
        ("[security-severity]\ncritical = -1\n", "'security-severity.critical' = -1"),
        ("[security-severity]\ncritical = nan\n", "'security-severity.critical' = nan"),
        ("[security-severity]\ncritical = true\n", "'security-severity.critical' = true"),
        ('[security-severity]\nurgent = "9.9"\n', "unknown key 'security-severity.urgent'"),
        ("[bogus]\nx = 1\n", "unknown key 'bogus'"),
        ('[bandit]\nrule = {B101 = "low"}\n', "unknown key 'bandit.rule'"),
        ('[bandit.matrix]\nHIGH = "high"\n', "unknown key 'bandit.matrix.HIGH'"),
        ('[sarif.levels]\nerorr = "high"\n', "unknown key 'sarif.levels.erorr'"),
        ("[advisory.cvss]\nhigh = true\n", "'advisory.cvss.high' = true must be a number from 0 to 10"),
        ("[advisory.cvss]\nhigh = 70\n", "'advisory.cvss.high' = 70"),
        ("[detect-secrets]\ndefault = 3\n", "'detect-secrets.default' = 3 must be one of critical"),
        ('[advisory]\ncvss = "high"\n', "'advisory.cvss' must be a table"),
        ("version = 2\n", "'version' = 2 must be 1"),
    ],
)
def test_an_override_is_checked_whole_and_its_error_names_the_file_and_key(
    tmp_path: Path, text: str, needle: str
) -> None:
    override = tmp_path / "mine.toml"
    override.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_policy(override)
    message = str(caught.value)
    assert message.startswith(f"severity policy {override}: "), message
    assert needle in message and "\n" not in message, message


def test_security_severity_is_written_as_text_from_text_or_a_number(tmp_path: Path) -> None:
    override = tmp_path / "mine.toml"
    override.write_text('[security-severity]\ncritical = 9.8\nhigh = 7\nmedium = "6.9"\nlow = 0.1\n')
    policy = load_policy(override)
    assert [policy.security_severity_of(s) for s in Severity] == ["9.8", "7.0", "6.9", "0.1", "0.0"]


def test_the_bundled_policy_passes_its_own_check() -> None:
    from secscan.config.policy import rules_dir
    from secscan.core.policy import SEVERITY_SHAPE, check_severity_data

    data = tomllib.loads((rules_dir() / "severity.toml").read_text())
    check_severity_data(data, "severity.toml")  # raises on any fault
    assert set(data) == set(SEVERITY_SHAPE)  # and it has every table the shape allows
