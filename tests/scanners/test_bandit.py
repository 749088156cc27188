"""The bandit adapter: planning and sharding, parsing recorded outputs, and real runs on tiny trees."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from secscan.config.policy import load_policy
from secscan.core.errors import ScannerError
from secscan.core.model import NotificationLevel, ScannerResult, ScannerStatus, Severity
from secscan.scanners.bandit import BANDIT_MAIN, BanditScanner, shard, shard_count
from secscan.scanners.interface import Command, CommandResult, ScanJob
from secscan.scanners.runner import run_scanner

ASSETS = Path(__file__).parent.parent / "assets" / "bandit"
RECORDED_CANARIES = ("CANARY-b105-not-a-secret", "CANARY-b106-not-a-secret", "CANARY-b107-not-a-secret")


def make_job(root: Path, workdir: Path, files: tuple[str, ...], **options: object) -> ScanJob:
    return ScanJob(root=root, files=files, workdir=workdir, policy=load_policy(), options=options)


def recorded(tmp_path: Path, *assets: str) -> tuple[ScanJob, list[CommandResult]]:
    """A job over the recorded tree and command results whose reports are the given assets."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    results = []
    for index, asset in enumerate(assets):
        shutil.copy(ASSETS / asset, workdir / f"bandit-{index}.json")
        command = Command(argv=("bandit",), cwd=tmp_path, stdout_path=workdir / f"bandit-{index}.stdout")
        results.append(CommandResult(command=command, exit_code=1, duration_s=0.1, stderr_tail=""))
    files = ("pkg/app.py", "pkg/broken.py", "pkg/id_rsa", "pkg/util.py")
    return make_job(tmp_path, workdir, files), results


def leaked(result: ScannerResult, canaries: tuple[str, ...]) -> list[int]:
    """Indexes of the canaries that appear anywhere in the result (no value is ever printed)."""
    text = repr(result)
    return [index for index, canary in enumerate(canaries) if canary in text]


def test_parse_recorded_report(tmp_path: Path) -> None:
    job, results = recorded(tmp_path, "good.json")
    output = BanditScanner().parse(job, results)
    assert sorted(f.rule_id for f in output.findings) == [
        "B101",
        "B105",
        "B106",
        "B107",
        "B324",
        "B404",
        "B602",
    ]
    assert output.scope == frozenset({"pkg/app.py", "pkg/util.py"})  # broken.py failed to parse
    [note] = output.notifications
    assert note.level is NotificationLevel.WARNING and note.path == "pkg/broken.py"
    assert "not covered" in note.message

    shell = next(f for f in output.findings if f.rule_id == "B602")
    assert shell.location.path == "pkg/app.py"
    assert (shell.location.start_line, shell.location.start_column) == (13, 12)
    assert (shell.location.end_line, shell.location.end_column) == (13, 59)
    assert shell.severity is Severity.HIGH and shell.tool_severity == "HIGH/HIGH"
    assert shell.identity is None

    rules = {r.id: r for r in output.rules}
    assert rules["B602"].tags == ("security", "external/cwe/cwe-78")
    assert rules["B602"].help_uri is not None and "b602" in rules["B602"].help_uri
    assert "CWE-78" in rules["B602"].help_text
    assert rules["B602"].short_description == "Subprocess popen with shell equals true"
    assert rules["B404"].name == "import_subprocess"  # not bandit's shared "blacklist"


def test_recorded_passwords_never_reach_findings_or_rules(tmp_path: Path) -> None:
    job, results = recorded(tmp_path, "good.json")
    output = BanditScanner().parse(job, results)
    text = repr(output)
    assert not [c for c in RECORDED_CANARIES if c in text], "a hardcoded password leaked"
    assert "AKIA" not in text, "bandit's code context leaked"
    passwords = [f for f in output.findings if f.rule_id in ("B105", "B106", "B107")]
    assert len(passwords) == 3
    assert all(f.message == "Possible hardcoded password: '[REDACTED]'" for f in passwords)


def test_extra_rules_can_be_redacted(tmp_path: Path) -> None:
    job, results = recorded(tmp_path, "good.json")
    job = make_job(job.root, job.workdir, job.files, redact_rules=["B324"])
    md5 = next(f for f in BanditScanner().parse(job, results).findings if f.rule_id == "B324")
    assert "MD5" in md5.message  # no quote in this text: nothing to redact, nothing lost


def test_parse_merges_shards_and_clean_reports(tmp_path: Path) -> None:
    job, results = recorded(tmp_path, "good.json", "clean.json")
    output = BanditScanner().parse(job, results)
    assert len(output.findings) == 7
    assert output.scope == frozenset({"pkg/app.py", "pkg/util.py"})


@pytest.mark.parametrize(
    "asset",
    [
        "malformed-truncated.json",
        "malformed-missing-test-id.json",
        "malformed-errors-not-list.json",
        "malformed-not-object.json",
    ],
)
def test_malformed_reports_raise_scanner_error(tmp_path: Path, asset: str) -> None:
    job, results = recorded(tmp_path, "clean.json", asset)
    with pytest.raises(ScannerError, match=r"bandit .*bandit-1\.json") as info:
        BanditScanner().parse(job, results)
    assert "\n" not in str(info.value)


def test_missing_report_raises_scanner_error(tmp_path: Path) -> None:
    job, results = recorded(tmp_path, "clean.json")
    (job.workdir / "bandit-0.json").unlink()
    with pytest.raises(ScannerError, match="bandit wrote no readable report"):
        BanditScanner().parse(job, results)


