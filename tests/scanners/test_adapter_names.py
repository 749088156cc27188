"""The adapters name their tool without importing their output readers (issue 18), so each name
is written twice: here they are kept equal."""

from __future__ import annotations

from secscan.scanners import _history_report, _lockfile_findings, _semgrep_report, _zizmor_sarif
from secscan.scanners.git_history import GitHistoryScanner
from secscan.scanners.lockfile_audit import LockfileAuditScanner
from secscan.scanners.registry import BUILTIN
from secscan.scanners.semgrep import SemgrepScanner
from secscan.scanners.zizmor import ZizmorScanner


def test_each_adapter_names_its_tool_as_its_output_reader_does() -> None:
    assert LockfileAuditScanner.name == _lockfile_findings.NAME == "lockfile-audit"
    assert ZizmorScanner.name == _zizmor_sarif.NAME == "zizmor"
    assert SemgrepScanner.name == _semgrep_report.NAME == "semgrep"
    assert GitHistoryScanner.name == _history_report.NAME == "git-history"


def test_each_builtin_scanner_is_registered_under_its_own_name() -> None:
    assert {name: cls.name for name, cls in BUILTIN.items()} == {name: name for name in BUILTIN}
