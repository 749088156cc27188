"""End to end: ``secscan run`` on a git repository whose history holds secrets HEAD no longer has.

The history's secret values are canaries: none may reach any output (SARIF, JSON, the table,
logs at -vv, the lifecycle database, the result cache, the dashboard), not even where another
tool quotes them. The SARIF log, with history findings on paths that no longer exist and posture
findings on files that are missing, passes the SARIF schema and GitHub's ingestion rules.
"""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from secscan.scanners._history_report import line_hash
from secscan.store import open_store
from tests import gitrepo
from tests.conftest import multitool_errors, schema_errors
from tests.e2e.test_run_cli import secscan

pytestmark = pytest.mark.e2e

# Values only the history holds. None matches a built-in token pattern: only the values that
# git-history recovers from the commits can redact them.
HISTORY_CANARIES = ("Hx7-hist-canary-9QzL", "Wq4-side-canary-2PvK", "AKIAQYLPMN5HHHZZ9KQ3")
DAY = 86_400
T0 = 1_700_000_000

QUOTING_TOOL = """\
import json, sys
quote = "the old config held " + sys.argv[2]
log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "quoter", "rules": [{"id": "Q1",
       "shortDescription": {"text": "quote"}}]}}, "results": [{"ruleId": "Q1", "level": "error",
       "message": {"text": quote}, "locations": [{"physicalLocation": {"artifactLocation":
       {"uri": "app.py"}, "region": {"startLine": 1}}}]}]}]}
open(sys.argv[1], "w").write(json.dumps(log))
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("history-e2e")
    repo = gitrepo.init(base / "repo")
    gitrepo.commit(
        repo,
        {"app.py": "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"},
        when=T0,
    )
    gitrepo.commit(
        repo,
        {
            "config/secrets.py": f'password = "{HISTORY_CANARIES[0]}"\n',
            "settings.py": f'aws_key = "{HISTORY_CANARIES[2]}"\nDEBUG = False\n',
        },
        when=T0 + DAY,
    )
    gitrepo.commit(repo, {"config/secrets.py": None, "settings.py": "DEBUG = False\n"}, when=T0 + 2 * DAY)
    gitrepo.git(repo, "checkout", "-q", "-b", "wip")
    gitrepo.commit(repo, {"notes.py": f'token_secret = "{HISTORY_CANARIES[1]}"\n'}, when=T0 + 3 * DAY)
    gitrepo.git(repo, "checkout", "-q", "main")
    gitrepo.commit(
        repo,
        {
            ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - run: make\n"
        },
        when=T0 + 4 * DAY,
    )
    tool = base / "quoting_tool.py"
    tool.write_text(QUOTING_TOOL)
    config = base / "secscan.toml"
    config.write_text(
        textwrap.dedent(f"""
        [scanners.quoter]
        command = [{json.dumps(sys.executable)}, {json.dumps(str(tool))}, "{{output}}", "{HISTORY_CANARIES[0]}"]
    """)
    )
    out = base / "out"
    out.mkdir()
    sarif = out / "run.sarif"
    args = ("run", repo, "--config", config, "--fail-on", "none")
    first = secscan(*args, "--format", "json", "--sarif", sarif, "-vv", cwd=out)
    assert first.returncode == 0, first.stderr
    second = secscan(*args, "--sarif", out / "table.sarif", "-vv", cwd=out)  # warm: from the cache
    report = out / "dashboard.html"
    shown = secscan("report", "--db", out / ".state" / "secscan" / "secscan.db", "--output", report, cwd=out)
    assert shown.returncode == 0, shown.stderr
    state = out / ".state" / "secscan"
    return {
        "repo": repo,
        "doc": json.loads(first.stdout),
        "outputs": {
            "json": first.stdout,
            "log -vv": first.stderr,
            "table": second.stdout,
            "warm log -vv": second.stderr,
            "sarif": sarif.read_text(),
            "warm sarif": (out / "table.sarif").read_text(),
            "dashboard": report.read_text(),
        },
        "files": {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()},
        "sarif_path": sarif,
        "db": state / "secscan.db",
    }


def test_history_findings_and_posture_findings(mixed: dict[str, Any]) -> None:
    doc = mixed["doc"]
    statuses = {s["name"]: s["status"] for s in doc["scanners"]}
    assert statuses["git-history"] == "ok" and statuses["posture"] == "ok" and doc["status"] == "complete"
    history = {(f["rule"], f["path"], f["line"]) for f in doc["findings"] if f["tool"] == "git-history"}
    assert history == {
        ("Secret Keyword", "config/secrets.py", 1),
        ("AWS Access Key", "settings.py", 1),
        ("Secret Keyword", "notes.py", 1),
    }
    messages = {f["path"]: f["message"] for f in doc["findings"] if f["tool"] == "git-history"}
    assert "removed in" in messages["config/secrets.py"] and "(2023-11-15)" in messages["config/secrets.py"]
    assert "still on branch wip" in messages["notes.py"]
    posture = {(f["rule"], f["path"]) for f in doc["findings"] if f["tool"] == "posture"}
    assert posture == {
        ("security-policy-missing", "SECURITY.md"),
        ("dependency-updates-missing", ".github/dependabot.yml"),
        ("codeowners-missing", ".github/CODEOWNERS"),
        ("workflow-permissions-missing", ".github/workflows/ci.yml"),
    }


def test_no_history_secret_reaches_any_output(mixed: dict[str, Any]) -> None:
    for canary in HISTORY_CANARIES:
        for name, text in mixed["outputs"].items():
            assert canary not in text, f"a history canary reached the {name}"
        for name, data in mixed["files"].items():
            assert canary.encode() not in data, f"a history canary reached {name}"
    assert {"secscan.db", "secscan-cache.db"} <= set(mixed["files"])
    quoted = [f for f in mixed["doc"]["findings"] if f["tool"] == "quoter"]
    assert quoted and quoted[0]["message"] == "the old config held [REDACTED]"  # redacted, not dropped


def test_sarif_with_history_and_posture_passes_schema_and_github_rules(
    mixed: dict[str, Any], sarif_validator: Any, multitool: Path, tmp_path: Path
) -> None:
    sarif = json.loads(mixed["outputs"]["sarif"])
    assert schema_errors(sarif_validator, sarif) == []
    assert multitool_errors(multitool, mixed["sarif_path"], tmp_path) == []
    runs = {r["tool"]["driver"]["name"]: r for r in sarif["runs"]}
    history = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
        for r in runs["git-history"]["results"]
    }
    # settings.py still exists: its line 1 is not the secret's line, so the hash is the finding's own
    digest = hashlib.sha1(HISTORY_CANARIES[2].encode()).hexdigest()
    assert history["settings.py"]["partialFingerprints"]["primaryLocationLineHash"] == line_hash(
        "settings.py", digest
    )
    assert runs["posture"]["automationDetails"]["id"].startswith("secscan/posture/")


def test_history_findings_are_not_dated_by_blaming_the_current_file(mixed: dict[str, Any]) -> None:
    with open_store(mixed["db"]) as store:
        tracked = store.list_findings()
    dated = {(t.tool, t.path): t.introduced_at for t in tracked}
    assert dated[("bandit", "app.py")] is not None  # blame dates the current code
    assert dated[("git-history", "settings.py")] is None  # its line 1 is not the secret's line
