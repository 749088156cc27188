"""The GitHub Actions example (deploy/github-actions/secscan.yml) never uploads a failed tool.

With ``upload-sarif`` under ``if: always()``, a scanner that failed handed GitHub an empty run,
which closes every alert of that tool. The example's own steps are run here, as the runner
would run them, against the fake GitHub: a scanner times out, and only the tools that finished
are uploaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from github_fakes import CANARY, OWNER, REPO, FakeGithub

from tests.conftest import REPO as SOURCE

WORKFLOW = SOURCE / "deploy" / "github-actions" / "secscan.yml"


def _steps() -> dict[str, dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return {step.get("name", step.get("uses", "")): step for step in workflow["jobs"]["scan"]["steps"]}


def test_the_example_uploads_with_secscan_not_upload_sarif() -> None:
    steps = _steps()
    assert not any("codeql-action" in step.get("uses", "") for step in steps.values())
    upload = steps["Upload to code scanning"]
    assert upload["if"].startswith("always()") and "secscan upload" in upload["run"]
    assert upload["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    # the upload reads the scanners' statuses from the database the scan step recorded
    assert '--db "$RUNNER_TEMP/secscan.db"' in steps["Scan"]["run"] and '--db "$RUNNER_TEMP/secscan.db"' in upload["run"]


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_the_example_steps_upload_only_the_tools_that_finished(
    git_repo: tuple[Path, str], fake_github: FakeGithub, tmp_path: Path
) -> None:
    root, sha = git_repo
    (root / "secscan.toml").write_text("[scanners.bandit]\ntimeout = 0.001\n", encoding="utf-8")  # it times out
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path),
        "RUNNER_TEMP": str(runner_temp), "XDG_STATE_HOME": str(tmp_path / "xdg"), "GITHUB_TOKEN": CANARY,
        "REPOSITORY": f"{OWNER}/{REPO}", "REF": "refs/heads/main", "SHA": sha,
    }  # fmt: skip
    steps = _steps()
    scan = _bash(steps["Scan"]["run"], root, env)
    assert scan.returncode == 3, scan.stderr  # bandit timed out: the scan is incomplete
    assert (root / "secscan.sarif").is_file()

    write_config, upload = steps["Upload to code scanning"]["run"].split("secscan upload", 1)
    assert _bash(write_config, root, env).returncode == 0
    config = runner_temp / "secscan-upload.toml"
    with config.open("a", encoding="utf-8") as fh:  # the fake GitHub instead of api.github.com
        fh.write(f'api_url = "{fake_github.url}"\npoll_interval_s = 0.01\n')
    done = _bash("secscan upload" + upload, root, env)
    assert done.returncode == 0, done.stdout + done.stderr
    # every tool that finished ok is uploaded; bandit timed out and is not
    assert [a["body"]["tool_name"] for a in fake_github.accepted] == ["detect-secrets", "git-history", "posture"]
    assert {a["body"]["commit_sha"] for a in fake_github.accepted} == {sha}
    assert CANARY not in done.stdout + done.stderr + scan.stdout + scan.stderr
