"""The zizmor adapter with real zizmor on workflows written for these tests (tests/assets/zizmor)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from secscan.app.pipeline import run_scan
from secscan.config.policy import load_policy
from secscan.config.settings import build_settings
from secscan.core.model import NotificationLevel, ScannerResult, ScannerStatus
from secscan.scanners._tools import find_tool
from secscan.scanners.interface import ScanJob
from secscan.scanners.runner import run_scanner
from secscan.scanners.zizmor import ZizmorScanner, completed, kind

FIXTURE = Path(__file__).resolve().parents[1] / "assets" / "zizmor" / "repo"
AUDITED = (
    ".github/actions/setup/action.yml",
    ".github/dependabot.yml",
    ".github/workflows/issue-bot.yml",
    ".github/workflows/pr-target.yml",
    ".github/workflows/release.yml",
)
BROKEN = (".github/workflows/broken.yml", ".github/workflows/not-a-workflow.yml")

Found = set[tuple[str, int, str]]


def _files(root: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()))


def _job(root: Path, workdir: Path, **options: object) -> ScanJob:
    return ScanJob(root=root, files=_files(root), workdir=workdir, policy=load_policy(), options=options)


def _found(result: ScannerResult) -> Found:
    return {(f.location.path, f.location.start_line, f.rule_id) for f in result.findings}


def _by_hand(root: Path, *args: str) -> Found:
    """``zizmor --offline --format sarif .`` as a user runs it in the repository."""
    zizmor = find_tool("zizmor")
    assert zizmor is not None
    done = subprocess.run(
        [str(zizmor), "--offline", "--format", "sarif", *args, "."],
        cwd=root,
        capture_output=True,
        timeout=120,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(root.parent)},
        check=True,
    )
    found: Found = set()
    for run in json.loads(done.stdout)["runs"]:
        for result in run["results"]:
            physical = result["locations"][0]["physicalLocation"]
            uri = physical["artifactLocation"]["uri"].removeprefix("./")
            found.add((uri, physical["region"]["startLine"], result["ruleId"].removeprefix("zizmor/")))
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the fixture outside any git repository (zizmor's URIs follow the nearest .git)."""
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy)
    return copy


@pytest.mark.parametrize("git", [False, True])
def test_findings_equal_zizmor_run_by_hand(repo: Path, git: bool) -> None:
    """In a git checkout (zizmor then collects as GitHub reads a repository: the root's workflows,
    actions anywhere) and in a plain folder."""
    if git:
        shutil.copytree(repo / ".github", repo / "services" / "api" / ".github")
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    outcome = run_scan(repo, build_settings({}), only=["zizmor"])
    [result] = outcome.run.scanners
    assert result.status is ScannerStatus.OK, result.reason
    by_hand = _by_hand(repo)
    assert _found(result) == by_hand
    audits = {rule for _, _, rule in by_hand}
    assert {"template-injection", "unpinned-uses", "excessive-permissions", "dangerous-triggers"} <= audits
    assert all(f.fingerprint and f.line_hash for f in result.findings), "identities were assigned"


def test_the_fixture_inside_a_git_repository_keeps_its_paths(repo: Path, tmp_path: Path) -> None:
    """Scanned in place (inside secscan's checkout) or with a submodule-like nested .git, every
    result still names the scanned file (zizmor's own URIs are relative to the nearest .git)."""
    in_place = run_scanner(ZizmorScanner(), _job(FIXTURE, tmp_path / "w1"), timeout_s=120)
    copied = run_scanner(ZizmorScanner(), _job(repo, tmp_path / "w2"), timeout_s=120)
    assert _found(in_place) == _found(copied) != set()
    vendored = repo / "vendor" / "lib"
    shutil.copytree(repo / ".github", vendored / ".github")
    (vendored / ".git").mkdir()
    nested = run_scanner(ZizmorScanner(), _job(repo, tmp_path / "w3"), timeout_s=120)
    assert nested.status is ScannerStatus.OK, nested.reason
    ours = _found(copied)
    action = ".github/actions/setup/action.yml"  # the vendored repository's workflows are not ours
    theirs = {(f"vendor/lib/{path}", line, rule) for path, line, rule in ours if path == action}
    assert theirs and _found(nested) == ours | theirs


