"""A file made to exhaust a parser's memory (a 520-byte YAML "billion laughs") against a real run:
the scanner that expands it is killed at `[scan] max_memory_mb`, fails and closes nothing; the
others finish. Without the cap detect-secrets grew to 21.9 GB before the run's timeout."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.cli_helpers import secscan

BOMB = "\n".join(
    ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
) + "\n"


def test_a_yaml_bomb_costs_one_scanner_and_not_the_machine(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "config.yaml").write_text(BOMB)
    (repo / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    config = tmp_path / "secscan.toml"
    config.write_text('[scan]\nmax_memory_mb = 300\nfail_on = "none"\n')
    done = secscan("run", repo, "--config", config, "--db", tmp_path / "s.db", "--sarif", tmp_path / "o.sarif",
                   "--format", "json", "--scanner", "detect-secrets", "--scanner", "bandit", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 3, done.stderr
    scanners = {s["name"]: s for s in json.loads(done.stdout)["scanners"]}
    secrets = scanners["detect-secrets"]
    assert secrets["status"] == "failed" and secrets["findings"] == 0
    assert "was stopped, " in secrets["reason"] and "over the cap of 300 MiB" in secrets["reason"]
    assert scanners["bandit"]["status"] == "ok" and scanners["bandit"]["findings"] >= 1
