"""The coverage map (secscan/app/coverage.py) and where it appears: JSON, terminal, SARIF."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from secscan.app.coverage import ScannerCoverage, coverage_map
from secscan.app.document import json_document
from secscan.app.kinds import Kinds, run_kinds
from secscan.cli import console
from secscan.config.policy import load_policy
from secscan.config.settings import build_settings
from secscan.core.model import (
    CoverageEntry,
    Extent,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    ToolName,
)
from secscan.report.sarif import build_sarif
from tests.conftest import schema_errors

FILES = (
    ".github/workflows/ci.yml",
    "README.md",
    "app/broken.py",
    "app/main.py",
    "docs/guide.md",
    "tests/test_main.py",
    "web/app.js",
    "web/util.ts",
    "web/yarn.lock",
)
T0 = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def kinds() -> Kinds:
    return run_kinds(build_settings({}), [])


def _ok(name: str, scope: set[str] | frozenset[str], **kw: Any) -> ScannerCoverage:
    result = ScannerResult(ToolName(name), "1", ScannerStatus.OK, 0.1, 0, scope=frozenset(scope), **kw)
    return ScannerCoverage(result=result, given=kw.pop("given", frozenset(FILES)))


def _status(name: str, status: ScannerStatus, reason: str) -> ScannerCoverage:
    return ScannerCoverage(result=ScannerResult(ToolName(name), "1", status, 0.1, None, reason=reason))


def _map(kinds: Kinds, views: dict[str, ScannerCoverage], **kw: Any) -> dict[str, CoverageEntry]:
    entries = coverage_map(FILES, kw.pop("too_large", ()), kinds, views, history=kw.pop("history", False))
    return {e.kind: e for e in entries}


def test_entries_the_walk_could_not_read_are_not_covered(kinds: Kinds) -> None:
    views = {"detect-secrets": _ok("detect-secrets", set(FILES)), "bandit": _ok("bandit", {"app/main.py"})}
    entries = coverage_map(FILES, (), kinds, views, history=False, unreadable=("app/deep.py", "a/a/a"))
    by_kind = {e.kind: e for e in entries}
    secrets = by_kind["secrets"]
    assert (secrets.files, secrets.covered) == (len(FILES) + 2, len(FILES))
    assert secrets.reason == "2 files could not be read (see the warnings)"
    python = by_kind["Python"]
    assert python.files == 4 and "1 file could not be read" in (python.reason or "")
    assert by_kind["other"].files == 3  # README.md, docs/guide.md and the folder


def test_each_kind_counts_its_own_scanners_and_says_why_the_rest_went_uncovered(kinds: Kinds) -> None:
    views = {
        "bandit": ScannerCoverage(
            result=ScannerResult(
                ToolName("bandit"), "1", ScannerStatus.OK, 0.1, 0, scope=frozenset({"app/main.py"})
            ),
            given=frozenset(FILES) - {"tests/test_main.py"},  # [scanners.bandit] exclude = ["tests"]
        ),
        "detect-secrets": _ok("detect-secrets", set(FILES)),
        "zizmor": _status("zizmor", ScannerStatus.TIMEOUT, "zizmor timed out after 5 s; raise the timeout"),
        "semgrep": _status(
            "semgrep",
            ScannerStatus.SKIPPED,
            "semgrep is not installed, so 1 JavaScript and 1 TypeScript file...",
        ),
        "lockfile-audit": ScannerCoverage(not_run="is disabled in secscan.toml"),
    }
    found = _map(kinds, views, too_large=("app/huge.py",))
    assert list(found) == [
        "GitHub Actions workflow", "npm lockfile", "Python", "JavaScript", "TypeScript", "other", "secrets"
    ]  # fmt: skip
    python = found["Python"]
    assert (python.files, python.covered, python.scanners) == (4, 1, ("bandit",))
    assert python.reason == (
        "1 file over [scan] max_file_size; 1 file excluded by [scanners.bandit] exclude; "
        "1 file bandit could not analyse (see its warnings)"
    )
    assert (
        found["GitHub Actions workflow"].reason
        == "zizmor timeout: zizmor timed out after 5 s; raise the timeout"
    )
    js = found["JavaScript"]
    assert (js.covered, js.scanners, js.gap) == (0, (), True)
    assert js.reason is not None and js.reason.startswith("semgrep skipped: semgrep is not installed")
    assert found["npm lockfile"].reason == "lockfile-audit is disabled in secscan.toml"
    secrets = found["secrets"]  # detect-secrets read every file, but that is not JavaScript's coverage
    assert (secrets.files, secrets.covered, secrets.scanners) == (10, 9, ("detect-secrets",))
    assert secrets.reason == "1 file over [scan] max_file_size"
    other = found["other"]
    assert (other.files, other.covered, other.gap) == (2, 0, False)
    assert other.reason == "no scanner analyses these files beyond secrets (2 .md)"


def test_a_fully_covered_kind_has_no_reason_and_no_gap(kinds: Kinds) -> None:
    views = {"bandit": _ok("bandit", {"app/main.py", "app/broken.py", "tests/test_main.py"})}
    python = _map(kinds, views)["Python"]
    assert (python.files, python.covered, python.reason, python.gap) == (3, 3, None, False)


def test_git_history_counts_commits(kinds: Kinds) -> None:
    assert "git history" not in _map(kinds, {})  # not a git work tree
    partial = Extent("git history", "commits", 120, 100, "20 commits could not be read (objects missing)")
    views = {"git-history": _ok("git-history", set(), extent=partial, closes_nothing=True)}
    history = _map(kinds, views, history=True)["git history"]
    assert (history.unit, history.files, history.covered, history.scanners) == (
        "commits",
        120,
        100,
        ("git-history",),
    )
    assert history.reason == partial.gap and history.gap
    shallow = Extent(
        "git history", "commits", 3, 3, "a shallow clone: the commits before its oldest one are not in it"
    )
    views = {"git-history": _ok("git-history", set(), extent=shallow)}
    assert _map(kinds, views, history=True)["git history"].gap  # all it has was read, but it is not all
    views = {"git-history": ScannerCoverage(not_run="is disabled in secscan.toml")}
    off = _map(kinds, views, history=True)["git history"]
    assert (off.files, off.covered, off.reason) == (None, 0, "git-history is disabled in secscan.toml")


def _run(coverage: tuple[CoverageEntry, ...]) -> ScanRun:
    scanners = (
        ScannerResult(ToolName("bandit"), "1", ScannerStatus.OK, 0.1, 0),
        ScannerResult(ToolName("semgrep"), "1", ScannerStatus.SKIPPED, 0.1, None, reason="not installed"),
    )
    return ScanRun(RunId("r1"), "/repo", "repo", T0, T0, scanners, coverage=coverage)


COVERAGE = (
    CoverageEntry("Python", 4, 4, ("bandit",), None, analysers=("bandit",)),
    CoverageEntry(
        "JavaScript",
        80,
        0,
        (),
        "semgrep skipped: semgrep is not installed, so 80 JavaScript files went "
        "unscanned; install it with: pip install 'secscan[semgrep]'",
        analysers=("semgrep",),
    ),
    CoverageEntry(
        "npm lockfile", 1, 0, (), "lockfile-audit is disabled in secscan.toml", analysers=("lockfile-audit",)
    ),
    CoverageEntry("other", 12, 0, (), "no scanner analyses these files beyond secrets (12 .md)"),
    CoverageEntry(
        "git history", 310, 300, ("git-history",), "10 commits could not be read", "commits", ("git-history",)
    ),
)


def test_json_document_lists_the_map() -> None:
    doc = json_document(_run(COVERAGE), None)
    assert doc["coverage"][1] == {
        "kind": "JavaScript",
        "unit": "files",
        "files": 80,
        "covered": 0,
        "scanners": [],
        "reason": COVERAGE[1].reason,
    }
    assert [c["kind"] for c in doc["coverage"]] == [c.kind for c in COVERAGE]
    assert json.loads(json.dumps(doc))["coverage"][4]["unit"] == "commits"


def test_the_terminal_summary_shows_the_map_within_80_columns() -> None:
    out = io.StringIO()
    console.coverage(COVERAGE, Console(file=out, width=80, force_terminal=False, color_system=None))
    lines = out.getvalue().splitlines()
    assert lines[0] == "Coverage (covered of found, by)"
    assert max(len(line) for line in lines) <= 80
    assert any(line.split() == ["Python", "4", "of", "4", "files", "bandit"] for line in lines)
    assert any(line.split()[:5] == ["JavaScript", "0", "of", "80", "files"] for line in lines)
    text = " ".join(out.getvalue().split())
    assert "pip install 'secscan[semgrep]'" in text and "git history 300 of 310 commits git-history" in text


def test_sarif_carries_each_gap_on_the_run_of_the_scanner_meant_for_it(sarif_validator: Any) -> None:
    sarif = build_sarif(_run(COVERAGE), load_policy())
    assert schema_errors(sarif_validator, sarif) == []
    notes = {
        run["tool"]["driver"]["name"]: [
            n
            for n in run["invocations"][0].get("toolExecutionNotifications", [])
            if "secscan-coverage" in n.get("properties", {})
        ]
        for run in sarif["runs"]
    }
    assert notes["bandit"] == []  # Python is fully covered
    [gap] = notes["semgrep"]
    assert gap.get("level", "warning") == "warning"  # SARIF's default level, left out
    assert gap["message"]["text"].startswith("coverage: JavaScript: 0 of 80 files covered: semgrep skipped")
    assert gap["properties"]["secscan-coverage"] == {
        "kind": "JavaScript",
        "unit": "files",
        "files": 80,
        "covered": 0,
    }
    text = json.dumps(sarif)
    assert "npm lockfile" not in text and "12 .md" not in text  # no run to carry them / not a gap
