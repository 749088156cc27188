"""End to end: ``secscan run`` on a repository mixing Python, JavaScript, TypeScript, Pine Script,
configuration files and GitHub Actions workflows, with every built-in scanner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from secscan.config.policy import rules_dir
from tests.conftest import multitool_errors, schema_errors
from tests.e2e.test_run_cli import secscan

pytestmark = pytest.mark.e2e

SAMPLES = rules_dir() / "semgrep-samples"
WORKFLOWS = Path(__file__).resolve().parents[1] / "assets" / "zizmor" / "repo"


def _build(root: Path) -> None:
    shutil.copytree(WORKFLOWS, root)
    shutil.copytree(SAMPLES, root / "web", ignore=shutil.ignore_patterns("pine.*", "text.*"))
    shutil.copytree(SAMPLES, root / "strategies", ignore=shutil.ignore_patterns("js.*", "text.*"))
    shutil.copytree(SAMPLES / "text.tls-verification-disabled", root / "deploy")
    (root / "app").mkdir()
    code = "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    (root / "app" / "jobs.py").write_text(code)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("mixed")
    repo = out / "repo"
    _build(repo)
    docs = {}
    for name in ("cold", "warm"):
        sarif = out / f"{name}.sarif"
        proc = secscan("run", repo, "--format", "json", "--sarif", sarif, "--fail-on", "none", cwd=out)
        assert proc.returncode == 0, proc.stderr
        docs[name] = {"doc": json.loads(proc.stdout), "sarif": sarif}
    return docs


def test_every_scanner_runs_and_finds_the_planted_problems(runs: dict[str, Any]) -> None:
    doc = runs["cold"]["doc"]
    status = {s["name"]: s["status"] for s in doc["scanners"]}
    assert status == {
        "bandit": "ok",
        "detect-secrets": "ok",
        "pip-audit": "skipped",
        "lockfile-audit": "skipped",
        "zizmor": "ok",
        "semgrep": "ok",
        "git-history": "skipped",  # not a git repository
        "posture": "ok",
    }
    by_tool: dict[str, list[dict[str, Any]]] = {}
    for finding in doc["findings"]:
        by_tool.setdefault(finding["tool"], []).append(finding)
    semgrep = by_tool["semgrep"]
    assert {f["rule"] for f in semgrep} == {p.name for p in SAMPLES.iterdir()}
    assert not [f for f in semgrep if "/negative/" in f["path"]], "nothing on the negative samples"
    assert {f["rule"] for f in by_tool["zizmor"]} >= {
        "template-injection",
        "unpinned-uses",
        "excessive-permissions",
        "dangerous-triggers",
    }
    assert any(f["rule"] == "B602" for f in by_tool["bandit"])


def test_the_sarif_log_passes_the_schema_and_github_rules(
    runs: dict[str, Any], sarif_validator: Any, multitool: Path, tmp_path: Path
) -> None:
    sarif = json.loads(runs["cold"]["sarif"].read_text())
    assert schema_errors(sarif_validator, sarif) == []
    assert multitool_errors(multitool, runs["cold"]["sarif"], tmp_path) == []
    names = [run["tool"]["driver"]["name"] for run in sarif["runs"]]
    assert names == [
        "bandit", "detect-secrets", "pip-audit", "lockfile-audit", "zizmor", "semgrep", "git-history", "posture"
    ]  # fmt: skip
    for run in (r for r in sarif["runs"] if r["tool"]["driver"]["name"] in ("zizmor", "semgrep")):
        assert run["results"], run["tool"]["driver"]["name"]
        for result in run["results"]:
            region = result["locations"][0]["physicalLocation"]["region"]
            assert region["startLine"] >= 1
            assert ":" in result["partialFingerprints"]["primaryLocationLineHash"]
        for rule in run["tool"]["driver"]["rules"]:
            assert rule["properties"]["security-severity"]


def test_a_warm_run_gives_the_cold_run_findings_without_scanning(runs: dict[str, Any]) -> None:
    cold, warm = runs["cold"]["doc"], runs["warm"]["doc"]

    def view(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
        keys = ("id", "tool", "rule", "severity", "path", "line", "message")
        return sorted(tuple(f[k] for k in keys) for f in doc["findings"])

    assert view(warm) == view(cold)
    assert warm["cache"]["misses"] == 0 and warm["cache"]["hits"] > 0
