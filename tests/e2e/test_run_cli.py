"""End to end: the real ``secscan run`` command, the real scanners, the bundled example."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE, multitool_errors, schema_errors

pytestmark = pytest.mark.e2e

# The example's planted canaries (app/settings.py, app/keys.py): none may appear in any output.
CANARIES = (
    "AKIAQYLPMN5HHHFPZAM2",
    "canary-Pa55w0rd-7f3e9c",
    "canary-db-9d8e7f",
    "MIIBOgIBAAJBAKj34GkxFhD90",
)
ADVISORIES = {
    ("jinja2", "PYSEC-2019-217"),
    ("jinja2", "PYSEC-2021-66"),
    ("pyyaml", "PYSEC-2020-96"),
    ("pyyaml", "PYSEC-2021-142"),
    ("requests", "PYSEC-2023-74"),
    ("urllib3", "PYSEC-2021-108"),
    ("urllib3", "PYSEC-2023-192"),
    ("urllib3", "PYSEC-2023-212"),
    ("werkzeug", "PYSEC-2023-221"),
    ("werkzeug", "PYSEC-2023-57"),
    ("werkzeug", "PYSEC-2023-58"),
    ("flask", "PYSEC-2023-62"),
}


def secscan(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SECSCAN_DEBUG"}
    env["XDG_STATE_HOME"] = str(cwd / ".state")  # the default database lives in the test's folder
    return subprocess.run(
        [sys.executable, "-P", "-m", "secscan", *map(str, args)],  # -P: cwd not on sys.path, as in the script
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("example")
    sarif = out / "example.sarif"
    proc = secscan("run", EXAMPLE, "--format", "json", "--sarif", sarif, "--fail-on", "none", "-v", cwd=out)
    assert proc.returncode == 0, proc.stderr
    table = secscan("run", EXAMPLE, "--sarif", out / "table.sarif", cwd=out)
    return {
        "doc": json.loads(proc.stdout),
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "sarif_text": sarif.read_text(),
        "sarif_path": sarif,
        "table": table,
        "db": (out / ".state" / "secscan" / "secscan.db").read_bytes(),
    }


def _bandit_by_hand(tmp: Path) -> set[tuple[str, str, int]]:
    report = tmp / "bandit.json"
    subprocess.run(
        [sys.executable, "-m", "bandit", "-r", ".", "-f", "json", "-o", str(report), "-q", "-x", "./osv"],
        cwd=EXAMPLE,
        check=False,
    )
    results = json.loads(report.read_text())["results"]
    return {(r["test_id"], r["filename"].removeprefix("./"), r["line_number"]) for r in results}


def _detect_secrets_by_hand() -> set[tuple[str, str, int]]:
    files = [
        str(p.relative_to(EXAMPLE))
        for p in EXAMPLE.rglob("*")
        if p.is_file() and "osv" not in p.relative_to(EXAMPLE).parts
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", *files],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        check=True,
    )
    baseline = json.loads(proc.stdout)["results"]
    return {(s["type"], path, s["line_number"]) for path, items in baseline.items() for s in items}


def test_example_loses_no_finding(example_run: dict[str, Any], tmp_path: Path) -> None:
    doc = example_run["doc"]
    assert doc["status"] == "complete"
    assert {s["name"]: s["status"] for s in doc["scanners"]} == {
        "bandit": "ok",
        "detect-secrets": "ok",
        "pip-audit": "ok",
        "lockfile-audit": "ok",
        "zizmor": "skipped",  # the example has no workflows and no JavaScript or Pine Script
        "semgrep": "skipped",
        "git-history": "ok",  # the example is a folder of secscan's own repository
        "posture": "ok",
    }
    found = {(f["tool"], f["rule"], f["path"], f["line"]) for f in doc["findings"]}
    bandit = _bandit_by_hand(tmp_path)
    secrets = _detect_secrets_by_hand()
    assert len(bandit) >= 8 and len(secrets) >= 4
    assert {("bandit", *b) for b in bandit} <= found
    assert {("detect-secrets", *s) for s in secrets} <= found
    advisories = {(f["message"].split()[0], f["rule"]) for f in doc["findings"] if f["tool"] == "pip-audit"}
    assert advisories == ADVISORIES
    by_rule = {f["rule"]: f for f in doc["findings"] if f["tool"] == "pip-audit"}
    assert "CVE-2019-10906" in by_rule["PYSEC-2019-217"]["aliases"]
    assert all(f["state"] == "new" for f in doc["findings"]) and doc["fixed"] == []
    assert len({f["id"] for f in doc["findings"]}) == len(doc["findings"])
    notes = [n for n in doc["notifications"] if n["tool"] == "pip-audit"]
    assert any("not audited: unpinned" in n["message"] and n["line"] == 8 for n in notes)
    locked = {
        (f["package"]["name"], f["package"]["version"], f["rule"], f["path"], f["line"], *f["package"]["fixed"])
        for f in doc["findings"]
        if f["tool"] == "lockfile-audit"
    }
    assert locked == {
        ("jinja2", "2.10", "PYSEC-2019-217", "worker/poetry.lock", 4, "2.10.1"),
        ("jinja2", "2.10", "PYSEC-2021-66", "worker/poetry.lock", 4, "2.11.3"),
        ("pyyaml", "5.3", "PYSEC-2020-96", "worker/poetry.lock", 35, "5.3.1"),
        ("pyyaml", "5.3", "PYSEC-2021-142", "worker/poetry.lock", 35, "5.4"),
    }


def test_json_contract(example_run: dict[str, Any]) -> None:
    doc = example_run["doc"]
    assert set(doc) >= {"run_id", "status", "scanners", "findings", "fixed"}
    for scanner in doc["scanners"]:
        assert set(scanner) >= {"name", "version", "status", "duration_s", "findings"}
        assert scanner["version"] and scanner["duration_s"] >= 0
    for finding in doc["findings"]:
        assert set(finding) >= {
            "id",
            "tool",
            "rule",
            "severity",
            "path",
            "line",
            "message",
            "state",
            "aliases",
        }
        assert finding["severity"] in {"critical", "high", "medium", "low", "info"}


def test_example_sarif_passes_schema_and_github_rules(
    example_run: dict[str, Any], sarif_validator: Any, multitool: Path, tmp_path: Path
) -> None:
    sarif = json.loads(example_run["sarif_text"])
    assert schema_errors(sarif_validator, sarif) == []
    assert multitool_errors(multitool, example_run["sarif_path"], tmp_path) == []
    names = [r["tool"]["driver"]["name"] for r in sarif["runs"]]
    assert names == [
        "bandit",
        "detect-secrets",
        "pip-audit",
        "lockfile-audit",
        "zizmor",
        "semgrep",
        "git-history",
        "posture",
    ]
    results = sum(len(r["results"]) for r in sarif["runs"])
    assert results == len(example_run["doc"]["findings"])
    for run in sarif["runs"]:
        for result in run["results"]:
            assert ":" in result["partialFingerprints"]["primaryLocationLineHash"]


def test_no_canary_in_any_output(example_run: dict[str, Any]) -> None:
    outputs = {
        "sarif": example_run["sarif_text"],
        "json": example_run["stdout"],
        "log": example_run["stderr"],
        "table": example_run["table"].stdout + example_run["table"].stderr,
    }
    for name, text in outputs.items():  # nor the shape of one: a marker glued to part of a word
        assert not re.search(r"[\w-]\[REDACTED\]|\[REDACTED\]\w", text), f"a gap in the {name} output"
    for canary in CANARIES:
        for name, text in outputs.items():
            assert canary not in text, f"a canary reached the {name} output"
        assert canary.encode() not in example_run["db"], "a canary reached the database"
    # the secrets were found, only their values are gone
    rules = {f["rule"] for f in example_run["doc"]["findings"]}
    assert {"AWS Access Key", "Secret Keyword", "Private Key", "B105"} <= rules


def test_table_output_and_exit_code_follow_fail_on(example_run: dict[str, Any], tmp_path: Path) -> None:
    table = example_run["table"]
    assert table.returncode == 1  # the example's own config: fail_on = "high"
    assert "Findings by severity and tool" in table.stdout and "pip-audit" in table.stdout
    assert table.stderr.count("ok in") == 6  # one progress line per scanner in non-terminal mode
    assert (
        secscan(
            "run",
            EXAMPLE,
            "--scanner",
            "bandit",
            "--fail-on",
            "critical",
            "--sarif",
            tmp_path / "b.sarif",
            cwd=tmp_path,
        ).returncode
        == 0
    )


def _hostile_repo(root: Path, marker: Path) -> None:
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    (root / "pkg").mkdir(parents=True)
    for name in ("setup.py", "conftest.py", "bandit.py", "sitecustomize.py", "pkg/__init__.py"):
        (root / name).write_text(payload)
    for package in ("detect_secrets", "secscan", "secscan/scanners"):  # the scanners' wrappers too
        (root / package).mkdir()
        (root / package / "__init__.py").write_text(payload)
    (root / "pip_audit.py").write_text(payload)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (root / "backend.py").write_text(payload)
    (root / "requirements.txt").write_text(
        "-e .\n.\n./pkg\nfile:.\ngit+https://example.invalid/x.git#egg=x\nrequests>=2\n"
    )


def test_hostile_repository_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    repo = tmp_path / "repo"
    _hostile_repo(repo, marker)
    proc = secscan(
        "run", repo, "--format", "json", "--fail-on", "none", "--sarif", tmp_path / "o.sarif", cwd=repo
    )
    assert not marker.exists(), "scanning executed code from the target"
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    statuses = {s["name"]: s["status"] for s in doc["scanners"]}
    assert statuses["bandit"] == "ok" and statuses["pip-audit"] == "skipped"
    reasons = " ".join(n["message"] for n in doc["notifications"] if n["tool"] == "pip-audit")
    assert "editable" in reasons and "unpinned" in reasons


def test_symlinks_out_of_the_target_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.py").write_text('import subprocess\nsubprocess.call("x", shell=True)\n')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "ok.py").write_text("print('hello')\n")
    (repo / "link").symlink_to(outside)
    (repo / "link.py").symlink_to(outside / "leak.py")
    proc = secscan(
        "run", repo, "--format", "json", "--scanner", "bandit", "--sarif", tmp_path / "o.sarif", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["findings"] == []


def test_scanner_timeout_gives_exit_3_and_keeps_the_others(tmp_path: Path) -> None:
    target = tmp_path / "app"
    shutil.copytree(EXAMPLE, target)
    config = tmp_path / "secscan.toml"
    config.write_text(
        textwrap.dedent("""
        [scanners.bandit]
        timeout = 0.01
        [scanners.detect-secrets]
        exclude = ["osv"]
        [scanners.pip-audit]
        osv_db = "app/osv"
    """)
    )
    sarif = tmp_path / "out.sarif"
    proc = secscan("run", target, "--config", config, "--format", "json", "--sarif", sarif, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "incomplete"
    # (scanners with nothing to scan, such as zizmor, or git-history on a copy that is not a git
    # repository, are skipped and left out)
    statuses = {s["name"]: s["status"] for s in doc["scanners"] if s["status"] != "skipped"}
    assert statuses == {
        "bandit": "timeout",
        "detect-secrets": "ok",
        "pip-audit": "ok",
        "lockfile-audit": "ok",
        "posture": "ok",
    }
    tools = {f["tool"] for f in doc["findings"]}
    assert tools == {"detect-secrets", "pip-audit", "lockfile-audit"}
    runs = {r["tool"]["driver"]["name"]: r for r in json.loads(sarif.read_text())["runs"]}
    assert runs["bandit"]["invocations"][0]["executionSuccessful"] is False
    assert "timed out" in runs["bandit"]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert runs["pip-audit"]["results"] and runs["detect-secrets"]["results"]


def test_malformed_tool_output_fails_that_tool_only(tmp_path: Path) -> None:
    tool = tmp_path / "broken_tool.py"
    tool.write_text("import sys\nopen(sys.argv[1], 'w').write('{not sarif')\n")
    config = tmp_path / "secscan.toml"
    config.write_text(
        "[scanners.broken]\n"
        f'command = [{json.dumps(sys.executable)}, {json.dumps(str(tool))}, "{{output}}"]\n'
        "[scanners.detect-secrets]\nenabled = false\n[scanners.pip-audit]\nenabled = false\n"
        "[scanners.lockfile-audit]\nenabled = false\n"
    )
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text('import subprocess\nsubprocess.call("x", shell=True)\n')
    proc = secscan(
        "run", repo, "--config", config, "--format", "json", "--sarif", tmp_path / "o.sarif", cwd=tmp_path
    )
    assert proc.returncode == 3
    doc = json.loads(proc.stdout)
    statuses = {s["name"]: s["status"] for s in doc["scanners"] if s["status"] != "skipped"}
    assert statuses == {"bandit": "ok", "posture": "ok", "broken": "failed"}
    assert any(f["rule"] == "B602" for f in doc["findings"])


@pytest.mark.parametrize(
    ("setup", "args", "needle"),
    [
        ("missing", ["run", "{tmp}/nope"], "does not exist"),
        ("file", ["run", "{tmp}/file.txt"], "not a directory"),
        (
            "badconfig",
            ["run", "{tmp}/repo", "--config", "{tmp}/bad.toml"],
            "unknown key 'scanners.bandit.timout'",
        ),
        ("badtoml", ["run", "{tmp}/repo", "--config", "{tmp}/bad.toml"], "not valid TOML"),
        ("repo", ["run", "{tmp}/repo", "--fail-on", "urgent"], "--fail-on"),
        ("repo", ["run", "{tmp}/repo", "--scanner", "nosuch"], "no such scanner"),
        ("repo", ["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, setup: str, args: list[str], needle: str
) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "file.txt").write_text("x")
    if setup == "badconfig":
        (tmp_path / "bad.toml").write_text("[scanners.bandit]\ntimout = 5\n")
    if setup == "badtoml":
        (tmp_path / "bad.toml").write_text("[scanners.bandit\n")
    sarif = tmp_path / "out.sarif"
    proc = (
        secscan(*(a.format(tmp=tmp_path) for a in args), "--sarif", sarif, cwd=tmp_path)
        if args[0] == "run"
        else secscan(*args, cwd=tmp_path)
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not sarif.exists()
