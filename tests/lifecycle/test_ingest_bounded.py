"""``secscan ingest`` of logs over the per-run result cap: incomplete, and nothing closed.

Issue 13: with more results than the cap, ingest read the first ones, reported the run complete
and closed findings that were still present (300k results re-ingested in reverse order gave
"new 54963, fixed 54963"). The cap is lowered here so the logs stay small; the memory bound of
the streaming reader is measured in ``benchmarks/bench_ingest_memory.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lifecycle_helpers import result, run_cli, sarif_doc, sarif_run, write_sarif

from secscan.app import ingest, ingest_log
from secscan.config.policy import load_policy
from secscan.scanners import sarif_input

CAP = 10
T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif_input, "MAX_RESULTS_PER_RUN", CAP)
    monkeypatch.setattr(ingest, "MAX_RESULTS_PER_RUN", CAP, raising=False)


def _ingest(tmp_path: Path, name: str, results: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    path = write_sarif(tmp_path / name, sarif_doc(sarif_run("semgrep", results)))
    done = run_cli("ingest", path, "--target", "app", "--db", tmp_path / "db.sqlite", "--format", "json")
    return done.code, json.loads(done.out)


def test_a_log_over_the_cap_is_incomplete_and_closes_no_finding_still_present(tmp_path: Path) -> None:
    results = [result("r1", f"src/f{i:02d}.py", 1) for i in range(3 * CAP)]
    code, first = _ingest(tmp_path, "first.sarif", results)
    assert code == 3  # an incomplete tool fails the command, like a failed one
    [tool] = first["scanners"]
    assert tool["status"] == "incomplete" and f"first {CAP} of {3 * CAP} results" in tool["reason"]
    assert first["status"] == "partial" and len(first["new"]) == CAP

    code, again = _ingest(tmp_path, "reversed.sarif", results[::-1])  # every finding is still present
    assert code == 3
    assert len(again["new"]) == CAP and again["fixed"] == [], again  # before: 10 new, 10 fixed

    listed = run_cli("findings", "--db", tmp_path / "db.sqlite", "--target", "app", "--format", "json")
    assert {f["state"] for f in json.loads(listed.out)["findings"]} == {"new"}


def test_a_log_at_the_cap_is_complete_and_closes_what_is_gone(tmp_path: Path) -> None:
    results = [result("r1", f"src/f{i:02d}.py", 1) for i in range(CAP)]
    assert _ingest(tmp_path, "first.sarif", results)[0] == 0
    code, again = _ingest(tmp_path, "second.sarif", results[1:])
    assert code == 0 and len(again["fixed"]) == 1 and again["status"] == "complete"


def test_results_before_the_tool_object_read_the_same(tmp_path: Path) -> None:
    results = [result("r1", "a.py", 3, level="error"), result("r2", "b.py", 1)]
    usual = sarif_run("semgrep", results)
    reordered = {"results": usual["results"], **{k: v for k, v in usual.items() if k != "results"}}
    assert next(iter(reordered)) == "results"
    parsed = []
    for name, run in (("usual.sarif", usual), ("reordered.sarif", reordered)):
        path = write_sarif(tmp_path / name, sarif_doc(run))
        built = ingest.build_run(ingest.IngestRequest(path, "app"), T0, load_policy())
        parsed.append([(f.rule_id, f.location, f.severity, f.fingerprint) for f in built.findings])
    assert parsed[0] == parsed[1] and len(parsed[0]) == 2


@pytest.mark.parametrize("chunk", [7, 1024 * 1024])  # 7: the word "snippet" straddles two chunks
def test_a_secret_a_later_run_points_at_is_redacted_in_an_earlier_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(ingest_log, "_CHUNK", chunk)
    secret = "zq9XcanaryValue77"
    early = sarif_run("semgrep", [result("r1", "a.py", 1, message=f"token {secret} in config")])
    late = sarif_run("gitleaks", [result("g1", "b.py", 2, message=f"found {secret}", snippet=secret)])
    path = write_sarif(tmp_path / "log.sarif", sarif_doc(early, late))
    built = ingest.build_run(ingest.IngestRequest(path, "app"), T0, load_policy())
    assert [f.message for f in built.findings] == ["token [REDACTED] in config", "found [REDACTED]"]
