"""What the command prints fits the terminal: tables keep their severity and tool columns at 80
columns, ``COLUMNS`` is honoured off a terminal, and a scanner's progress line never wraps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.cli_helpers import secscan, small_repo


def _row(stdout: str, rule: str) -> str:
    rows = [line for line in stdout.splitlines() if rule in line]
    assert rows, stdout
    return rows[0]


@pytest.mark.parametrize("columns", [80, 100])
def test_run_table_fits_and_keeps_severity_and_tool(tmp_path: Path, columns: int) -> None:
    repo = small_repo(tmp_path / "repo")
    proc = secscan("run", repo, "--scanner", "bandit", cwd=tmp_path, env={"COLUMNS": str(columns)})
    assert proc.returncode == 1, proc.stderr
    assert max(map(len, proc.stdout.splitlines())) <= columns, proc.stdout
    row = _row(proc.stdout, "B602")
    assert re.search(r"\bhigh\b", row) and re.search(r"\bbandit\b", row), proc.stdout


def test_findings_table_keeps_severity_and_tool_at_80_columns(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    secscan("run", repo, "--scanner", "bandit", cwd=tmp_path)
    for command in (("findings",), ("sla",)):
        proc = secscan(*command, cwd=tmp_path, env={"COLUMNS": "80"})
        assert proc.returncode == 0, proc.stderr
        assert max(map(len, proc.stdout.splitlines())) <= 80, proc.stdout
        row = _row(proc.stdout, "B602")
        assert re.search(r"\bhigh\b", row) and re.search(r"\bbandit\b", row), proc.stdout


def test_without_columns_off_a_terminal_tables_are_wide(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    (repo / ("long_" + "x" * 60 + ".py")).write_text("import subprocess\nsubprocess.call('x', shell=True)\n")
    proc = secscan("run", repo, "--scanner", "bandit", cwd=tmp_path)
    assert 80 < max(map(len, proc.stdout.splitlines())) <= 160, proc.stdout


def test_a_scanner_line_on_stderr_does_not_wrap(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    config = tmp_path / "c.toml"
    missing = "a-tool-that-is-not-installed-anywhere"
    config.write_text(f'[scanners.ghost]\ncommand = ["{missing}", "{{files}}"]\noutput = "stdout"\n')
    proc = secscan("run", repo, "--config", config, "--scanner", "ghost", cwd=tmp_path, env={"COLUMNS": "80"})
    assert proc.returncode == 3
    [line] = [line for line in proc.stderr.splitlines() if line.startswith("ghost: failed")]
    assert len(line) > 80 and line.endswith("disable [scanners.ghost]"), proc.stderr


def test_json_is_never_wrapped(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    proc = secscan(
        "run", repo, "--scanner", "bandit", "--format", "json", cwd=tmp_path, env={"COLUMNS": "40"}
    )
    assert json.loads(proc.stdout)["findings"]  # one object, whatever the width