def test_a_zizmor_config_in_the_repository_cannot_turn_audits_off(repo: Path, tmp_path: Path) -> None:
    config = "rules:\n  template-injection:\n    disable: true\n"
    (repo / ".github" / "zizmor.yml").write_text(config)
    assert not any(rule == "template-injection" for _, _, rule in _by_hand(repo)), "the config works by hand"
    result = run_scanner(ZizmorScanner(), _job(repo, tmp_path / "w1"), timeout_s=120)
    assert any(f.rule_id == "template-injection" for f in result.findings)
    # A trusted secscan configuration may name a zizmor config.
    trusted = tmp_path / "zizmor.yml"
    trusted.write_text(config)
    configured = run_scanner(ZizmorScanner(), _job(repo, tmp_path / "w2", config=str(trusted)), timeout_s=120)
    assert configured.status is ScannerStatus.OK, configured.reason
    assert not any(f.rule_id == "template-injection" for f in configured.findings)


def test_inputs_zizmor_cannot_audit_are_warned_about_and_not_covered(repo: Path, tmp_path: Path) -> None:
    result = run_scanner(ZizmorScanner(), _job(repo, tmp_path / "w"), timeout_s=120)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.scope == frozenset(AUDITED)
    notes = {n.path: n for n in result.notifications}
    assert set(notes) == set(BROKEN)
    assert all(n.level is NotificationLevel.WARNING and "not covered" in n.message for n in notes.values())


def test_a_workflow_named_in_bytes_that_are_not_utf8_is_left_out_and_the_rest_is_audited(
    repo: Path, tmp_path: Path
) -> None:
    """zizmor refuses such an argument and exited 2 for the whole repository ("For more
    information, try '--help'"): the file is now left out with a warning and not covered."""
    before = _found(run_scanner(ZizmorScanner(), _job(repo, tmp_path / "w0"), timeout_s=120))
    bad = os.fsdecode(b".github/workflows/bad\xff.yml")
    shutil.copy(repo / ".github/workflows/issue-bot.yml", repo / bad)
    result = run_scanner(ZizmorScanner(), _job(repo, tmp_path / "w"), timeout_s=120)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.scope == frozenset(AUDITED) and _found(result) == before and before
    [note] = [n for n in result.notifications if n.path == bad]
    assert note.level is NotificationLevel.WARNING
    escaped = ".github/workflows/bad\\xff.yml"
    assert note.message.startswith(f"zizmor cannot be given {escaped}: its name is not valid UTF-8")
    only_bad = ScanJob(root=repo, files=(bad,), workdir=tmp_path / "w2", policy=load_policy())
    alone = run_scanner(ZizmorScanner(), only_bad, timeout_s=120)
    assert alone.status is ScannerStatus.OK and alone.scope == frozenset() and len(alone.notifications) == 1


def test_a_run_where_no_input_can_be_audited_covers_nothing(repo: Path, tmp_path: Path) -> None:
    job = ScanJob(root=repo, files=BROKEN, workdir=tmp_path / "w", policy=load_policy())
    result = run_scanner(ZizmorScanner(), job, timeout_s=120)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.exit_code == 3 and result.scope == frozenset() and result.findings == ()
    assert {n.path for n in result.notifications} == set(BROKEN)


def test_severities_come_from_zizmor_severity_and_confidence(repo: Path, tmp_path: Path) -> None:
    result = run_scanner(ZizmorScanner(), _job(repo, tmp_path / "w"), timeout_s=120)
    by_rule = {f.rule_id: f for f in result.findings}
    assert (by_rule["template-injection"].tool_severity, by_rule["template-injection"].severity) == (
        "High/High",
        "high",
    )
    assert (by_rule["artipacked"].tool_severity, by_rule["artipacked"].severity) == ("Medium/Low", "low")
    override = tmp_path / "severity.toml"
    override.write_text('[zizmor.rules]\n"template-injection" = "critical"\n')
    job = ScanJob(root=repo, files=_files(repo), workdir=tmp_path / "w2", policy=load_policy(override))
    again = run_scanner(ZizmorScanner(), job, timeout_s=120)
    assert {f.severity for f in again.findings if f.rule_id == "template-injection"} == {"critical"}


