"""A configured SARIF tool through the real command: a banner on stdout, ``{workdir}``, and the
version its log states when no ``version_command`` is given."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.cli.cli_helpers import secscan, small_repo

TOOL = Path(__file__).resolve().parents[1] / "assets" / "sarif" / "fake_tool.py"


def test_banner_workdir_and_stated_version(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    config = tmp_path / "trusted.toml"
    command = [sys.executable, str(TOOL), "--stdout", "--banner", "--target", "{target}"]
    command += ["--scratch", "{workdir}", "--exit", "0", "{files}"]
    config.write_text(f'[scanners.fake]\ncommand = {json.dumps(command)}\noutput = "stdout"\n')
    proc = secscan(
        "run", repo, "--config", config, "--scanner", "fake", "--format", "json", "--fail-on", "none",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    [scanner] = doc["scanners"]
    assert (scanner["name"], scanner["status"], scanner["version"]) == ("fake", "ok", "0.1")
    assert {(f["tool"], f["rule"], f["path"]) for f in doc["findings"]} == {("fake", "FT001", "app.py")}
