"""The semgrep adapter with real semgrep: coverage, isolation from the target, the missing extra."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from secscan.app.pipeline import run_scan
from secscan.config.policy import load_policy, rules_dir
from secscan.config.settings import build_settings
from secscan.core.model import NotificationLevel, ScannerResult, ScannerStatus
from secscan.report.sarif import build_sarif
from secscan.scanners import _tools
from secscan.scanners._semgrep_rules import load_pack
from secscan.scanners._tools import find_tool
from secscan.scanners.interface import ScanJob
from secscan.scanners.runner import run_scanner
from secscan.scanners.semgrep import INSTALL, SMALL_BYTES, SemgrepScanner, shard_count

SAMPLES = rules_dir() / "semgrep-samples"
POSITIVE = (
    "js.code-injection/positive/eval.js",
    "js.shell-command-from-string/positive/imports.ts",
    "pine.secret-in-alert-message/positive/bot.pine",
    "text.tls-verification-disabled/positive/.npmrc",
)


def _job(root: Path, files: tuple[str, ...], workdir: Path, **options: object) -> ScanJob:
    return ScanJob(root=root, files=files, workdir=workdir, policy=load_policy(), options=options)


def _copy(target: Path, names: tuple[str, ...] = POSITIVE) -> tuple[str, ...]:
    for name in names:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, target / name)
    return names


def _found(result: ScannerResult) -> set[tuple[str, int, str]]:
    return {(f.location.path, f.location.start_line, f.rule_id) for f in result.findings}


def test_semgrep_not_installed_is_skipped_with_what_went_unscanned(tmp_path: Path) -> None:
    """The executable is made unavailable to the adapter (an empty tools folder): a visible gap."""
    root = tmp_path / "repo"
    files = _copy(root) + _copy(root, ("js.code-injection/negative/literal.js",))
    (root / "app.py").write_text("print('not semgrep')\n")
    empty = tmp_path / "no-tools"
    empty.mkdir()
    scanner = SemgrepScanner(tool_folders=[empty])
    result = run_scanner(scanner, _job(root, (*files, "app.py"), tmp_path / "work"), timeout_s=60)
    expected = (
        "semgrep is not installed, so 2 JavaScript, 1 TypeScript, 1 Pine Script and 1 configuration and "
        f"shell files went unscanned; install it with: {INSTALL}"
    )
    assert result.status is ScannerStatus.SKIPPED
    assert result.reason == expected
    assert [(n.level, n.message) for n in result.notifications] == [(NotificationLevel.WARNING, expected)]
    assert result.version == "not installed" and result.findings == () and result.scope == frozenset()


def test_no_file_for_the_rules_is_a_quiet_skip(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    result = run_scanner(SemgrepScanner(), _job(tmp_path, ("app.py",), tmp_path / "work"), timeout_s=60)
    assert result.status is ScannerStatus.SKIPPED
    assert result.reason == "no JavaScript, TypeScript, Pine Script, configuration and shell files to scan"
    assert result.notifications == ()


def test_the_plan_stays_offline_and_writes_no_user_state(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    files = _copy(root)
    workdir = tmp_path / "work"
    workdir.mkdir()
    scanner = SemgrepScanner()
    plan = scanner.plan(_job(root, files, workdir, jobs=2, max_target_bytes=1234))
    [command] = plan.commands
    argv = list(command.argv)
    for flag in ("--experimental", "--metrics=off", "--disable-version-check", "--no-git-ignore", "--json"):
        assert flag in argv
    config = Path(argv[argv.index("--config") + 1])
    assert config.parent == workdir.absolute() and config.read_text() == scanner.pack.config
    assert argv.count("--config") == 1 and "auto" not in argv
    assert argv[argv.index("--jobs") + 1] == "2" and argv[argv.index("--max-target-bytes") + 1] == "1234"
    assert argv[argv.index("--") + 1 :] == list(scanner.scannable(files))
    assert command.cwd == root
    assert Path(command.env["HOME"]).is_relative_to(workdir.absolute())
    assert command.env["SEMGREP_SEND_METRICS"] == "off" and command.env["SEMGREP_ENABLE_VERSION_CHECK"] == "0"


def test_ignore_files_and_configs_in_the_target_change_nothing(tmp_path: Path) -> None:
    """The inventory decides the files and secscan's packs the rules, whatever the target holds."""
    plain, hostile = tmp_path / "plain", tmp_path / "hostile"
    files = _copy(plain)
    _copy(hostile)
    (hostile / ".semgrepignore").write_text("*\n*.js\n*.ts\n*.pine\njs.code-injection/\n")
    (hostile / ".gitignore").write_text("*\n")
    rule = "rules:\n- id: planted\n  languages: [javascript]\n  severity: INFO\n  message: x\n  pattern: $X\n"
    (hostile / ".semgrep.yml").write_text(rule)
    (hostile / ".semgrep").mkdir()
    (hostile / ".semgrep" / "planted.yml").write_text(rule)
    subprocess.run(["git", "init", "-q", str(hostile)], check=True)
    results = [
        run_scanner(SemgrepScanner(), _job(root, files, tmp_path / f"work-{root.name}"), timeout_s=120)
        for root in (plain, hostile)
    ]
    assert all(r.status is ScannerStatus.OK for r in results), [r.reason for r in results]
    assert _found(results[0]) == _found(results[1]) != set()
    assert results[0].scope == results[1].scope == frozenset(files)


