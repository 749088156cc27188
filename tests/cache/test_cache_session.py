"""The session's rules for what is stored, with a fake file-local scanner (a real ABC subclass)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from cache_helpers import entries

from secscan.config.cache import CacheConfig
from secscan.config.policy import load_policy
from secscan.core.model import Finding, Location, Notification, NotificationLevel, Severity, ToolName
from secscan.core.redact import Redactor
from secscan.scanners.cache.session import CacheSession
from secscan.scanners.interface import (
    Command,
    CommandResult,
    FileOutput,
    FileOutputs,
    Plan,
    ScanJob,
    Scanner,
    ScanOutput,
)
from secscan.scanners.per_file import merge
from secscan.scanners.runner import run_scanner


class FakeLocal(Scanner):
    """Finds ``TODO`` lines; optionally edits a file while it "runs", or adds a run-wide note."""

    name = ToolName("fake")
    file_local = True

    def __init__(self, edit: Path | None = None, run_note: bool = False, exit_code: int = 0) -> None:
        self.edit, self.run_note, self.code = edit, run_note, exit_code
        self.planned: list[tuple[str, ...]] = []

    def version(self) -> str:
        return "1.0"

    def plan(self, job: ScanJob) -> Plan:
        self.planned.append(job.files)
        if self.edit is not None:
            self.edit.write_text(self.edit.read_text() + "changed\n")
        argv = (sys.executable, "-c", f"raise SystemExit({self.code})")
        return Plan((Command(argv, job.root, job.workdir / "out"),))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        files = {}
        for path in job.files:
            lines = (job.root / path).read_text().splitlines()
            found = tuple(
                Finding(self.name, "TODO", "a TODO", Location(path, n), Severity.LOW)
                for n, line in enumerate(lines, 1)
                if "TODO" in line
            )
            files[path] = FileOutput(findings=found)
        notes = (Notification(NotificationLevel.NOTE, "run-wide"),) if self.run_note else ()
        return FileOutputs(files, notes)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.txt").write_text("TODO one\n")
    (root / "b.txt").write_text("nothing\n")
    return root


def _run(tmp: Path, tree: Path, scanner: FakeLocal, interrupted: bool = False) -> int:
    cache = tmp / "cache.db"
    session = CacheSession.open(cache, CacheConfig())
    assert session is not None
    with session:
        job = ScanJob(tree, ("a.txt", "b.txt"), tmp / f"work{id(scanner)}", load_policy())
        wrapped, run_job = session.prepare(scanner, job, excludes=())
        result = run_scanner(wrapped, run_job, 30)
        session.commit([(wrapped, result)], Redactor(), interrupted)
        return session.usage.hits


def test_stores_and_reuses(tmp_path: Path, tree: Path) -> None:
    first = FakeLocal()
    assert _run(tmp_path, tree, first) == 0 and first.planned == [("a.txt", "b.txt")]
    second = FakeLocal()
    assert _run(tmp_path, tree, second) == 2 and second.planned == []  # no process at all


def test_a_file_edited_during_the_scan_is_not_stored(tmp_path: Path, tree: Path) -> None:
    _run(tmp_path, tree, FakeLocal(edit=tree / "a.txt"))
    assert len(entries(tmp_path / "cache.db")) == 1  # b.txt only


@pytest.mark.parametrize(
    ("scanner", "interrupted"),
    [(FakeLocal(exit_code=3), False), (FakeLocal(run_note=True), False), (FakeLocal(), True)],
    ids=["failed", "run-wide notification", "interrupted"],
)
def test_nothing_is_stored(tmp_path: Path, tree: Path, scanner: FakeLocal, interrupted: bool) -> None:
    _run(tmp_path, tree, scanner, interrupted)
    assert entries(tmp_path / "cache.db") == []


class NothingToScan(FakeLocal):
    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        return ()

    def plan(self, job: ScanJob) -> Plan:
        self.planned.append(job.files)
        return Plan(skip_reason="nothing to scan")


def test_a_scanner_with_nothing_to_scan_keeps_its_job_and_stores_nothing(tmp_path: Path, tree: Path) -> None:
    scanner = NothingToScan()
    assert _run(tmp_path, tree, scanner) == 0
    assert scanner.planned == [("a.txt", "b.txt")] and entries(tmp_path / "cache.db") == []
