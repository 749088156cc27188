"""End to end (issue 14, "Done when"): one ``secscan run`` on a repository mixing Python, JavaScript,
TypeScript, Pine Script, workflows, npm and PyPI lockfiles, requirements and a git history with a
removed credential finds exactly the planted problems (tests/assets/mixed/manifest.toml), nothing
on the negative samples, shows the coverage map of that repository, and writes a SARIF log with 0
schema errors and 0 GitHub-rule errors. zizmor's own findings on the workflows all appear.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from secscan.app import run as app
from secscan.config.settings import build_settings
from secscan.core.errors import ExitCode
from secscan.scanners import semgrep
from secscan.scanners._tools import find_tool
from tests import gitrepo
from tests.conftest import multitool_errors, schema_errors
from tests.e2e.test_run_cli import secscan

pytestmark = pytest.mark.e2e

TESTS = Path(__file__).resolve().parents[1]
MIXED = TESTS / "assets" / "mixed"
OSV = TESTS / "scanners" / "lockfiles" / "osv"
MANIFEST = tomllib.loads((MIXED / "manifest.toml").read_text(encoding="utf-8"))
PLANTED = {tuple(p) for p in MANIFEST["planted"]}
HISTORY_CANARY = "Hx7-mixed-canary-9QzL"
T0 = 1_700_000_000
DAY = 86_400

Found = set[tuple[str, str, str, int]]


def build(root: Path) -> Path:
    """The repository: three commits; the second adds a credential file the third deletes."""
    tree = MIXED / "tree"
    files = {
        p.relative_to(tree).as_posix(): p.read_text(encoding="utf-8") for p in tree.rglob("*") if p.is_file()
    }
    first = {k: v for k, v in files.items() if k.startswith(("app/", "requirements"))}
    gitrepo.init(root)
    gitrepo.commit(root, first, "the jobs", when=T0)
    history = {"config/deploy.py": (MIXED / "history" / "config" / "deploy.py").read_text(encoding="utf-8")}
    gitrepo.commit(
        root, {k: v for k, v in files.items() if k not in first} | history, "everything", when=T0 + DAY
    )
    gitrepo.commit(root, {"config/deploy.py": None}, "no credentials in the repository", when=T0 + 2 * DAY)
    return root


def found(doc: Mapping[str, Any]) -> Found:
    return {(f["tool"], f["rule"], f["path"], f["line"]) for f in doc["findings"]}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("mixed-e2e")
    repo = build(out / "repo")
    sarif = out / "run.sarif"
    proc = secscan(
        "run", repo, "-vv", "--osv-db", OSV, "--format", "json", "--sarif", sarif, "--fail-on", "none",
        "--db", out / "db.sqlite", cwd=out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {"out": out, "repo": repo, "doc": json.loads(proc.stdout), "proc": proc, "sarif": sarif}


def test_the_manifest_accounts_for_every_file_of_the_tree() -> None:
    tree = MIXED / "tree"
    files = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()}
    planted = {path for _, _, path, _ in PLANTED}
    assert files == (planted - {"config/deploy.py"}) | set(MANIFEST["negatives"])
    assert not planted & set(MANIFEST["negatives"])


def test_one_run_finds_exactly_the_planted_problems(mixed: dict[str, Any]) -> None:
    doc = mixed["doc"]
    assert {s["name"]: s["status"] for s in doc["scanners"]} == {
        name: "ok"
        for name in (
            "bandit",
            "detect-secrets",
            "pip-audit",
            "lockfile-audit",
            "zizmor",
            "semgrep",
            "git-history",
            "posture",
        )
    }
    assert found(doc) == PLANTED
    assert not [f for f in doc["findings"] if f["path"] in MANIFEST["negatives"]]
    [history] = [f for f in doc["findings"] if f["tool"] == "git-history"]
    assert "removed in" in history["message"] and "rotate it" in history["message"]


def test_the_history_credential_reaches_no_output(mixed: dict[str, Any]) -> None:
    proc = mixed["proc"]
    for text in (proc.stdout, proc.stderr, mixed["sarif"].read_text(encoding="utf-8")):
        assert HISTORY_CANARY not in text
    assert HISTORY_CANARY.encode() not in (mixed["out"] / "db.sqlite").read_bytes()


def test_the_coverage_map_shows_every_kind_and_its_scanner(mixed: dict[str, Any]) -> None:
    coverage = {c["kind"]: [c["files"], c["covered"], c["scanners"]] for c in mixed["doc"]["coverage"]}
    assert coverage == MANIFEST["coverage"]
    reasons = {c["kind"]: c["reason"] for c in mixed["doc"]["coverage"]}
    assert reasons["other"] == "no scanner analyses these files beyond secrets (2 .md, 1 (none), 1 .toml)"
    assert {kind: reason for kind, reason in reasons.items() if kind != "other"} == dict.fromkeys(
        set(reasons) - {"other"}
    )
    assert [c["unit"] for c in mixed["doc"]["coverage"] if c["kind"] == "git history"] == ["commits"]


def test_the_sarif_log_has_no_schema_or_github_rule_error(
    mixed: dict[str, Any], sarif_validator: Any, multitool: Path, tmp_path: Path
) -> None:
    sarif = json.loads(mixed["sarif"].read_text(encoding="utf-8"))
    assert schema_errors(sarif_validator, sarif) == []
    assert multitool_errors(multitool, mixed["sarif"], tmp_path) == []
    results = {
        (
            run["tool"]["driver"]["name"],
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        )
        for run in sarif["runs"]
        for r in run["results"]
    }
    assert results == {(tool, rule, path) for tool, rule, path, _ in PLANTED}


def _zizmor_by_hand(repo: Path) -> set[tuple[str, str, int]]:
    """``zizmor --offline --format sarif`` on the workflows, as a user runs it in the repository."""
    zizmor = find_tool("zizmor")
    assert zizmor is not None
    done = subprocess.run(
        [str(zizmor), "--offline", "--format", "sarif", "."],
        cwd=repo,
        capture_output=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(repo.parent)},
        check=True,
    )
    hand = set()
    for run in json.loads(done.stdout)["runs"]:
        for result in run["results"]:
            where = result["locations"][0]["physicalLocation"]
            uri = where["artifactLocation"]["uri"].removeprefix("./")
            hand.add((result["ruleId"].removeprefix("zizmor/"), uri, where["region"]["startLine"]))
    return hand


def test_zizmor_run_by_hand_finds_nothing_secscan_misses(mixed: dict[str, Any]) -> None:
    hand = _zizmor_by_hand(mixed["repo"])
    ours = {(rule, path, line) for tool, rule, path, line in found(mixed["doc"]) if tool == "zizmor"}
    assert hand and hand <= ours


def test_without_semgrep_the_gap_is_on_the_map_with_its_reason(
    mixed: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """semgrep is an optional extra: without it the run is not a failure, and its kinds show up
    on the coverage map as not covered, saying why and how to install it."""
    monkeypatch.setattr(semgrep, "find_tool", lambda name, folders=None: None)
    repo = tmp_path / "repo"
    shutil.copytree(mixed["repo"], repo, symlinks=True)
    db, sarif_path = str(tmp_path / "db.sqlite"), tmp_path / "run.sarif"
    result = app.run(app.RunRequest(repo, build_settings({}), sarif_path, osv_db=OSV, db=db, use_cache=False))
    doc = result.document
    assert result.exit_code is ExitCode.FINDINGS  # findings at the default threshold; no scanner failed
    assert {s["name"]: s["status"] for s in doc["scanners"]}["semgrep"] == "skipped"
    assert found(doc) == {p for p in PLANTED if p[0] != "semgrep"}
    coverage = {c["kind"]: c for c in doc["coverage"]}
    why = (
        "semgrep skipped: semgrep is not installed, so 2 JavaScript, 2 TypeScript, 2 Pine Script and 2 "
        "configuration and shell files went unscanned; install it with: pip install 'secscan[semgrep]'"
    )
    for kind in ("JavaScript", "TypeScript", "Pine Script", "configuration and shell"):
        assert (coverage[kind]["files"], coverage[kind]["covered"], coverage[kind]["scanners"]) == (2, 0, [])
        assert coverage[kind]["reason"] == why
    assert coverage["Python"]["covered"] == 4 and coverage["Python"]["reason"] is None
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    [semgrep_run] = [run for run in sarif["runs"] if run["tool"]["driver"]["name"] == "semgrep"]
    gaps = [
        n["message"]["text"]
        for n in semgrep_run["invocations"][0]["toolExecutionNotifications"]
        if n["message"]["text"].startswith("coverage: ")
    ]
    assert gaps == [
        f"coverage: {kind}: 0 of 2 files covered: {why}"
        for kind in ("JavaScript", "TypeScript", "Pine Script", "configuration and shell")
    ]