def test_unparsable_and_oversized_files_are_not_covered(tmp_path: Path) -> None:
    (tmp_path / "ok.js").write_text("eval(userInput);\n")
    (tmp_path / "broken.js").write_text("function f( {\n  eval(x);\n")
    (tmp_path / "big.js").write_text("eval(a);\n" + "var filler = 1;\n" * 100)
    files = ("big.js", "broken.js", "ok.js")
    result = run_scanner(
        SemgrepScanner(), _job(tmp_path, files, tmp_path / "work", max_target_bytes=1000), timeout_s=120
    )
    assert result.status is ScannerStatus.OK, result.reason
    assert result.scope == frozenset({"ok.js"})
    assert ("ok.js", 1, "js.code-injection") in _found(result)
    notes = {n.path: n.message for n in result.notifications}
    assert set(notes) == {"big.js", "broken.js"}
    assert "could not fully parse broken.js" in notes["broken.js"] and "skipped big.js" in notes["big.js"]
    assert all("eval" not in message for message in notes.values()), "no source text in notifications"


def test_columns_are_utf16_code_units_and_lines_are_exact(tmp_path: Path) -> None:
    line = 'const label = "é日本😀"; eval(userInput);'
    (tmp_path / "a.js").write_text("// header\n" + line + "\n", encoding="utf-8")
    result = run_scanner(SemgrepScanner(), _job(tmp_path, ("a.js",), tmp_path / "work"), timeout_s=120)
    [finding] = result.findings
    start = len(line[: line.index("eval")].encode("utf-16-le")) // 2 + 1
    assert (finding.location.start_line, finding.location.start_column) == (2, start)
    assert finding.location.end_column == start + len("eval(userInput)")


def test_the_native_command_line_gives_the_results_of_the_default_one(tmp_path: Path) -> None:
    """secscan runs ``semgrep scan --experimental`` (native, ~0.15 s to start instead of ~2 s):
    on every sample it reports exactly what the default (Python) command line reports."""
    semgrep = find_tool("semgrep")
    assert semgrep is not None, f"semgrep is not installed; run {INSTALL}"
    config = tmp_path / "rules.yml"
    config.write_text(load_pack([rules_dir() / "semgrep"]).config)
    files = sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.is_file())
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(tmp_path),
        "SEMGREP_SEND_METRICS": "off",
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
    }
    base = [str(semgrep), "scan", "--config", str(config), "--json", "--metrics=off", "--quiet"]
    base += ["--disable-version-check", "--no-git-ignore", "--no-rewrite-rule-ids"]
    outputs = []
    for extra in ([], ["--experimental"]):
        done = subprocess.run(
            [*base, *extra, "--", *files], cwd=SAMPLES, capture_output=True, env=env, timeout=300, check=True
        )
        doc = json.loads(done.stdout)
        results = sorted(json.dumps([r["check_id"], r["path"], r["start"], r["end"]]) for r in doc["results"])
        outputs.append((results, sorted(doc["paths"]["scanned"]), doc["errors"]))
    assert outputs[0] == outputs[1]
    assert len(outputs[0][0]) > 40


def test_cache_material_changes_with_the_rules_and_options(tmp_path: Path) -> None:
    copy = tmp_path / "packs"
    shutil.copytree(rules_dir() / "semgrep", copy)
    job = _job(tmp_path, (), tmp_path)
    before = SemgrepScanner(rules=[copy]).cache_material(job)
    assert before == SemgrepScanner().cache_material(job)
    rule = copy / "pine" / "missing-version.yml"
    rule.write_text(rule.read_text().replace("severity: LOW", "severity: MEDIUM"))
    assert SemgrepScanner(rules=[copy]).cache_material(job) != before
    assert SemgrepScanner().cache_material(_job(tmp_path, (), tmp_path, max_target_bytes=5)) != before


