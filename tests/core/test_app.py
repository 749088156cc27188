from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from secscan.app.document import json_document, scrub
from secscan.app.run import exit_code_for
from secscan.config.policy import load_policy
from secscan.core.errors import ExitCode
from secscan.core.model import (
    Finding,
    Location,
    Rule,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.core.redact import Redactor
from secscan.report.sarif import build_sarif

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def _run(*statuses: ScannerStatus, severity: Severity = Severity.MEDIUM) -> ScanRun:
    finding = Finding(
        ToolName("detect-secrets"),
        "Secret Keyword",
        "value 'secret' in settings.py",
        Location("settings.py", 3),
        severity,
        fingerprint="f" * 64,
    )
    rule = Rule("Secret Keyword", "SecretKeyword", "a secret", "a secret in code", "rotate the secret")
    scanners = tuple(
        ScannerResult(
            ToolName(name),
            "1",
            status,
            1.0,
            0,
            findings=(finding,) if i == 0 else (),
            rules=(rule,) if i == 0 else (),
        )
        for i, (name, status) in enumerate(zip(("detect-secrets", "bandit"), statuses, strict=False))
    )
    return ScanRun(RunId("r1"), "/repo", "repo", T0, T0, scanners)


def test_scrub_rewrites_free_text_but_never_identifiers(tmp_path: Path) -> None:
    run = _run(ScannerStatus.OK, ScannerStatus.OK)
    redactor = Redactor({"secret"})
    doc = scrub(json_document(run, None), redactor)
    assert [s["name"] for s in doc["scanners"]] == ["detect-secrets", "bandit"]
    finding = doc["findings"][0]
    assert finding["tool"] == "detect-secrets" and finding["rule"] == "Secret Keyword"
    assert finding["message"] == "value '[REDACTED]' in settings.py"
    sarif = scrub(build_sarif(run, load_policy()), redactor)
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "detect-secrets" and driver["rules"][0]["id"] == "Secret Keyword"
    # the tool's own texts are never rewritten for a word they share with a secret
    assert driver["rules"][0]["help"]["text"] == "rotate the secret"
    assert driver["rules"][0]["shortDescription"]["text"] == "a secret"
    assert sarif["runs"][0]["results"][0]["message"]["text"] == "value '[REDACTED]' in settings.py"


def test_scrub_still_removes_token_like_values_from_the_tools_texts() -> None:
    run = _run(ScannerStatus.OK, ScannerStatus.OK)
    sarif = scrub(build_sarif(run, load_policy()), Redactor({"the secret"}))
    assert "the secret" not in json.dumps(sarif)


def test_exit_codes() -> None:
    assert exit_code_for(_run(ScannerStatus.OK, ScannerStatus.OK), Severity.HIGH) is ExitCode.OK
    assert exit_code_for(_run(ScannerStatus.OK, ScannerStatus.OK), Severity.MEDIUM) is ExitCode.FINDINGS
    assert exit_code_for(_run(ScannerStatus.OK, ScannerStatus.OK), None) is ExitCode.OK
    assert exit_code_for(_run(ScannerStatus.OK, ScannerStatus.SKIPPED), Severity.HIGH) is ExitCode.OK
    # an incomplete scan wins over findings: it must never look clean
    assert (
        exit_code_for(_run(ScannerStatus.OK, ScannerStatus.TIMEOUT), Severity.MEDIUM)
        is ExitCode.SCANNER_FAILED
    )
    assert exit_code_for(_run(ScannerStatus.OK, ScannerStatus.FAILED), None) is ExitCode.SCANNER_FAILED


def _scrub_reference(value: object, r: Redactor, free_text: bool = False, tool_text: bool = False) -> object:
    """scrub as first written (one recursive call per node): the rules the faster one keeps."""
    if isinstance(value, str):
        return (r.rule_text(value) if tool_text else r.text(value)) if free_text else value
    if isinstance(value, list):
        return [_scrub_reference(v, r, free_text, tool_text) for v in value]
    if isinstance(value, dict):
        free = {"text", "markdown", "message", "reason"}
        return {k: _scrub_reference(v, r, k in free, tool_text or k == "tool") for k, v in value.items()}
    return value


_KEYS = st.sampled_from(["text", "markdown", "message", "reason", "tool", "id", "name", "rules"])
_LEAVES = st.one_of(st.sampled_from(["a secret", "the secret", "secret", "x"]), st.integers(), st.none())
_TREES = st.recursive(
    _LEAVES, lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(_KEYS, c, max_size=4)), max_leaves=9
)


@given(_TREES)
def test_scrub_gives_what_the_node_by_node_definition_gives(tree: object) -> None:
    redactor = Redactor({"secret", "the secret"})
    assert scrub(tree, redactor) == _scrub_reference(tree, redactor)
