"""Per-file results: path-free values, which entries may serve other paths, and the merge."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from secscan.config.policy import load_policy
from secscan.core.model import Finding, Location, Notification, NotificationLevel, Rule, Severity, ToolName
from secscan.scanners._subprocess import run_commands
from secscan.scanners.bandit import BanditScanner
from secscan.scanners.cache.codec import decode_file, encode_file, mentions, portable
from secscan.scanners.interface import FileOutputs, ScanJob
from secscan.scanners.per_file import merge

BANDIT = ToolName("bandit")


def _output(path: str, message: str = "Use of assert detected.") -> FileOutputs:
    from secscan.scanners.interface import FileOutput

    finding = Finding(BANDIT, "B101", message, Location(path, 3, 5, 3, 20), Severity.LOW, "LOW/HIGH",
                      aliases=("X-1",))
    rule = Rule("B101", "assert_used", "Assert used", message, "help", "https://bandit/b101", ("security",))
    note = Notification(NotificationLevel.NOTE, "note about it", path, 4)
    return FileOutputs({path: FileOutput((finding,), (rule,), (note,), covered=True)})


def test_values_are_path_free_and_redacted() -> None:
    part = _output("a/b.py", "token hunter2-hunter2 here").files["a/b.py"]
    value = encode_file(part, lambda text: text.replace("hunter2-hunter2", "[REDACTED]"))
    assert b"a/b.py" not in value and b"hunter2" not in value
    moved = decode_file(value, BANDIT, "c/d.py")
    assert moved.findings[0].location == Location("c/d.py", 3, 5, 3, 20)
    assert moved.findings[0].message == "token [REDACTED] here"
    assert moved.notifications[0].path == "c/d.py"
    assert moved.rules[0].full_description == "token [REDACTED] here"
    assert portable(part, "bandit", "a/b.py") and not portable(part, "bandit", "x.py")


def test_texts_naming_the_file_bind_the_entry_to_its_path() -> None:
    assert not mentions(_output("a/b.py").files["a/b.py"], "a/b.py")
    assert mentions(_output("a/b.py", "problem in a/b.py").files["a/b.py"], "a/b.py")
    assert mentions(_output("a/b.py", "problem in b.py").files["a/b.py"], "a/b.py")


def test_bandit_path_profile(tmp_path: Path) -> None:
    job = ScanJob(root=tmp_path, files=(), workdir=tmp_path, policy=load_policy())
    scanner = BanditScanner()
    assert scanner.path_profile(job, "pkg/mod.py") == ""
    assert scanner.path_profile(job, "pkg/CVSParser.py") is None  # bandit's own excludes skip it
    configured = ScanJob(tmp_path, (), tmp_path, load_policy(), args=("-c", "b.yml"))
    assert scanner.path_profile(configured, "pkg/mod.py") is None


def test_merge_takes_each_rule_from_the_first_file() -> None:
    parts = {**_output("z.py", "from z").files, **_output("a.py", "from a").files}
    merged = merge(FileOutputs(parts))
    assert [f.location.path for f in merged.findings] == ["a.py", "z.py"]
    assert merged.rules[0].full_description == "from a"
    assert merged.scope == {"a.py", "z.py"}


@pytest.mark.e2e
def test_bandit_output_does_not_depend_on_which_files_run_together(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "a.py").write_text("import dill\n")
    (root / "b.py").write_text("import pickle\nassert True\n")
    (root / "c.py").write_text("def broken(:\n")
    files = ("a.py", "b.py", "c.py")

    def scan(subset: tuple[str, ...], shards: int) -> FileOutputs:
        work = tmp_path / f"w{len(subset)}{subset[0]}{shards}"
        work.mkdir()
        job = ScanJob(root=root, files=subset, workdir=work, policy=load_policy(), options={"shards": shards})
        scanner = BanditScanner()
        batch = run_commands(scanner.plan(job).commands, time.monotonic() + 120)
        assert all(scanner.exit_ok(r.exit_code) for r in batch.results)
        return scanner.parse_files(job, batch.results)

    together = scan(files, 2)
    alone = {path: part for f in files for path, part in scan((f,), 1).files.items()}
    assert dict(together.files) == alone
    merged = merge(FileOutputs(alone))
    b403 = next(r for r in merged.rules if r.id == "B403")
    assert "dill" in b403.full_description  # from a.py, the first file using it
    assert merged.scope == {"a.py", "b.py"} and merged.notifications[0].path == "c.py"



@pytest.mark.parametrize("covered", [True, False])
def test_files_without_results_round_trip(covered: bool) -> None:
    from secscan.scanners.interface import FileOutput

    value = encode_file(FileOutput(covered=covered), str)
    assert decode_file(value, BANDIT, "x.py") == FileOutput(covered=covered)
    assert decode_file(value, BANDIT, "y.py").covered is covered