@pytest.mark.parametrize("name", ["-dash.js", "sp ace.js", "ünï.js"])
def test_awkward_file_names_are_scanned_and_reported_as_named(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("eval(x);\n")
    result = run_scanner(SemgrepScanner(), _job(tmp_path, (name,), tmp_path / "work"), timeout_s=120)
    assert result.status is ScannerStatus.OK, result.reason
    assert _found(result) == {(name, 1, "js.code-injection")} and result.scope == frozenset({name})


def test_a_file_named_in_bytes_that_are_not_utf8_is_left_out_and_the_rest_is_scanned(tmp_path: Path) -> None:
    """semgrep wrote the raw name into its JSON report, which could not be read: the scanner failed."""
    bad = os.fsdecode(b"bad\xfe.js")
    (tmp_path / bad).write_text("eval(x);\n")
    (tmp_path / "ok.js").write_text("eval(y);\n")
    result = run_scanner(SemgrepScanner(), _job(tmp_path, (bad, "ok.js"), tmp_path / "work"), timeout_s=120)
    assert result.status is ScannerStatus.OK, result.reason
    assert _found(result) == {("ok.js", 1, "js.code-injection")} and result.scope == frozenset({"ok.js"})
    [note] = result.notifications
    assert note.path == bad and note.level is NotificationLevel.WARNING
    assert note.message.startswith("semgrep cannot be given bad\\xfe.js: its name is not valid UTF-8")


def test_the_missing_extra_reaches_the_sarif_log_and_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the whole pipeline, with no semgrep in this environment's script folders."""
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setattr(_tools, "_script_folders", lambda: [empty])
    root = tmp_path / "repo"
    _copy(root)
    outcome = run_scan(root, build_settings({}), only=["semgrep"])
    [result] = outcome.run.scanners
    assert result.status is ScannerStatus.SKIPPED and outcome.run.complete
    [run] = build_sarif(outcome.run, outcome.policy)["runs"]
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    counts = "1 JavaScript, 1 TypeScript, 1 Pine Script and 1 configuration and shell files"
    assert any(counts in n for n in notes)
    assert all(INSTALL in n for n in notes)


@pytest.mark.parametrize(
    ("report", "needle"),
    [
        ("[]", "the top level is not an object"),
        ('{"results": 1, "errors": [], "paths": {"scanned": []}}', "'errors' or 'paths' is missing"),
        ('{"results": [{"path": "a.js"}], "errors": [], "paths": {"scanned": []}}', "'check_id' or 'extra'"),
        ("{", "is not valid JSON"),
    ],
)
def test_a_malformed_report_fails_the_scanner_with_one_line(tmp_path: Path, report: str, needle: str) -> None:
    """A stand-in semgrep prints the report: the adapter fails that scanner, never crashes."""
    tools = tmp_path / "tools"
    tools.mkdir()
    fake = tools / "semgrep"
    fake.write_text(f"#!/bin/sh\ncat <<'EOF'\n{report}\nEOF\n")
    fake.chmod(0o755)
    (tmp_path / "a.js").write_text("eval(x);\n")
    result = run_scanner(
        SemgrepScanner(tool_folders=[tools]), _job(tmp_path, ("a.js",), tmp_path / "work"), timeout_s=60
    )
    assert result.status is ScannerStatus.FAILED
    assert result.reason is not None and needle in result.reason and "\n" not in result.reason


def test_shard_count_follows_the_bytes_and_the_setting() -> None:
    assert shard_count(total_bytes=SMALL_BYTES - 1, files=50, requested=None) == 1
    assert shard_count(total_bytes=SMALL_BYTES, files=50, requested=None) == (os.cpu_count() or 1)
    assert shard_count(total_bytes=SMALL_BYTES, files=1, requested=None) == 1
    assert shard_count(total_bytes=10, files=50, requested=3) == 3


def test_sharded_runs_give_the_findings_and_coverage_of_one_process(tmp_path: Path) -> None:
    """Files split across semgrep processes, balanced by bytes; the merged result is the same."""
    files = sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.is_file())
    _copy(tmp_path, tuple(files))
    results = []
    for shards in (1, 3):
        job = _job(tmp_path, tuple(files), tmp_path / f"work{shards}", shards=shards)
        job.workdir.mkdir()
        commands = SemgrepScanner().plan(job).commands
        assert len(commands) == shards
        scanned = sorted(a for c in commands for a in c.argv[c.argv.index("--") + 1 :])
        assert scanned == sorted(SemgrepScanner().scannable(files))
        results.append(run_scanner(SemgrepScanner(), job, timeout_s=300))
    one, three = results
    assert one.status is three.status is ScannerStatus.OK, (one.reason, three.reason)
    assert _found(one) == _found(three) and len(_found(one)) > 40
    assert one.scope == three.scope and one.findings == three.findings
