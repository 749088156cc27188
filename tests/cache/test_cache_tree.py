"""A tree-local scanner's remembered output (``secscan.scanners.cache.tree``, posture) answers a run
only while every input it depends on is unchanged: after each change below, a run gives what a
run without cache gives, and the old output is never served."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from secscan.config.cache import CacheConfig
from secscan.config.policy import load_policy
from secscan.core.model import (
    Finding,
    Location,
    Notification,
    NotificationLevel,
    Rule,
    ScannerResult,
    ScannerStatus,
    Severity,
    ToolName,
)
from secscan.core.redact import Redactor
from secscan.fs.inventory import build_inventory
from secscan.scanners.cache.session import CacheSession
from secscan.scanners.cache.tree import TreeScanner
from secscan.scanners.cache.whole import decode_whole, encode_whole
from secscan.scanners.interface import CommandResult, ScanJob, ScanOutput
from secscan.scanners.posture import PostureScanner
from secscan.scanners.runner import run_scanner

SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "posture"
ELF = b"\x7fELF" + b"\0" * 60


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A repository top with findings of several rules: a committed binary, a credential file,
    no security policy (a finding at a path that is not a file), plus a workflow to parse."""
    root = tmp_path / "tree"
    shutil.copytree(SAMPLES / "base", root)
    (root / ".git").mkdir()
    (root / "SECURITY.md").unlink(missing_ok=True)
    (root / "tools").mkdir(exist_ok=True)
    (root / "tools" / "helper").write_bytes(ELF)
    (root / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n")
    return root


@dataclasses.dataclass
class Run:
    result: ScannerResult
    answered: bool  # by the remembered output


def _job(root: Path, work: Path, **options: object) -> ScanJob:
    files = build_inventory(root, (".git",), 5_000_000).files
    return ScanJob(root=root, files=files, workdir=work, policy=load_policy(), options=options)


def _run(tmp: Path, root: Path, scanner: PostureScanner | None = None, *, interrupted: bool = False,
         **options: object) -> Run:
    session = CacheSession.open(tmp / "cache.db", CacheConfig())
    assert session is not None
    with session:
        job = _job(root, tmp / f"work{len(list(tmp.iterdir()))}", **options)
        wrapped, run_job = session.prepare(scanner or PostureScanner(), job, excludes=())
        assert isinstance(wrapped, TreeScanner)
        result = run_scanner(wrapped, run_job, 60)
        session.commit([(wrapped, result)], Redactor(), interrupted)
    return Run(result, wrapped.remembered is not None)


def _cold(tmp: Path, root: Path, **options: object) -> ScannerResult:
    return run_scanner(PostureScanner(), _job(root, tmp / f"cold{len(list(tmp.iterdir()))}", **options), 60)


def _same(a: ScannerResult, b: ScannerResult) -> bool:
    fields = ("status", "exit_code", "findings", "rules", "notifications", "scope", "reason")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def test_an_unchanged_rerun_is_answered_identically(tmp_path: Path, tree: Path) -> None:
    first = _run(tmp_path, tree)
    assert not first.answered
    again = _run(tmp_path, tree)
    assert again.answered
    cold = _cold(tmp_path, tree)
    assert _same(again.result, cold) and _same(first.result, cold)
    rules = {f.rule_id for f in cold.findings}
    assert {"committed-binary", "committed-secret-file", "security-policy-missing"} <= rules
    assert all(f.line_hash for f in cold.findings) and "SECURITY.md" in cold.scope  # all parts compared
    assert cold.exit_code is None  # nothing ran, answered or not


def _binary(root: Path) -> None:
    (root / "README.md").write_bytes(ELF)  # same name, new content: a new finding


def _unrelated_edit(root: Path) -> None:
    (root / "README.md").write_text("other words\n")  # changes no verdict, but is a change


def _added_policy(root: Path) -> None:
    (root / "SECURITY.md").write_text("Report to security@example.com\n")  # closes a finding


def _deleted(root: Path) -> None:
    (root / "id_rsa").unlink()


def _renamed(root: Path) -> None:
    (root / "tools" / "helper").rename(root / "tools" / "helper.txt")


def _not_a_repository(root: Path) -> None:
    (root / ".git").rmdir()  # repository rules stop applying; no file of the inventory changed


@pytest.mark.parametrize(
    "mutate", [_binary, _unrelated_edit, _added_policy, _deleted, _renamed, _not_a_repository]
)
def test_a_changed_tree_is_never_answered_by_the_old_output(
    tmp_path: Path, tree: Path, mutate: Callable[[Path], None]
) -> None:
    _run(tmp_path, tree)
    mutate(tree)
    after = _run(tmp_path, tree)
    assert not after.answered and _same(after.result, _cold(tmp_path, tree))
    again = _run(tmp_path, tree)  # the new tree's output is remembered in its turn
    assert again.answered and _same(again.result, after.result)


@pytest.mark.parametrize(
    "options", [{"disable": ("committed-binary",)}, {"binary_paths": ("tools",)}]
)
def test_other_settings_are_never_answered_by_the_old_output(
    tmp_path: Path, tree: Path, options: dict[str, object]
) -> None:
    _run(tmp_path, tree)
    after = _run(tmp_path, tree, **options)
    assert not after.answered and _same(after.result, _cold(tmp_path, tree, **options))
    assert len(after.result.findings) < len(_cold(tmp_path, tree).findings)
    assert _run(tmp_path, tree).answered  # the first settings' own output is still there


def test_other_rules_are_never_answered_by_the_old_output(
    tmp_path: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secscan.config import policy

    _run(tmp_path, tree)
    rules = tmp_path / "rules"
    shutil.copytree(policy.rules_dir(), rules)
    (rules / "posture" / "committed-binary.toml").write_text(
        (rules / "posture" / "committed-binary.toml").read_text() + "\n# edited\n"
    )
    monkeypatch.setattr(policy, "rules_dir", lambda: rules)
    assert not _run(tmp_path, tree).answered


class _Editing(PostureScanner):
    """Edits a file after looking at the tree: what it found is not the tree's output any more."""

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        output = super().parse(job, results)
        (job.root / "README.md").write_bytes(ELF)
        return output


def test_an_output_is_not_remembered_when_a_file_changed_during_the_scan(tmp_path: Path, tree: Path) -> None:
    _run(tmp_path, tree, _Editing())
    after = _run(tmp_path, tree)
    assert not after.answered and _same(after.result, _cold(tmp_path, tree))


class _Failing(PostureScanner):
    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        raise RuntimeError("boom")


def test_failed_and_interrupted_runs_remember_nothing(tmp_path: Path, tree: Path) -> None:
    assert _run(tmp_path, tree, _Failing()).result.status is ScannerStatus.FAILED
    assert not _run(tmp_path, tree, interrupted=True).answered
    assert not _run(tmp_path, tree).answered  # neither of the two left an output behind
    assert _run(tmp_path, tree).answered


def test_the_encoding_keeps_line_hashes_and_redacts_fresh_texts() -> None:
    tool = ToolName("posture")
    finding = Finding(tool, "R", "key hunter2 here", Location("a/b", 1), Severity.LOW, "low",
                      identity="posture", line_hash="0123456789abcdef:1")
    plain = dataclasses.replace(finding, rule_id="S", location=Location("c", 2), line_hash=None)
    note = Notification(NotificationLevel.WARNING, "hunter2 cannot be parsed", "a/b", None)
    rule = Rule("R", "r", "hunter2 short", "full", "help", None, ("security",))
    output = ScanOutput((finding, plain), (rule,), frozenset({"a/b", "c", "SECURITY.md"}), (note,))

    def redact(text: str) -> str:
        return text.replace("hunter2", "[REDACTED]")

    decoded = decode_whole(encode_whole(b"d" * 32, output, redact, redact), b"d" * 32, tool)
    assert decoded is not None
    assert [f.line_hash for f in decoded.findings] == ["0123456789abcdef:1", None]
    assert decoded.findings[0].message == "key [REDACTED] here" and decoded.scope == output.scope
    assert decoded.notifications[0].message == "[REDACTED] cannot be parsed"
    assert decoded.rules[0].short_description == "[REDACTED] short"
    expected = ScanOutput(tuple(dataclasses.replace(f, message=redact(f.message)) for f in output.findings),
                          (dataclasses.replace(rule, short_description="[REDACTED] short"),),
                          output.scope, (dataclasses.replace(note, message="[REDACTED] cannot be parsed"),))
    assert decoded == expected
