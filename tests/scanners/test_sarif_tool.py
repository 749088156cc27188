"""The generic SARIF-tool adapter, with a tiny Python script standing in for semgrep & co."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from secscan.config.policy import load_policy
from secscan.core.errors import ConfigError, ScannerError
from secscan.core.model import Severity, ToolName
from secscan.scanners.interface import Command, CommandResult, ScanJob
from secscan.scanners.sarif_tool import SarifToolScanner

TOOL = Path(__file__).resolve().parents[1] / "assets" / "sarif" / "fake_tool.py"
FILES = ("app.py", "-dash.py", "pkg/mod.py")


@pytest.fixture
def job(tmp_path: Path) -> ScanJob:
    root = tmp_path / "target"
    for rel in (*FILES, "vendor/ignored.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    (tmp_path / "work").mkdir()
    return ScanJob(root=root, files=FILES, workdir=tmp_path / "work", policy=load_policy())


def _scanner(*extra: str, output: Any = "file", **kw: Any) -> SarifToolScanner:
    out = ("--stdout",) if output == "stdout" else ("--output", "{output}")
    command = (sys.executable, str(TOOL), *out, "--target", "{target}", *extra, "{files}")
    return SarifToolScanner(ToolName("faketool"), command, output=output, **kw)


def _run(commands: Sequence[Command]) -> list[CommandResult]:
    results = []
    for command in commands:
        with command.stdout_path.open("wb") as out:
            done = subprocess.run(
                command.argv, cwd=command.cwd, stdout=out, stderr=subprocess.PIPE, timeout=60, check=False
            )
        results.append(CommandResult(command, done.returncode, 0.0, done.stderr.decode()[-2000:]))
    return results


@pytest.mark.parametrize("output", ["file", "stdout"])
def test_tool_output_becomes_findings(job: ScanJob, output: str) -> None:
    scanner = _scanner(output=output)
    plan = scanner.plan(job)
    [command] = plan.commands
    assert command.cwd == job.root
    assert command.argv[-3:] == ("app.py", "./-dash.py", "pkg/mod.py")
    assert str(job.root.absolute()) in command.argv
    results = _run(plan.commands)
    assert results[0].exit_code == 1 and scanner.exit_ok(1), results[0].stderr_tail
    out = scanner.parse(job, results)
    assert sorted(f.location.path for f in out.findings) == ["-dash.py", "app.py", "pkg/mod.py"]
    assert all(
        f.tool == "faketool" and f.rule_id == "FT001" and f.severity is Severity.HIGH for f in out.findings
    )
    assert "(cwd target)" in out.findings[0].message  # ran inside the target
    assert [r.id for r in out.rules] == ["FT001"]
    assert out.scope == frozenset(FILES)  # vendor/ignored.py is reported by the tool but not a job file


def test_redaction_option_is_applied(job: ScanJob) -> None:
    from dataclasses import replace

    scanner = _scanner()
    job = replace(job, options={"redact": lambda text: text.replace("finding", "[X]")})
    out = scanner.parse(job, _run(scanner.plan(job).commands))
    assert all(f.message.startswith("[X] in ") for f in out.findings)


def test_exit_codes_and_extra_args(job: ScanJob) -> None:
    from dataclasses import replace

    scanner = _scanner(ok_exit_codes=frozenset({0}))
    assert (scanner.exit_ok(0), scanner.exit_ok(1)) == (True, False)
    plan = scanner.plan(replace(job, args=("--exit", "0")))
    assert plan.commands[0].argv[-2:] == ("--exit", "0")
    assert _run(plan.commands)[0].exit_code == 0


def test_invalid_sarif_is_a_scanner_error(job: ScanJob) -> None:
    scanner = _scanner("--garbage")
    with pytest.raises(ScannerError, match=r"faketool output faketool\.sarif: SARIF log is not valid JSON"):
        scanner.parse(job, _run(scanner.plan(job).commands))


def test_missing_output_is_a_scanner_error(job: ScanJob) -> None:
    with pytest.raises(ScannerError, match="wrote no readable SARIF"):
        _scanner().parse(job, [])


def test_missing_executable_is_reported_with_a_fix(job: ScanJob) -> None:
    scanner = SarifToolScanner(
        ToolName("semgrep"), ("semgrep-not-installed-here", "--sarif", "-o", "{output}")
    )
    with pytest.raises(ScannerError) as info:
        scanner.plan(job)
    assert str(info.value) == (
        "semgrep-not-installed-here is not installed or not on PATH; install it or disable [scanners.semgrep]"
    )


def test_no_files_skips(job: ScanJob) -> None:
    from dataclasses import replace

    plan = _scanner().plan(replace(job, files=()))
    assert plan.commands == () and plan.skip_reason == "no files to scan"


@pytest.mark.parametrize(
    ("command", "output", "match"),
    [
        ((), "file", "command is empty"),
        (("tool", "--files={files}", "{output}"), "file", "whole argument"),
        (("tool", "{files}"), "file", "needs an '{output}' placeholder"),
    ],
)
def test_bad_configuration(command: tuple[str, ...], output: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        SarifToolScanner(ToolName("t"), command, output=output)


def test_each_instance_has_its_own_name_and_version() -> None:
    a = SarifToolScanner(
        ToolName("a"),
        ("a", "{files}"),
        output="stdout",
        file_local=True,
        version_command=(sys.executable, "-c", "print('tool 1.2.3')"),
    )
    b = SarifToolScanner(ToolName("b"), ("b", "{files}"), output="stdout")
    assert (a.name, a.file_local, b.name, b.file_local) == ("a", True, "b", False)
    assert (a.version(), b.version()) == ("tool 1.2.3", "unknown")


def test_a_banner_before_the_log_on_stdout_is_skipped(job: ScanJob) -> None:
    scanner = _scanner("--banner", output="stdout")
    results = _run(scanner.plan(job).commands)
    assert results[0].command.stdout_path.read_text().startswith("  _____")  # the banner is there
    out = scanner.parse(job, results)
    assert sorted(f.location.path for f in out.findings) == ["-dash.py", "app.py", "pkg/mod.py"]


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_after_banner_finds_the_log_across_chunks(size: int) -> None:
    from secscan.scanners.sarif_tool import after_banner

    text = b'checkov 3.2 {banner}\n\n  {"version": "2.1.0"}\n'
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    assert b"".join(after_banner(chunks)) == b'  {"version": "2.1.0"}\n'
    assert b"".join(after_banner([b"no json at all"])) == b"no json at all"  # the reader reports it


def test_workdir_placeholder_is_the_scanners_own_folder(job: ScanJob) -> None:
    scanner = _scanner("--scratch", "{workdir}")
    [command] = scanner.plan(job).commands
    assert str(job.workdir.absolute()) in command.argv
    assert _run([command])[0].exit_code == 1
    assert (job.workdir / "scratch.txt").read_text() == "used\n"


def test_version_comes_from_the_log_without_a_version_command(job: ScanJob) -> None:
    scanner = _scanner()
    assert scanner.version() == "unknown"
    assert scanner.parse(job, _run(scanner.plan(job).commands)).version == "0.1"  # driver.version


def test_the_runner_records_the_version_the_log_states(job: ScanJob) -> None:
    from secscan.scanners.runner import run_scanner

    stated = run_scanner(_scanner(), job, 60)
    asked = run_scanner(_scanner(version_command=(sys.executable, "-c", "print('fake 9.9')")), job, 60)
    assert (stated.version, asked.version) == ("0.1", "fake 9.9")  # a version_command wins
