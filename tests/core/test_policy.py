from __future__ import annotations

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
