"""Terminal escapes and control characters from a scanned repository never reach a terminal or
a log line raw: tables, progress lines, ``secscan status``, text and JSON logs (issue 13).

They are escaped, not dropped, so two different names stay two different texts.
"""

from __future__ import annotations

import io
import json
import logging
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from secscan.app.lifecycle import FindingDetail, FindingRow, SlaView
from secscan.app.tracking import record_run
from secscan.cli import console, lifecycle_console
from secscan.cli.main import main
from secscan.config.policy import load_sla_policy
from secscan.core.model import (
    Finding,
    FindingState,
    Location,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.core.ports.store import HistoryEntry, HistoryEvent, TrackedFinding
from secscan.core.sla import SlaClock, SlaStatus
from secscan.daemon.logfmt import formatter
from secscan.store import open_store

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
EVIL = os.fsdecode(b"src/evil\x1b[2J\x1b]0;owned\x07[bold red]x\xff\xc2\x9b\n") + "\u202e.py"
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\udcff")


def _clean(text: str) -> None:
    """No control character but the output's own line breaks."""
    assert not any(c in text for c in CONTROLS), repr(text)


def _finding() -> Finding:
    return Finding(
        ToolName("bandit"), "B602", f"call in {EVIL}", Location(EVIL, 2), Severity.HIGH, fingerprint="a" * 64
    )


def _run(status: ScannerStatus = ScannerStatus.OK, reason: str | None = None) -> ScanRun:
    result = ScannerResult(ToolName("bandit"), "1", status, 1.0, 1, findings=(_finding(),), reason=reason)
    return ScanRun(RunId("r1"), "/repo", "repo", T0, T0, (result,))


def _console(out: io.StringIO) -> Console:
    return Console(file=out, width=400, color_system=None)


def test_the_summary_tables_escape_names_and_messages() -> None:
    out = io.StringIO()
    console.summary(_run(ScannerStatus.FAILED, f"crashed on {EVIL}"), Path("out.sarif"), _console(out))
    text = out.getvalue()
    _clean(text)
    # escaped, and the markup shown as text
    assert "src/evil\\x1b[2J\\x1b]0;owned\\x07[bold red]x\\xff\\u009b\\x0a" in text


def test_the_progress_line_of_a_ci_log_is_escaped() -> None:
    out = io.StringIO()
    with console.progress(Console(file=out, force_terminal=False, width=400)) as hooks:
        assert hooks.on_done is not None
        hooks.on_done(_run(ScannerStatus.FAILED, f"exited 2: {EVIL}").scanners[0])
    _clean(out.getvalue())
    assert "\\x1b[2J" in out.getvalue()


def test_findings_and_show_tables_escape() -> None:
    clock = SlaClock(T0, None, timedelta(0))
    tracked = TrackedFinding(
        fingerprint="b" * 64, target="repo", tool=ToolName("bandit"), rule_id="B602", path=EVIL, line=2,
        message=f"call in {EVIL}", severity=Severity.HIGH, state=FindingState.NEW, first_seen=T0,
        last_seen=T0, sla=clock,
    )  # fmt: skip
    view = SlaView(SlaStatus.WITHIN, T0 + timedelta(hours=24), False)
    out = io.StringIO()
    lifecycle_console.findings_table([FindingRow(tracked, view)], _console(out), T0)
    _clean(out.getvalue())
    history = (HistoryEntry("b" * 64, T0, HistoryEvent.FIXED, FindingState.NEW, FindingState.FIXED, "secscan",
                            f"bandit finished ok over {EVIL} without it"),)  # fmt: skip
    out = io.StringIO()
    lifecycle_console.finding_detail(FindingDetail(tracked, view, history), _console(out), T0)
    shown = out.getvalue()
    _clean(shown)
    assert "\\x1b[2J" in shown and "\\xff" in shown


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_lines_are_neutralised(log_format: str) -> None:
    record = logging.LogRecord("secscan.x", logging.WARNING, __file__, 1, "cannot read %s", (EVIL,), None)
    line = formatter(log_format).format(record)
    line.encode("utf-8")  # never a raw lone surrogate
    message = json.loads(line)["message"] if log_format == "json" else line
    _clean(message)
    assert "\n" not in line and "src/evil\\x1b[2J" in message


def test_status_output_escapes_target_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A target's name is its folder's name by default, so it comes from outside too."""
    db = tmp_path / "s.db"
    run = _run(ScannerStatus.OK)
    with open_store(db) as store:
        record_run(store, replace(run, target_name="evil\x1b[2J\x9bname"), T0, load_sla_policy())
    config = tmp_path / "d.toml"
    config.write_text(f'[daemon]\ndb = "{db}"\n')
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    _clean(out)
    assert "evil\\x1b[2J\\u009bname" in out
