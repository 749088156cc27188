"""``-q/--quiet``, ``-V`` and ``secscan completion SHELL``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import secscan as package
from tests.cli.cli_helpers import secscan, small_repo


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(tmp_path: Path, flag: str) -> None:
    proc = secscan(flag, cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"secscan {package.__version__}"


@pytest.mark.parametrize("flag", ["-q", "--quiet"])
def test_quiet_prints_nothing_but_the_exit_code_tells(tmp_path: Path, flag: str) -> None:
    repo = small_repo(tmp_path / "repo")
    proc = secscan("run", repo, "--scanner", "bandit", flag, cwd=tmp_path)
    assert proc.returncode == 1
    assert (proc.stdout, proc.stderr) == ("", "")
    assert (tmp_path / "secscan.sarif").is_file()
    asked = secscan("run", repo, "--scanner", "bandit", flag, "--format", "json", cwd=tmp_path)
    assert json.loads(asked.stdout)["findings"] and asked.stderr == ""  # what --format asks for stays


def test_quiet_still_prints_errors(tmp_path: Path) -> None:
    proc = secscan("run", tmp_path / "missing", "-q", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("secscan: error:")


def test_quiet_and_verbose_together_is_a_usage_error(tmp_path: Path) -> None:
    proc = secscan("run", tmp_path, "-q", "-v", cwd=tmp_path)
    assert proc.returncode == 2 and "quiet" in proc.stderr


def _bash_complete(script: str, line: str) -> list[str]:
    """What bash completes for ``line`` (the cursor at its end) with ``script`` loaded."""
    words = line.split(" ")
    driver = (
        f"{script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
        f"COMP_LINE={line!r}; COMP_POINT={len(line)}\n"
        "_secscan_complete secscan; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile"], input=driver, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_bash_completion_completes_commands_options_and_choices(tmp_path: Path) -> None:
    proc = secscan("completion", "bash", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    script = proc.stdout
    assert _bash_complete(script, "secscan ru") == ["run"]
    assert {"run", "report", "findings", "completion", "alerts"} <= set(_bash_complete(script, "secscan "))
    assert set(_bash_complete(script, "secscan run --fo")) == {"--format"}
    assert set(_bash_complete(script, "secscan run --format ")) == {"table", "json", "sarif"}
    assert set(_bash_complete(script, "secscan run --fail-on h")) == {"high"}
    assert {"retry", "deliver"} <= set(_bash_complete(script, "secscan alerts "))
    assert set(_bash_complete(script, "secscan completion ")) == {"bash", "zsh", "fish"}
    assert "--breached" in _bash_complete(script, "secscan sla --b")


def _need(shell: str) -> None:
    """Skip without the shell, except under SECSCAN_REQUIRE_SHELLS=1 (.ci/run installs both and
    sets it), where a missing shell fails: CI never passes by skipping a completion check."""
    if shutil.which(shell) is None:
        if os.environ.get("SECSCAN_REQUIRE_SHELLS") == "1":
            pytest.fail(f"{shell} is not installed, and SECSCAN_REQUIRE_SHELLS=1 requires it")
        pytest.skip(f"{shell} is not installed: only the script's content is checked")


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts(tmp_path: Path, shell: str) -> None:
    proc = secscan("completion", shell, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for word in ("run", "fail-on", "sarif", "retry", "breached"):
        assert word in proc.stdout
    _need(shell)
    check = ["zsh", "-n"] if shell == "zsh" else ["fish", "--no-execute"]
    script = tmp_path / f"secscan.{shell}"
    script.write_text(proc.stdout)
    done = subprocess.run([*check, str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_fish_completion_completes(tmp_path: Path) -> None:
    _need("fish")
    script = tmp_path / "secscan.fish"
    script.write_text(secscan("completion", "fish", cwd=tmp_path).stdout)

    def complete(line: str) -> set[str]:
        done = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C {line!r}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return {row.split("\t")[0] for row in done.stdout.splitlines()}

    assert complete("secscan ru") == {"run"}
    assert complete("secscan run --format ") == {"table", "json", "sarif"}
    assert {"retry", "deliver"} <= complete("secscan alerts ")
    assert "--run" in complete("secscan github status --")


def test_zsh_completion_completes(tmp_path: Path) -> None:
    _need("zsh")
    script = tmp_path / "_secscan"
    script.write_text(secscan("completion", "zsh", cwd=tmp_path).stdout)

    def complete(*words: str) -> set[str]:
        stubs = 'compdef() { :; }; compadd() { shift; print -l -- "$@"; }; _files() { print FILES; }'
        line = " ".join(repr(w) for w in words)
        program = f"{stubs}; source {script}; words=(secscan {line}); CURRENT={len(words) + 1}; _secscan"
        done = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, check=True)
        return set(done.stdout.split())

    assert "run" in complete("")
    assert complete("run", "--format", "") == {"table", "json", "sarif"}
    assert {"retry", "deliver"} <= complete("alerts", "")
    assert complete("run", "--config", "") == {"FILES"}


def test_an_unknown_shell_is_a_usage_error(tmp_path: Path) -> None:
    proc = secscan("completion", "tcsh", cwd=tmp_path)
    assert proc.returncode == 2 and "'tcsh'" in proc.stderr and "'fish'" in proc.stderr
