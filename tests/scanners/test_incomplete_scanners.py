"""Scanners that ran but did not analyse all they were given are ``incomplete`` (issue 13).

* pip-audit that audited none of its pins (every pin "not found", the service unreachable) was
  reported ``ok, 0 findings``: "not audited" must never read as "clean".
* a SARIF tool whose log has more results than secscan reads per run: the results left out may
  be findings that are still present, so the tool must close nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from secscan.config.policy import load_policy
from secscan.core.model import ScannerStatus, ToolName
from secscan.scanners import sarif_input, sarif_tool
from secscan.scanners.interface import Command, CommandResult, Plan, ScanJob
from secscan.scanners.pip_audit import PipAuditScanner
from secscan.scanners.runner import run_scanner
from secscan.scanners.sarif_tool import SarifToolScanner

ASSETS = Path(__file__).resolve().parents[1] / "assets"
NOT_FOUND = ASSETS / "pip-audit" / "reports" / "recorded-pypi-not-found.json"
FAKE_TOOL = ASSETS / "sarif" / "fake_tool.py"


class _RecordedPipAudit(PipAuditScanner):
    """pip-audit's real adapter, whose one command copies a recorded report to the output path
    (the service that answered "not found" cannot be summoned on demand)."""

    def plan(self, job: ScanJob) -> Plan:
        real = super().plan(job)
        argv = real.commands[0].argv
        output = argv[argv.index("-o") + 1]
        script = f"import shutil; shutil.copy({str(NOT_FOUND)!r}, {output!r})"
        copy = (sys.executable, "-c", script, "-o", output)
        return Plan((Command(copy, job.workdir, job.workdir / "out"),), notifications=real.notifications)


def _job(root: Path, files: tuple[str, ...], tmp_path: Path) -> ScanJob:
    (tmp_path / "work").mkdir(exist_ok=True)
    return ScanJob(root=root, files=files, workdir=tmp_path / "work", policy=load_policy())


def test_pip_audit_that_audited_nothing_is_incomplete(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.19.0\nflask==0.12\n")
    result = run_scanner(_RecordedPipAudit(), _job(tmp_path, ("requirements.txt",), tmp_path), timeout_s=120)
    assert result.status is ScannerStatus.INCOMPLETE, result.reason
    assert result.reason is not None and "audited none of the 2 pinned requirement(s)" in result.reason
    assert "Dependency not found on PyPI" in result.reason and result.scope == frozenset()
    assert {n.line for n in result.notifications} == {1, 2}  # each pin says why


def test_pip_audit_that_audited_some_pins_is_ok_without_their_files(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.19.0\n")
    (tmp_path / "requirements-dev.txt").write_text("attrs==23.1.0\n")
    job = _job(tmp_path, ("requirements.txt", "requirements-dev.txt"), tmp_path)
    report = json.loads(NOT_FOUND.read_text())
    report["dependencies"] = [report["dependencies"][0], {"name": "attrs", "version": "23.1.0", "vulns": []}]
    output_path = job.workdir / "pip-audit-0.json"
    output_path.write_text(json.dumps(report))
    command = Command(("pip-audit", "-o", str(output_path)), tmp_path, tmp_path / "stdout")
    output = PipAuditScanner().parse(job, [CommandResult(command, 0, 0.0, "")])
    assert output.incomplete is None and output.scope == frozenset({"requirements-dev.txt"})


@pytest.fixture
def tool_job(tmp_path: Path) -> ScanJob:
    root = tmp_path / "target"
    root.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (root / name).write_text("x = 1\n")
    return _job(root, ("a.py", "b.py", "c.py"), tmp_path)


def _fake_tool() -> SarifToolScanner:
    command = (sys.executable, str(FAKE_TOOL), "--output", "{output}", "--target", "{target}", "{files}")
    return SarifToolScanner(ToolName("faketool"), command)


def test_a_sarif_tool_over_the_result_cap_is_incomplete(
    tool_job: ScanJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sarif_input, "MAX_RESULTS_PER_RUN", 2)
    monkeypatch.setattr(sarif_tool, "MAX_RESULTS_PER_RUN", 2, raising=False)
    result = run_scanner(_fake_tool(), tool_job, timeout_s=60)  # the tool reports 4 results
    assert result.status is ScannerStatus.INCOMPLETE, result.reason
    assert result.reason is not None and "first 2 of 4 results" in result.reason
    assert result.scope == frozenset() and len(result.findings) == 2


def test_a_sarif_tool_within_the_cap_is_ok(tool_job: ScanJob) -> None:
    result = run_scanner(_fake_tool(), tool_job, timeout_s=60)
    assert result.status is ScannerStatus.OK and result.scope == frozenset({"a.py", "b.py", "c.py"})


def test_pip_audit_with_its_service_unreachable_closes_nothing(tmp_path: Path) -> None:
    """The real pip-audit against a loopback port where nothing listens: never ``ok``."""
    import socket

    with socket.socket() as sock:  # a free port, closed again: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "requirements.txt").write_text("requests==2.19.0\nflask==0.12\n")
    job = _job(tmp_path, ("requirements.txt",), tmp_path)
    job = ScanJob(root=job.root, files=job.files, workdir=job.workdir, policy=job.policy,
                  osv_url=f"http://127.0.0.1:{port}/v1/query")  # fmt: skip
    result = run_scanner(PipAuditScanner(), job, timeout_s=120)
    assert result.status in (ScannerStatus.INCOMPLETE, ScannerStatus.FAILED), result.status
    assert result.status is not ScannerStatus.OK and not result.findings
    assert result.scope == frozenset(), "an unaudited requirement file must not count as scanned"
