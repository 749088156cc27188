"""``--fail-on-new``: gate a pull request on the findings that are new since the last complete run
of the target branch's target (as semgrep's ``--baseline-commit``), from the lifecycle store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.cli_helpers import secscan, small_repo

MORE = "import subprocess\n\n\ndef go(cmd):\n    subprocess.Popen(cmd, shell=True)\n"  # B602: high
SECOND = "import pickle\n\n\ndef load(data):\n    return eval(data)\n"  # B307 eval: medium


def _scan(repo: Path, cwd: Path, *args: str) -> tuple[int, dict[str, object], str]:
    proc = secscan(
        "run", repo, "--scanner", "bandit", "--db", cwd / "s.db", "--format", "json", *args, cwd=cwd
    )
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}, proc.stderr


def test_known_findings_do_not_fail_the_gate_new_ones_do(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")  # one high finding
    code, _, err = _scan(repo, tmp_path, "--target", "app")
    assert code == 1, err  # the plain gate fails on it
    code, _, err = _scan(repo, tmp_path, "--target", "app", "--fail-on-new")
    assert code == 0, err  # known since the last complete run
    assert "0 new findings at or above high" in err
    (repo / "more.py").write_text(MORE)
    code, _, err = _scan(repo, tmp_path, "--target", "app", "--fail-on", "high", "--new-only")
    assert code == 1, err
    assert "1 new finding at or above high" in err and "more.py" in err


def test_threshold_applies_to_new_findings(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    _scan(repo, tmp_path, "--target", "app")
    (repo / "second.py").write_text(SECOND)  # a new medium and a new low finding
    gate = ("--baseline-target", "app", "--fail-on-new")
    assert _scan(repo, tmp_path, "--target", "pr-1", *gate)[0] == 0  # below high
    assert _scan(repo, tmp_path, "--target", "pr-2", *gate, "--fail-on", "low")[0] == 1
    env_gate = secscan(
        "run", repo, "--scanner", "bandit", "--db", tmp_path / "s.db", "--target", "pr-3", *gate,
        cwd=tmp_path, env={"SECSCAN_FAIL_ON": "medium"},
    )  # fmt: skip
    assert env_gate.returncode == 1 and "1 new finding at or above medium" in env_gate.stderr


def test_the_own_targets_gate_counts_a_finding_new_once(tmp_path: Path) -> None:
    """Without --baseline-target the run itself becomes the baseline: a finding is new once."""
    repo = small_repo(tmp_path / "repo")
    _scan(repo, tmp_path, "--target", "app")
    (repo / "more.py").write_text(MORE)
    assert _scan(repo, tmp_path, "--target", "app", "--fail-on-new")[0] == 1
    assert _scan(repo, tmp_path, "--target", "app", "--fail-on-new")[0] == 0


def test_pull_request_compared_with_the_branchs_target(tmp_path: Path) -> None:
    main = small_repo(tmp_path / "main")
    assert _scan(main, tmp_path, "--target", "app")[0] == 1  # the target branch's complete run
    pr = tmp_path / "pr"
    shutil.copytree(main, pr)
    (pr / "more.py").write_text(MORE)
    gate = ("--target", "app-pr-7", "--baseline-target", "app", "--fail-on-new")
    for _ in range(2):  # a re-run of the same pull request fails again: its own runs are no baseline
        code, _doc, err = _scan(pr, tmp_path, *gate)
        assert code == 1, err
        assert "1 new finding at or above high" in err
    (pr / "more.py").unlink()
    assert _scan(pr, tmp_path, *gate)[0] == 0
    runs = secscan("findings", "--db", tmp_path / "s.db", "--target", "app", "--format", "json", cwd=tmp_path)
    assert {f["path"] for f in json.loads(runs.stdout)["findings"]} == {"app.py"}  # app is untouched


def test_a_baseline_target_without_a_complete_run_is_refused(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    code, _, err = _scan(repo, tmp_path, "--baseline-target", "nope", "--fail-on-new")
    assert code == 2
    assert "no complete run of target 'nope'" in err
    assert not (tmp_path / "secscan.sarif").exists()


def test_baseline_target_needs_the_new_only_gate(tmp_path: Path) -> None:
    proc = secscan("run", small_repo(tmp_path / "repo"), "--baseline-target", "app", cwd=tmp_path)
    assert proc.returncode == 2 and "--fail-on-new" in proc.stderr
