"""``incomplete``: a scanner that ran but did not analyse all it was given.

It keeps its findings, closes none, makes the run partial and the command exit 3, and says so in
SARIF (``executionSuccessful: false`` with a notification), JSON and the console.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from secscan.app.document import json_document
from secscan.app.run import exit_code_for
from secscan.app.tracking import record_run
from secscan.cli import console
from secscan.config.policy import load_policy, load_sla_policy
from secscan.core.errors import ExitCode
from secscan.core.model import (
    Finding,
    Location,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.core.ports.store import RunStatus
from secscan.report.sarif import build_sarif
from secscan.scanners.interface import CommandResult, Plan, ScanJob, Scanner, ScanOutput
from secscan.scanners.runner import run_scanner
from secscan.store import FindingQuery, open_store

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
TOOL = ToolName("semgrep")
REASON = "only the first 100000 of 300000 results were read"


def _finding(n: int) -> Finding:
    return Finding(TOOL, "R1", f"m{n}", Location(f"f{n}.py", 1), Severity.LOW, fingerprint=f"{n:064x}")


def _run(run_id: str, findings: Sequence[Finding], status: ScannerStatus, at: datetime) -> ScanRun:
    scanner = ScannerResult(
        TOOL, "1", status, 1.0, 0, findings=tuple(findings), scope=frozenset({"."}),
        reason=REASON if status is not ScannerStatus.OK else None,
    )  # fmt: skip
    return ScanRun(RunId(run_id), "/repo", "repo", at, at, (scanner,))


def test_an_incomplete_scanner_closes_nothing_even_with_a_scope(tmp_path: Path) -> None:
    sla, later = load_sla_policy(), T0 + timedelta(hours=1)
    with open_store(tmp_path / "db.sqlite") as store:
        first = record_run(store, _run("r1", [_finding(1), _finding(2)], ScannerStatus.OK, T0), T0, sla)
        assert len(first.new) == 2
        outcome = record_run(store, _run("r2", [_finding(3)], ScannerStatus.INCOMPLETE, later), later, sla)
        assert outcome.fixed == () and len(outcome.new) == 1
        assert outcome.run.status is RunStatus.PARTIAL
        assert [s.status for s in outcome.run.scanners] == ["incomplete"]
        states = {t.path: t.state.value for t in store.list_findings(FindingQuery(target="repo"))}
        assert states == {"f1.py": "new", "f2.py": "new", "f3.py": "new"}


def test_incomplete_exits_3_and_says_so_in_sarif_and_json() -> None:
    run = _run("r1", [_finding(1)], ScannerStatus.INCOMPLETE, T0)
    assert exit_code_for(run, None) is ExitCode.SCANNER_FAILED
    assert not run.complete and ScannerStatus.INCOMPLETE.is_failure
    [sarif_run] = build_sarif(run, load_policy())["runs"]
    [invocation] = sarif_run["invocations"]
    assert invocation["executionSuccessful"] is False
    note = invocation["toolExecutionNotifications"][0]
    assert note["level"] == "error" and note["message"]["text"] == f"semgrep incomplete: {REASON}"
    assert len(sarif_run["results"]) == 1  # its findings are real and kept
    doc = json_document(run, None)
    assert doc["status"] == "incomplete" and doc["scanners"][0]["status"] == "incomplete"
    out = io.StringIO()
    console.summary(run, None, Console(file=out, width=200, color_system=None))
    assert "incomplete" in out.getvalue() and REASON in out.getvalue()


class _Truncating(Scanner):
    """A scanner whose output says it is not a whole analysis (the adapters' way to say so)."""

    name = ToolName("trunc")

    def version(self) -> str:
        return "1"

    def plan(self, job: ScanJob) -> Plan:
        from secscan.scanners.interface import Command

        return Plan((Command((sys.executable, "-c", "pass"), job.root, job.workdir / "out"),))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return ScanOutput((_finding(1),), (), frozenset(job.files), incomplete=REASON)


def test_the_runner_turns_an_incomplete_output_into_an_incomplete_result(tmp_path: Path) -> None:
    job = ScanJob(root=tmp_path, files=("f1.py",), workdir=tmp_path / "work", policy=load_policy())
    result = run_scanner(_Truncating(), job, timeout_s=60)
    assert result.status is ScannerStatus.INCOMPLETE and result.reason == REASON
    assert len(result.findings) == 1 and result.scope == frozenset()


@pytest.mark.parametrize("status", list(ScannerStatus))
def test_every_status_has_a_console_style(status: ScannerStatus) -> None:
    run = _run("r1", [], status, T0)
    console.summary(run, None, Console(file=io.StringIO(), width=200, color_system=None))
