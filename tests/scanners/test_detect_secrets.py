"""The detect-secrets adapter: planning, parsing recorded baselines, real runs on git and non-git trees."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from secscan.config.policy import load_policy
from secscan.core.errors import ScannerError
from secscan.core.model import ScannerStatus, Severity
from secscan.scanners.detect_secrets import DETECT_SECRETS_MAIN, IDENTITY_PREFIX, DetectSecretsScanner
from secscan.scanners.interface import Command, CommandResult, ScanJob
from secscan.scanners.runner import run_scanner

ASSETS = Path(__file__).parent.parent / "assets" / "detect-secrets"
RECORDED_FILES = ("pkg/app.py", "pkg/broken.py", "pkg/id_rsa", "pkg/util.py")


def make_job(root: Path, workdir: Path, files: tuple[str, ...], **options: object) -> ScanJob:
    return ScanJob(root=root, files=files, workdir=workdir, policy=load_policy(), options=options)


def recorded(tmp_path: Path, *assets: str) -> tuple[ScanJob, list[CommandResult]]:
    workdir = tmp_path / "work"
    workdir.mkdir()
    results = []
    for index, asset in enumerate(assets):
        out = workdir / f"detect-secrets-{index}.json"
        shutil.copy(ASSETS / asset, out)
        command = Command(argv=("detect-secrets",), cwd=tmp_path, stdout_path=out)
        results.append(CommandResult(command=command, exit_code=0, duration_s=0.1, stderr_tail=""))
    return make_job(tmp_path, workdir, RECORDED_FILES), results


def test_parse_recorded_baseline(tmp_path: Path) -> None:
    job, results = recorded(tmp_path, "good.json", "empty.json")
    output = DetectSecretsScanner().parse(job, results)
    assert [(f.location.path, f.location.start_line, f.rule_id) for f in output.findings] == [
        ("pkg/app.py", 4, "AWS Access Key"),
        ("pkg/app.py", 5, "Secret Keyword"),
        ("pkg/app.py", 8, "Secret Keyword"),
        ("pkg/app.py", 21, "Secret Keyword"),
        ("pkg/id_rsa", 1, "Private Key"),
    ]
    aws = output.findings[0]
    assert aws.message == "AWS Access Key committed in pkg/app.py"
    assert aws.identity == IDENTITY_PREFIX + "25910f981e85ca04baf359199dd0bd4a3ae738b6"
    assert aws.severity is Severity.CRITICAL and aws.tool_severity == "AWS Access Key"
    assert output.findings[1].severity is Severity.HIGH
    assert output.scope == frozenset(RECORDED_FILES)
    rules = {r.id: r for r in output.rules}
    assert sorted(rules) == ["AWS Access Key", "Private Key", "Secret Keyword"]
    assert rules["AWS Access Key"].name == "AWSKeyDetector"
    assert "IAM" in rules["AWS Access Key"].help_text and "rotate" in rules["AWS Access Key"].help_text
    assert "external/cwe/cwe-798" in rules["Private Key"].tags


def test_verified_secret_gets_the_verified_severity(tmp_path: Path) -> None:
    job, results = recorded(tmp_path, "good.json")
    path = results[0].command.stdout_path
    path.write_text(path.read_text().replace('"is_verified": false', '"is_verified": true'))
    keyword = DetectSecretsScanner().parse(job, results).findings[1]
    assert keyword.rule_id == "Secret Keyword"  # "high" when unverified
    assert keyword.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    "asset",
    [
        "malformed-truncated.json",
        "malformed-results-not-object.json",
        "malformed-missing-hash.json",
        "malformed-line-not-int.json",
    ],
)
def test_malformed_baselines_raise_scanner_error(tmp_path: Path, asset: str) -> None:
    job, results = recorded(tmp_path, asset)
    with pytest.raises(ScannerError, match=r"detect-secrets .*detect-secrets-0\.json") as info:
        DetectSecretsScanner().parse(job, results)
    assert "\n" not in str(info.value)


def test_plan_runs_in_the_root_without_verification(tmp_path: Path) -> None:
    job = ScanJob(
        root=tmp_path,
        files=("b.txt", "a.py"),
        workdir=tmp_path / "w",
        policy=load_policy(),
        args=("--exclude-lines", "example"),
        options={"processes": 3},
    )
    [command] = DetectSecretsScanner().plan(job).commands
    assert command.cwd == tmp_path
    assert command.argv == (
        sys.executable, "-P", "-m", DETECT_SECRETS_MAIN, "-c", "3", "scan", "-n",
        "--exclude-lines", "example", "--", "a.py", "b.txt",
    )  # fmt: skip
    assert DetectSecretsScanner().plan(make_job(tmp_path, tmp_path / "w", ())).skip_reason


def test_plan_chunks_huge_file_lists(tmp_path: Path) -> None:
    files = tuple(f"{'d' * 200}/file-{i:05}.txt" for i in range(2000))
    commands = DetectSecretsScanner().plan(make_job(tmp_path, tmp_path / "w", files, processes=4)).commands
    assert len(commands) > 1
    assert sorted(a for c in commands for a in c.argv[c.argv.index("--") + 1 :]) == list(files)
    assert all(sum(len(a) + 1 for a in c.argv) < 110_000 for c in commands)
    assert len({c.stdout_path for c in commands}) == len(commands)


def plant(root: Path) -> dict[str, str]:
    """Secrets generated at run time (never in the source), keyed by the type expected."""
    aws = "AKIA" + uuid.uuid4().hex[:16].upper()
    password = f"pw-{uuid.uuid4().hex}"
    key_body = uuid.uuid4().hex * 2
    (root / "conf").mkdir(parents=True)
    (root / "conf" / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{aws}"\npassword = "{password}"\n')
    (root / "conf" / "id_rsa").write_text(
        f"-----BEGIN RSA PRIVATE KEY-----\n{key_body}\n-----END RSA PRIVATE KEY-----\n"
    )
    (root / "README.md").write_text("nothing to see\n")
    return {"AWS Access Key": aws, "Secret Keyword": password, "Private Key": key_body}


@pytest.mark.parametrize("git", [False, True], ids=["plain-dir", "git-repo"])
def test_real_detect_secrets_finds_planted_secrets(tmp_path: Path, git: bool) -> None:
    root = tmp_path / "tree"
    secrets = plant(root)
    if git:
        if shutil.which("git") is None:
            pytest.skip("git is not installed")
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "add", "README.md"], check=True)  # the rest is untracked
    files = ("README.md", "conf/id_rsa", "conf/settings.py")
    result = run_scanner(DetectSecretsScanner(), make_job(root, tmp_path / "work", files), timeout_s=60)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.version.startswith("1.")
    found = {(f.rule_id, f.location.path) for f in result.findings}
    assert found == {
        ("AWS Access Key", "conf/settings.py"),
        ("Secret Keyword", "conf/settings.py"),
        ("Private Key", "conf/id_rsa"),
    }
    aws = next(f for f in result.findings if f.rule_id == "AWS Access Key")
    assert (
        aws.identity
        == IDENTITY_PREFIX
        + hashlib.sha1(secrets["AWS Access Key"].encode(), usedforsecurity=False).hexdigest()
    )
    text = repr(result)
    assert not [t for t, value in secrets.items() if value in text], "a planted secret leaked"
    assert result.scope == frozenset(files)


def test_chunks_are_balanced_by_bytes_and_largest_first(tmp_path: Path) -> None:
    """A big tree needs several command lines; each must get a fair share of the bytes."""
    root = tmp_path / "tree"
    root.mkdir()
    files = []
    for i in range(1200):
        name = f"{'d' * 120}-{i:05}.txt"
        (root / name).write_bytes(b"x" * (50_000 if i < 20 else 100))
        files.append(name)
    commands = DetectSecretsScanner().plan(make_job(root, tmp_path / "w", tuple(files), processes=2)).commands
    assert len(commands) >= 2
    loads = []
    for command in commands:
        chunk = command.argv[command.argv.index("--") + 1 :]
        sizes = [(root / f).stat().st_size for f in chunk]
        assert sizes == sorted(sizes, reverse=True)
        loads.append(sum(sizes))
    assert max(loads) - min(loads) <= 50_000  # within one large file


def test_a_file_named_in_bytes_that_are_not_utf8_is_scanned_and_reported_as_named(tmp_path: Path) -> None:
    """zizmor and semgrep cannot be given such a name (they leave it out); detect-secrets can."""
    bad = os.fsdecode(b"bad\xfd.py")
    for name in (bad, "ok.py"):
        (tmp_path / name).write_text('password = "hunter2-Xy7Qq9"\n')
    job = make_job(tmp_path, tmp_path / "work", (bad, "ok.py"))
    result = run_scanner(DetectSecretsScanner(), job, timeout_s=120)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.scope == frozenset({bad, "ok.py"})
    assert {(f.location.path, f.location.start_line) for f in result.findings} == {(bad, 1), ("ok.py", 1)}


def test_an_entropy_finding_of_the_same_value_as_a_typed_one_is_reported_once(tmp_path: Path) -> None:
    """detect-secrets reports a Slack token twice (its plugin, high; Base64 entropy, medium, same
    hash): one finding. A GitHub token's entropy finding has another hash (its plugin hashes only
    ``ghp``) and stays: it is what tells the run the whole value to redact."""
    root = tmp_path / "tree"
    root.mkdir()
    slack = "xoxb-1234567890-0987654321-Zq8xW7vU6tS5rQ4pO3nM2lK1"  # values the entropy plugin flags
    github = "ghp_Zq8xW7vU6tS5rQ4pO3nM2lK1jI0hG9fE8dC7"
    (root / "conf.py").write_text(f'SLACK = "{slack}"\nGITHUB = "{github}"\n')
    result = run_scanner(DetectSecretsScanner(), make_job(root, tmp_path / "work", ("conf.py",)), timeout_s=60)
    assert result.status is ScannerStatus.OK, result.reason
    found = sorted((f.location.start_line, f.rule_id) for f in result.findings)
    assert found == [(1, "Slack Token"), (2, "Base64 High Entropy String"), (2, "GitHub Token")]
    slack_hash = hashlib.sha1(slack.encode(), usedforsecurity=False).hexdigest()
    assert [f.identity for f in result.findings if f.location.start_line == 1] == [IDENTITY_PREFIX + slack_hash]