def test_plan_scans_only_python_files_from_the_root(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    job = ScanJob(
        root=tmp_path,
        files=("a.py", "README.md", "b/c.py"),
        workdir=tmp_path / "w",
        policy=load_policy(),
        args=("-s", "B101"),
    )
    [command] = BanditScanner().plan(job).commands
    assert command.cwd == tmp_path
    assert command.argv[:4] == (sys.executable, "-P", "-m", BANDIT_MAIN)
    assert command.argv[-5:] == ("-s", "B101", "--", "a.py", "b/c.py")
    assert "README.md" not in command.argv
    assert BanditScanner().plan(make_job(tmp_path, tmp_path / "w", ("README.md",))).skip_reason


def test_shard_balances_bytes_largest_first() -> None:
    sizes = [("a", 100), ("b", 60), ("c", 50), ("d", 10), ("e", 0)]
    bins = shard(sizes, 2)
    assert sorted(p for b in bins for p in b) == ["a", "b", "c", "d", "e"]
    assert sorted(sum(dict(sizes)[p] for p in b) for b in bins) == [110, 110]
    assert shard([("a", 1)], 4) == [["a"]]


def test_shard_count() -> None:
    assert shard_count(files=10, total_bytes=10_000_000, requested=None) == 1  # few files
    assert shard_count(files=1000, total_bytes=1000, requested=None) == 1  # few bytes
    assert shard_count(files=3, total_bytes=10, requested=8) == 3  # never more than files
    assert shard_count(files=100, total_bytes=10, requested=4) == 4


def test_plan_shards_large_inputs(tmp_path: Path) -> None:
    files = tuple(f"m{i:03}.py" for i in range(50))
    for name in files:
        (tmp_path / name).write_text("x = 1\n" * 1000)
    commands = BanditScanner().plan(make_job(tmp_path, tmp_path / "w", files, shards=4)).commands
    assert len(commands) == 4
    scanned = [a for c in commands for a in c.argv[c.argv.index("--") + 1 :]]
    assert sorted(scanned) == list(files)
    assert len({c.stdout_path for c in commands}) == 4


def plant(root: Path) -> tuple[str, ...]:
    """A tiny tree with secrets generated at run time; returns the parts that must not leak."""
    core = uuid.uuid4().hex  # what must never leak (repr() could escape the quotes around it)
    password = f"pw-'{core}'-x"  # bandit quotes it raw: the quotes must not cut redaction short
    funcarg = f"fa-{uuid.uuid4().hex}"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "app.py").write_text(
        "import subprocess\n"
        f'password = "{password}"\n'
        "def run(cmd):\n"
        "    return subprocess.call(cmd, shell=True)\n"
        f'run("x", token="{funcarg}")\n'
    )
    (root / "pkg" / "broken.py").write_text("def broken(:\n")
    for index in range(4):
        (root / "pkg" / f"mod{index}.py").write_text(f"import pickle\nvalue = pickle.loads(b'{index}')\n")
    # A module that shadows bandit in the target root must never be imported.
    (root / "bandit.py").write_text("from pathlib import Path\nPath('SHADOW-IMPORTED').write_text('x')\n")
    return core, funcarg


def scan_tree(tmp_path: Path, name: str, **options: object) -> ScannerResult:
    root = tmp_path / "tree"
    files = tuple(sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()))
    return run_scanner(BanditScanner(), make_job(root, tmp_path / name, files, **options), timeout_s=60)


def test_real_bandit_finds_issues_without_leaking_secrets(tmp_path: Path) -> None:
    secrets = plant(tmp_path / "tree")
    result = scan_tree(tmp_path, "w1", shards=1)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.exit_code == 1
    assert result.version.startswith("1.")
    assert {"B105", "B106", "B602", "B301"} <= {f.rule_id for f in result.findings}
    assert not leaked(result, secrets), "a planted secret leaked into the bandit result"
    assert "pkg/broken.py" not in result.scope and "pkg/app.py" in result.scope
    assert [n.path for n in result.notifications] == ["pkg/broken.py"]
    assert not (tmp_path / "tree" / "SHADOW-IMPORTED").exists(), "bandit imported a module of the target"


def test_sharded_and_unsharded_results_are_identical(tmp_path: Path) -> None:
    plant(tmp_path / "tree")
    one = scan_tree(tmp_path, "w1", shards=1)
    three = scan_tree(tmp_path, "w3", shards=3)
    assert one.status is three.status is ScannerStatus.OK
    assert len(list((tmp_path / "w3").glob("bandit-*.json"))) == 3
    assert one.findings == three.findings
    assert one.rules == three.rules
    assert one.scope == three.scope
    assert one.notifications == three.notifications


def test_a_file_named_in_bytes_that_are_not_utf8_is_scanned_and_reported_as_named(tmp_path: Path) -> None:
    """zizmor and semgrep cannot be given such a name (they leave it out); bandit can."""
    bad = os.fsdecode(b"bad\xfd.py")
    for name in (bad, "ok.py"):
        (tmp_path / name).write_text("import os\nos.system(input())\n")
    job = make_job(tmp_path, tmp_path / "work", (bad, "ok.py"))
    result = run_scanner(BanditScanner(), job, timeout_s=120)
    assert result.status is ScannerStatus.OK, result.reason
    assert result.scope == frozenset({bad, "ok.py"})
    assert {(f.location.path, f.rule_id) for f in result.findings} == {(bad, "B605"), ("ok.py", "B605")}
