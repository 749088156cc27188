"""Issue 18: an unchanged re-run imports only what it uses.

A re-run whose every answer comes from the result cache, with no alert channel, no ``--upload``
and no git history, must not load the delivery and paging code, packaging's requirement parser,
PyYAML (the semgrep rule packs come from their memo), the history walk, the lockfile engine, the
SARIF readers, the process runner, git's helpers or posture's rules and checks:
each is imported where it is used. This test runs such a re-run in a fresh process and fails
when one of them is imported eagerly again (no timing is measured).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "vulnerable-app"

NOT_LOADED = (
    "secscan.app.deliver",  # no --upload and no alert channel
    "secscan.delivery",
    "secscan.store.sqlite.alerts",  # the store's upload and alert features, unused by such a run
    "secscan.store.sqlite.uploads",
    "secscan.core.ports.alerts",
    "secscan.core.ports.uploads",
    "packaging.requirements",  # plain pins, bare names and plain ranges only
    "secscan.scanners._history_walk",  # not a git repository
    "secscan.scanners._history_spec",
    "secscan.scanners._history_window",
    "secscan.scanners._history_update",
    "secscan.scanners._history_values",
    "secscan.scanners._history_state",
    "secscan.scanners._history_findings",
    "secscan.scanners._history_report",
    "secscan.scanners._history_git",
    "secscan.scanners._history_records",
    "secscan.scanners._history_refs",
    "secscan.scanners._history_presence",
    "secscan.scanners._lockfile_findings",  # no lockfile
    "secscan.scanners._lockfile_audit",
    "secscan.scanners.osv.matching",
    "secscan.scanners._zizmor_sarif",  # no workflow
    "secscan.scanners.sarif_input",
    "secscan.scanners._sarif_paths",
    "secscan.scanners._sarif_rules",
    "secscan.scanners._sarif_values",
    "secscan.scanners.sarif_load",
    "secscan.scanners._sarif_window",
    "secscan.scanners.sarif_tool",  # no SARIF tool configured
    "secscan.scanners._semgrep_report",  # no JavaScript
    "secscan.scanners._subprocess",  # every answer cached: no scanner process starts
    "yaml",  # the semgrep rule packs come from their memo
    "secscan.scanners.osv.server",  # every pin's answer cached: no loopback OSV server is bound
    "secscan.scanners.osv._http",
    "http.client",
    "urllib3",
    "pydantic",  # the settings are remembered (secscan.config.memo): not validated again
    "pydantic_core",
    "secscan.config.schema",
    "rich",  # --format json, not on a terminal: plain lines (secscan.cli.plain)
    "cvss",  # cached pip-audit answers keep their records' scores
    "packaging.utils",  # PEP 503 names without it (it loads packaging's platform tags)
    "secrets",  # run ids from os.urandom
    "subprocess",  # not a git repository, every answer cached: git and the scanners never start
    "secscan.scanners._posture_checks",  # posture's output is remembered whole for an unchanged tree
    "secscan.scanners._posture_globs",
    "secscan.config.posture_rules",
)
"""Modules (and packages: their submodules too) an unchanged re-run of the tree below must not load."""

LOADED = ("secscan.scanners.bandit", "secscan.scanners.git_history", "secscan.scanners._semgrep_memo")
"""Modules it does load (the check sees the run's imports)."""

RERUN = """
import json, sys
from secscan.cli.main import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "app"
    tree.mkdir()
    (tree / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n", encoding="utf-8"
    )
    (tree / "requirements.txt").write_text("Jinja2==2.10\nflask == 2.2.4\n", encoding="utf-8")
    (tree / "docs").mkdir()
    (tree / "docs" / "requirements.txt").write_text("sphinx ~= 7.0\nfuro\nx >= 0.2.0a0\n.\n", encoding="utf-8")
    return tree


@pytest.mark.e2e
def test_an_unchanged_rerun_leaves_unused_modules_unloaded(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    shutil.copytree(EXAMPLE / "osv", tmp_path / "osv")
    config = tmp_path / "secscan.toml"
    config.write_text(f'[cache]\npath = "{tmp_path / "cache.db"}"\n', encoding="utf-8")
    out = tmp_path / "modules.json"
    args = [
        "run", str(tree), "--osv-db", str(tmp_path / "osv"), "--fail-on", "none", "--format", "json",
        "--db", str(tmp_path / "secscan.db"), "--sarif", str(tmp_path / "secscan.sarif"), "--config", str(config),
    ]  # fmt: skip
    cold = subprocess.run([sys.executable, "-m", "secscan", *args], capture_output=True, text=True, cwd=tmp_path)
    assert cold.returncode == 0, cold.stderr
    warm = subprocess.run(
        [sys.executable, "-c", RERUN, str(out), *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert warm.returncode == 0, warm.stderr
    document = json.loads(warm.stdout)
    assert document["cache"]["hits"] > 0 and document["cache"]["misses"] == 0  # an unchanged re-run
    assert {s["name"]: s["status"] for s in document["scanners"]}["pip-audit"] == "ok"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["code"] == 0
    modules = set(result["modules"])
    assert set(LOADED) <= modules
    loaded = sorted(m for m in modules for heavy in NOT_LOADED if m == heavy or m.startswith(heavy + "."))
    assert loaded == []
