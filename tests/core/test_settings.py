from __future__ import annotations

from pathlib import Path

import pytest

from secscan.config.settings import (
    BanditConfig,
    PipAuditConfig,
    SarifToolConfig,
    build_settings,
    fail_threshold,
    load_settings,
)
from secscan.core.errors import ConfigError, ExitCode


def test_defaults_enable_the_builtin_scanners() -> None:
    settings = build_settings({})
    assert list(settings.scanners) == [
        "bandit",
        "detect-secrets",
        "pip-audit",
        "lockfile-audit",
        "zizmor",
        "semgrep",
        "git-history",
        "posture",
    ]
    assert all(c.enabled for c in settings.scanners.values())
    assert settings.scan.fail_on == "high"
    assert ".git" in settings.scan.excludes and "node_modules" in settings.scan.excludes


def test_fractional_timeout_and_scanner_specific_keys() -> None:
    settings = build_settings({"scanners": {"bandit": {"timeout": 0.25, "shards": 2}}})
    bandit = settings.scanner("bandit")
    assert isinstance(bandit, BanditConfig)
    assert bandit.timeout == 0.25 and bandit.shards == 2


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"scanners": {"bandit": {"timout": 3}}}, "unknown key 'scanners.bandit.timout'"),
        ({"scanners": {"bandit": {"timeout": 0}}}, "'scanners.bandit.timeout'"),
        ({"scanners": {"pip-audit": {"osv_url": "ftp://x"}}}, "'scanners.pip-audit.osv_url'"),
        ({"scan": {"fail_on": "urgent"}}, "'scan.fail_on'"),
        ({"colour": "blue"}, "unknown key 'colour'"),
        ({"scanners": {"gitleaks": {"timeout": 5}}}, "give it a 'command'"),
        ({"scanners": {"bandit": {"shards": "many"}}}, "'scanners.bandit.shards'"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(raw: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_settings(raw, source=Path("secscan.toml"))
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    assert message.startswith("secscan.toml: ")
    assert info.value.exit_code == ExitCode.USAGE


def test_custom_sarif_tool_is_accepted_from_a_trusted_config() -> None:
    settings = build_settings({"scanners": {"gitleaks": {"command": ["gitleaks", "--sarif", "{target}"]}}})
    tool = settings.scanner("gitleaks")
    assert isinstance(tool, SarifToolConfig)
    assert tool.command[0] == "gitleaks" and tool.ok_exit_codes == (0, 1)


def test_config_found_in_the_target_may_not_run_commands(tmp_path: Path) -> None:
    (tmp_path / "secscan.toml").write_text('[scanners.evil]\ncommand = ["sh", "-c", "touch pwned"]\n')
    with pytest.raises(ConfigError, match="untrusted"):
        load_settings(None, tmp_path)
    (tmp_path / "secscan.toml").write_text('[scanners.bandit]\nargs = ["--ini", "x"]\n')
    with pytest.raises(ConfigError, match="untrusted"):
        load_settings(None, tmp_path)
    # the same file passed explicitly is trusted
    assert load_settings(tmp_path / "secscan.toml").scanner("bandit").args == ("--ini", "x")


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "secscan.toml").write_text('[scanners.pip-audit]\nosv_db = "osv"\n')
    pip_audit = load_settings(None, tmp_path).scanner("pip-audit")
    assert isinstance(pip_audit, PipAuditConfig)
    assert pip_audit.osv_db == tmp_path.resolve() / "osv"


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[scan\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe[scan]")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(binary)


def test_command_line_overrides_win() -> None:
    settings = load_settings(None, None, [("scan.fail_on", "none")])
    assert fail_threshold(settings) is None
    assert fail_threshold(build_settings({"scan": {"fail_on": "medium"}})) is not None