def test_a_new_step_in_a_job_keeps_the_identity_of_a_job_wide_finding(repo: Path) -> None:
    def ids() -> dict[str, str]:
        [result] = run_scan(repo, build_settings({}), only=["zizmor"]).run.scanners
        ours = [f for f in result.findings if f.location.path.endswith("pr-target.yml")]
        return {f.rule_id: f.fingerprint for f in ours}

    before = ids()
    workflow = repo / ".github" / "workflows" / "pr-target.yml"
    workflow.write_text(workflow.read_text() + "      - name: Done\n        run: echo done\n")
    after = ids()
    assert after["excessive-permissions"] == before["excessive-permissions"]
    assert after == before


def test_no_token_and_no_user_state_reach_zizmor(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in zizmor records its arguments and environment."""
    tools = tmp_path / "tools"
    tools.mkdir()
    record = tmp_path / "record.json"
    fake = tools / "zizmor"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"json.dump({{'argv': sys.argv, 'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n"
        "files = sys.argv[sys.argv.index('--') + 1:]\n"
        "sys.stderr.write(''.join(f' INFO audit: zizmor: completed {f}\\n' for f in files))\n"
        "run = {'tool': {'driver': {'name': 'zizmor'}}, 'results': []}\n"
        "print(json.dumps({'version': '2.1.0', 'runs': [run]}))\n"
    )
    fake.chmod(0o755)
    for name in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN", "ZIZMOR_CONFIG"):
        monkeypatch.setenv(name, "canary-token-value")
    workdir = tmp_path / "w"
    result = run_scanner(ZizmorScanner(tool_folders=[tools]), _job(repo, workdir), timeout_s=60)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.scope == frozenset(AUDITED + BROKEN)
    seen = json.loads(record.read_text())
    assert "canary-token-value" not in json.dumps(seen["env"])
    assert {"--offline", "--no-config"} <= set(seen["argv"])
    assert seen["argv"][seen["argv"].index("--format") + 1] == "sarif"
    assert Path(seen["env"]["HOME"]).is_relative_to(workdir.absolute())


def test_what_zizmor_audits() -> None:
    assert kind(".github/workflows/ci.yml") == "GitHub Actions workflow"
    assert kind(".github/workflows/ci.yaml") == "GitHub Actions workflow"
    assert kind("sub/project/.github/workflows/ci.yml") is None  # not the repository's (nor zizmor's)
    assert kind(".github/workflows/nested/ci.yml") is None
    assert kind("tools/deploy/action.yaml") == "GitHub Actions action"
    assert kind(".github/dependabot.yml") == "Dependabot configuration"
    assert kind("dependabot.yml") is None and kind(".github/workflows/README.md") is None
    assert kind("sub/.github/dependabot.yml") is None
    log = "\x1b[32m INFO\x1b[0m audit: zizmor: completed ./a b/action.yml\n WARN failed to parse input\n"
    assert completed(log) == {"a b/action.yml"}


@pytest.mark.parametrize(
    ("output", "needle"),
    [
        (b"not json", "zizmor output x.sarif: SARIF log has no 'runs' list"),
        (b'{"version": "2.1.0", "runs": [{"results": 3}]}', "a run has no 'results' list"),
    ],
)
def test_unusable_output_is_a_one_line_error(output: bytes, needle: str) -> None:
    from secscan.core.errors import ScannerError
    from secscan.scanners._tools import ByteColumns
    from secscan.scanners._zizmor_sarif import ZizmorReader

    reader = ZizmorReader(load_policy(), AUDITED, ByteColumns(FIXTURE))
    with pytest.raises(ScannerError) as info:
        reader.read(output, "x.sarif")
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_odd_shapes_in_the_log_are_skipped_not_crashed_on() -> None:
    from secscan.scanners._tools import ByteColumns
    from secscan.scanners._zizmor_sarif import ZizmorReader

    def at(uri: str) -> list[dict[str, object]]:
        return [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]

    run = {
        "tool": {"driver": {"name": "zizmor", "rules": 7}},
        "invocations": "yes",
        "results": [
            5,
            {"ruleId": "zizmor/x", "locations": at("/etc/passwd")},
            {"ruleId": "zizmor/x", "suppressions": [{"status": "accepted"}], "locations": []},
            {"locations": at(AUDITED[0])},
        ],
    }
    reader = ZizmorReader(load_policy(), AUDITED, ByteColumns(FIXTURE))
    reader.read(json.dumps({"version": "2.1.0", "runs": [run]}).encode(), "x.sarif")
    assert reader.log.findings == []
    assert len(reader.log.notes) == 3  # the non-object, the stray path, the result without a rule
