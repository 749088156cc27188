"""Upload preparation: one file per tool category, failed tools left out, GitHub's limits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from github_fakes import BANDIT, PIP_AUDIT, SECRETS, T0, finding, scan, scanner

from secscan.config.policy import load_policy
from secscan.core.model import Finding, ScannerStatus, Severity
from secscan.delivery.github.prepare import Limits, category_of, decode, prepare, prepare_run
from secscan.report.sarif import build_sarif
from tests.conftest import schema_errors

SEVERITIES = [Severity.LOW, Severity.CRITICAL, Severity.MEDIUM, Severity.HIGH, Severity.INFO, Severity.HIGH]


def _log(
    root: Path,
    findings: list[Finding],
    *,
    failed: ScannerStatus | None = None,
    absent: Sequence[Finding] = (),
) -> dict[str, Any]:
    scanners = (
        scanner(BANDIT, findings),
        scanner(SECRETS, []),  # ok, nothing found: must still be uploaded so its alerts close
        scanner(PIP_AUDIT, [], failed or ScannerStatus.OK),
    )
    baseline = {f.fingerprint: "unchanged" for f in findings}
    return build_sarif(scan(root, scanners, "20260105T020000Z-00000001", T0), load_policy(), baseline, absent)


def _bandit(n: int) -> list[Finding]:
    return [
        finding(BANDIT, f"B{600 + i % 7}", f"src/m{i % 5}.py", 1 + i, SEVERITIES[i % 6], i) for i in range(n)
    ]


def test_one_valid_file_per_tool_that_finished_ok(tmp_path: Path, sarif_validator: Any) -> None:
    sarif = _log(tmp_path, _bandit(6), failed=ScannerStatus.TIMEOUT)
    uploads = prepare(sarif, {"bandit", "detect-secrets"})
    assert [u.category for u in uploads] == ["secscan/bandit", "secscan/detect-secrets"]
    for upload in uploads:
        document = decode(upload.sarif)
        assert schema_errors(sarif_validator, document) == []
        assert len(document["runs"]) == 1
        run = document["runs"][0]
        assert run["tool"]["driver"]["name"] == upload.tool
        assert category_of(run, upload.tool) == upload.category
        assert len(run["results"]) == upload.results
    assert uploads[0].results == 6 and uploads[1].results == 0  # an empty ok run is still sent


def test_a_failed_or_timed_out_tool_is_never_prepared(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sarif = _log(tmp_path, _bandit(2), failed=ScannerStatus.FAILED)
    with caplog.at_level(logging.INFO):
        uploads = prepare(sarif, {"bandit", "detect-secrets"})  # pip-audit failed: not in the ok set
    assert "pip-audit" not in {u.tool for u in uploads}
    assert "not uploading pip-audit" in caplog.text


def test_absent_results_are_dropped_and_not_counted_as_truncation(tmp_path: Path) -> None:
    gone = finding(BANDIT, "B101", "src/old.py", 3, Severity.HIGH, 99)
    sarif = _log(tmp_path, _bandit(3), absent=[gone])
    assert any(r.get("baselineState") == "absent" for r in sarif["runs"][0]["results"])
    (upload,) = prepare(sarif, {"bandit"})
    results = decode(upload.sarif)["runs"][0]["results"]
    assert len(results) == 3 and upload.dropped_results == 0
    assert all(r.get("baselineState") != "absent" for r in results)


def test_results_over_the_limit_are_truncated_worst_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    findings = _bandit(12)
    sarif = _log(tmp_path, findings)
    with caplog.at_level(logging.WARNING):
        (upload,) = prepare(sarif, {"bandit"}, limits=Limits(max_results=5))
    kept = decode(upload.sarif)["runs"][0]["results"]
    assert upload.results == 5 and upload.dropped_results == 7
    ranks = sorted((f.severity.rank for f in findings), reverse=True)
    assert sorted((_sev(r).rank for r in kept), reverse=True) == ranks[:5]
    assert "dropped 7 of 12 results" in caplog.text


def _sev(result: dict[str, Any]) -> Severity:
    return Severity(result["properties"]["severity"])


def test_rules_follow_the_kept_results_and_rule_indexes_stay_valid(tmp_path: Path) -> None:
    (upload,) = prepare(_log(tmp_path, _bandit(14)), {"bandit"}, limits=Limits(max_results=2))
    run = decode(upload.sarif)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == {r["ruleId"] for r in run["results"]}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_the_gzip_size_limit_truncates_until_the_file_fits(tmp_path: Path) -> None:
    sarif = _log(tmp_path, _bandit(400))
    (full,) = prepare(sarif, {"bandit"})
    (cut,) = prepare(sarif, {"bandit"}, limits=Limits(max_gzip_bytes=full.gzip_bytes // 3))
    assert cut.gzip_bytes <= full.gzip_bytes // 3
    assert cut.dropped_results > 0 and cut.results + cut.dropped_results == 400


def test_locations_per_result_are_capped(tmp_path: Path) -> None:
    sarif = _log(tmp_path, _bandit(1))
    result = sarif["runs"][0]["results"][0]
    result["locations"] = result["locations"] * 7
    upload = prepare_run(sarif["runs"][0], limits=Limits(max_locations=3))
    assert len(decode(upload.sarif)["runs"][0]["results"][0]["locations"]) == 3
    assert upload.dropped_locations == 4


def test_messages_end_with_the_secscan_id_for_alert_matching(tmp_path: Path) -> None:
    findings = _bandit(2)
    (upload,) = prepare(_log(tmp_path, findings), {"bandit"})
    texts = {r["message"]["text"] for r in decode(upload.sarif)["runs"][0]["results"]}
    assert all(any(t.endswith(f"(secscan id {f.id})") for t in texts) for f in findings)


def test_a_target_below_the_repository_root_gets_prefixed_paths_and_its_own_category(tmp_path: Path) -> None:
    (upload,) = prepare(_log(tmp_path, _bandit(1)), {"bandit"}, subdir="services/api", root_uri="file:///r/")
    run = decode(upload.sarif)["runs"][0]
    assert upload.category == "secscan/bandit/services/api"
    assert run["automationDetails"]["id"].startswith("secscan/bandit/services/api/")
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(
        "services/api/src/"
    )
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///r/"


def test_categories_are_stable_across_runs(tmp_path: Path) -> None:
    first = prepare(_log(tmp_path, _bandit(1)), {"bandit", "detect-secrets"})
    later = build_sarif(
        scan(tmp_path, (scanner(BANDIT, _bandit(3)), scanner(SECRETS, [])), "20270101T000000Z-ffffffff", T0),
        load_policy(),
    )
    assert [u.category for u in first] == [u.category for u in prepare(later, {"bandit", "detect-secrets"})]
