"""``[scanners.zizmor]`` and ``[scanners.semgrep]``: their keys, trust and the severity matrices."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan.app.scan_options import scanner_options as _options
from secscan.config.policy import load_policy
from secscan.config.settings import SemgrepConfig, ZizmorConfig, build_settings, load_settings
from secscan.core.errors import ConfigError
from secscan.core.model import Severity


def test_defaults_and_options() -> None:
    settings = build_settings({"scanners": {"semgrep": {"jobs": 2, "rule_timeout": 0}}})
    zizmor, semgrep = settings.scanner("zizmor"), settings.scanner("semgrep")
    assert isinstance(zizmor, ZizmorConfig) and isinstance(semgrep, SemgrepConfig)
    assert _options(zizmor, None, settings, None) == {"persona": "regular"}
    assert _options(semgrep, None, settings, None) == {"max_target_bytes": 1_000_000, "rule_timeout": 0.0, "jobs": 2}


def test_a_repository_config_may_not_name_a_zizmor_config(tmp_path: Path) -> None:
    """A zizmor config can disable audits: only a trusted secscan configuration may name one."""
    (tmp_path / "zizmor.yml").write_text("rules: {}\n")
    (tmp_path / "secscan.toml").write_text('[scanners.zizmor]\nconfig = "zizmor.yml"\n')
    with pytest.raises(ConfigError, match=r"\[scanners.zizmor\] config comes from the scanned repository"):
        load_settings(None, tmp_path)
    trusted = load_settings(tmp_path / "secscan.toml").scanner("zizmor")
    assert isinstance(trusted, ZizmorConfig) and trusted.config == tmp_path.resolve() / "zizmor.yml"
    (tmp_path / "secscan.toml").write_text('[scanners.zizmor]\npersona = "auditor"\n')
    assert load_settings(None, tmp_path).scanner("zizmor").scanner_options() == {"persona": "auditor"}


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"zizmor": {"persona": "paranoid"}}, "'scanners.zizmor.persona'"),
        ({"zizmor": {"config": "/nonexistent/zizmor.yml"}}, "does not exist"),
        ({"semgrep": {"max_target_bytes": 0}}, "'scanners.semgrep.max_target_bytes'"),
        ({"semgrep": {"rules": ["p/javascript"]}}, "unknown key 'scanners.semgrep.rules'"),
        ({"semgrep": {"command": ["semgrep", "--config", "auto", "{target}"]}}, "is a built-in scanner"),
    ],
)
def test_bad_keys_are_one_line_errors(table: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_settings({"scanners": table}, source=Path("secscan.toml"))
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_severity_matrices_and_per_rule_overrides(tmp_path: Path) -> None:
    policy = load_policy()
    assert policy.matrix("zizmor", "template-injection", "High", "High") is Severity.HIGH
    assert policy.matrix("zizmor", "artipacked", "Medium", "Low") is Severity.LOW
    assert policy.matrix("zizmor", "x", "Unknown", "Unknown") is Severity.MEDIUM
    assert policy.matrix("semgrep", "js.code-injection", "HIGH", "HIGH") is Severity.HIGH
    assert policy.matrix("semgrep", "pine.missing-version", "LOW", "HIGH") is Severity.LOW
    override = tmp_path / "severity.toml"
    override.write_text(
        '[semgrep.rules]\n"js.code-injection" = "critical"\n[zizmor.matrix]\n"HIGH/HIGH" = "critical"\n'
    )
    custom = load_policy(override)
    assert custom.matrix("semgrep", "js.code-injection", "HIGH", "HIGH") is Severity.CRITICAL
    assert custom.matrix("zizmor", "unpinned-uses", "High", "High") is Severity.CRITICAL
    override.write_text('[zizmor.rules]\n"template-injection" = "urgent"\n')
    with pytest.raises(ConfigError, match=r"zizmor\.rules\.template-injection"):
        load_policy(override)
