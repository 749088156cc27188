"""``--format sarif`` and ``-o -``: the SARIF log (or the report) on stdout, never a file named ``-``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_helpers import secscan, small_repo


def _sarif(text: str) -> dict[str, object]:
    log = json.loads(text)
    assert log["version"] == "2.1.0" and log["runs"], text[:200]
    return log  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "sarif"),
        ("-o", "-"),
        ("--output", "-"),
        ("--sarif", "-"),
        ("--format", "sarif", "-o", "-"),
    ],
)
def test_sarif_on_stdout(tmp_path: Path, args: tuple[str, ...]) -> None:
    repo = small_repo(tmp_path / "repo")
    proc = secscan("run", repo, "--scanner", "bandit", *args, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # the exit code still follows --fail-on
    log = _sarif(proc.stdout)
    rules = {r["ruleId"] for run in log["runs"] for r in run["results"]}  # type: ignore[index, union-attr]
    assert "B602" in rules
    assert not (tmp_path / "-").exists() and not (tmp_path / "secscan.sarif").exists()
    assert "bandit: ok" in proc.stderr  # progress stays on stderr


def test_format_sarif_with_an_output_file_writes_both(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    out = tmp_path / "out.sarif"
    proc = secscan("run", repo, "--scanner", "bandit", "--format", "sarif", "-o", out, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert _sarif(proc.stdout) == _sarif(out.read_text())


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_two_things_on_stdout_is_a_usage_error(tmp_path: Path, fmt: str) -> None:
    proc = secscan("run", small_repo(tmp_path / "repo"), "--format", fmt, "-o", "-", cwd=tmp_path)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert "stdout" in line
    assert not (tmp_path / "-").exists()


def test_report_short_output_option_and_stdout(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    assert (
        secscan("run", repo, "--scanner", "bandit", "-o", tmp_path / "r.sarif", cwd=tmp_path).returncode == 1
    )
    proc = secscan("report", "--format", "json", "-o", "-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)
    assert not (tmp_path / "-").exists()
    written = secscan("report", "--format", "md", "-o", tmp_path / "r.md", cwd=tmp_path)
    assert written.returncode == 0 and (tmp_path / "r.md").read_text().strip()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("argv", [["--version"], ["completion", "bash"], ["findings", "--format", "json"]])
def test_a_full_output_device_is_one_line_exit_2(tmp_path: Path, argv: list[str]) -> None:
    import subprocess
    import sys

    extra = ["--db", str(tmp_path / "none.db")] if argv[0] == "findings" else []
    if extra:  # an empty database: the JSON document still has to be written
        subprocess.run([sys.executable, "-m", "secscan", "db", "migrate", *extra], check=True, capture_output=True)
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "secscan", *argv, *extra], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "secscan: error: cannot write the output (No space left on device); free space and run again"
    ]


def test_a_reader_that_stops_early_ends_the_command_like_sigpipe_never_with_0() -> None:
    import subprocess
    import sys

    command = subprocess.Popen([sys.executable, "-m", "secscan", "completion", "bash"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()  # the script is larger than a pipe's buffer
    assert command.stderr.read() == b""
    assert command.wait(timeout=60) == 141
