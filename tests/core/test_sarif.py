from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secscan.config.policy import load_policy
from secscan.core.model import (
    Finding,
    Location,
    Notification,
    NotificationLevel,
    Rule,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.report.sarif import build_sarif
from tests.conftest import multitool_errors, schema_errors

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _finding(tool: str, rule: str, path: str, line: int, sev: Severity, fp: str) -> Finding:
    return Finding(
        tool=ToolName(tool),
        rule_id=rule,
        message=f"{rule} at {path}",
        location=Location(path, line, 5, line, 9),
        severity=sev,
        fingerprint=fp * 64,
        line_hash="39fa2ee980eb94b0:1",
    )


def _run(tmp_path: Path) -> ScanRun:
    rule = Rule(
        "B602",
        "subprocess_popen_with_shell_equals_true",
        "shell=True",
        "Shell injection risk.",
        "Avoid shell=True.",
        "https://bandit.readthedocs.io/",
        ("external/cwe/cwe-78",),
    )
    ok = ScannerResult(
        ToolName("bandit"),
        "1.9.4",
        ScannerStatus.OK,
        1.5,
        1,
        findings=(
            _finding("bandit", "B602", "app/x.py", 3, Severity.HIGH, "a"),
            _finding("bandit", "B602", "app/y.py", 7, Severity.MEDIUM, "b"),
            _finding("bandit", "B999", "app/y.py", 9, Severity.INFO, "c"),
        ),
        rules=(rule,),
        notifications=(Notification(NotificationLevel.WARNING, "could not parse", "bad.py"),),
        scope=frozenset({"app/x.py", "app/y.py"}),
    )
    failed = ScannerResult(
        ToolName("pip-audit"),
        "2.10.1",
        ScannerStatus.TIMEOUT,
        3.0,
        None,
        reason="pip-audit timed out after 3 s; raise [scanners.pip-audit] timeout",
    )
    skipped = ScannerResult(
        ToolName("detect-secrets"), "1.5.0", ScannerStatus.SKIPPED, 0.0, None, reason="no files"
    )
    return ScanRun(
        RunId("20261126T020000Z-abcd1234"), str(tmp_path), tmp_path.name, T0, T0, (ok, failed, skipped)
    )


def test_one_run_per_tool_with_stable_categories(tmp_path: Path) -> None:
    sarif = build_sarif(_run(tmp_path), load_policy())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    names = [r["tool"]["driver"]["name"] for r in sarif["runs"]]
    assert names == ["bandit", "pip-audit", "detect-secrets"]
    categories = [r["automationDetails"]["id"].rsplit("/", 1)[0] for r in sarif["runs"]]
    assert categories == ["secscan/bandit", "secscan/pip-audit", "secscan/detect-secrets"]


def test_rules_and_results_carry_what_github_needs(tmp_path: Path) -> None:
    run = build_sarif(_run(tmp_path), load_policy())["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for rule in rules.values():
        for key in ("shortDescription", "fullDescription", "help"):
            assert rule[key]["text"]
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
    # worst severity of the rule's results wins
    assert rules["B602"]["properties"]["security-severity"] == "8.0"
    for result in run["results"]:
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not loc["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert loc["region"]["startLine"] >= 1
        assert set(result["partialFingerprints"]) == {"secscan/v1", "primaryLocationLineHash"}
        assert "snippet" not in json.dumps(result)
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_failed_tool_says_so(tmp_path: Path) -> None:
    runs = build_sarif(_run(tmp_path), load_policy())["runs"]
    timeout = runs[1]["invocations"][0]
    assert timeout["executionSuccessful"] is False
    assert "timed out" in timeout["toolExecutionNotifications"][0]["message"]["text"]
    assert runs[0]["invocations"][0]["executionSuccessful"] is True
    assert runs[1]["results"] == []


def test_baseline_states(tmp_path: Path) -> None:
    sarif = build_sarif(_run(tmp_path), load_policy(), baseline={"a" * 64: "unchanged"})
    states = [r["baselineState"] for r in sarif["runs"][0]["results"]]
    assert states == ["unchanged", "new", "new"]


def test_schema_and_github_rules(tmp_path: Path, sarif_validator: Any, multitool: Path) -> None:
    sarif = build_sarif(_run(tmp_path), load_policy())
    assert schema_errors(sarif_validator, sarif) == []
    path = tmp_path / "out.sarif"
    path.write_text(json.dumps(sarif))
    assert multitool_errors(multitool, path, tmp_path) == []


def test_multitool_check_catches_what_bandit_itself_emits(tmp_path: Path, multitool: Path) -> None:
    """The GitHub-rule check is not vacuous: bandit's own SARIF shape fails it."""
    bandit_like = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "Bandit", "rules": [{"id": "B602", "name": "x"}]}},
                "results": [
                    {
                        "ruleId": "B602",
                        "message": {"text": "subprocess call with shell=True"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app.py"},
                                    "region": {"startLine": 9},
                                }
                            }
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "bandit.sarif"
    path.write_text(json.dumps(bandit_like))
    errors = multitool_errors(multitool, path, tmp_path)
    assert errors, "bandit's SARIF should break GitHub's ingestion rules"
