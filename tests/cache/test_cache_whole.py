"""A scanner's remembered whole output (``secscan.scanners.cache.whole``) is used only while every
input it depends on is unchanged: each mutation below must give what a run without cache gives."""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
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
    Severity,
    ToolName,
)
from secscan.core.policy import SeverityPolicy
from secscan.core.redact import Redactor
from secscan.scanners.cache.db import digest
from secscan.scanners.cache.session import CacheSession
from secscan.scanners.cache.whole import decode_whole, encode_whole
from secscan.scanners.cache.wrap import CachedScanner
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

POLICY = load_policy()


class Marks(Scanner):
    """Finds ``TODO`` lines (severity from the policy, message from the arguments); results follow
    a file's content whatever its path (``path_profile``), so renamed files are per-file hits."""

    name = ToolName("marks")
    file_local = True

    def __init__(self, version: str = "1.0") -> None:
        self._version = version
        self.planned: list[tuple[str, ...]] = []

    def version(self) -> str:
        return self._version

    def path_profile(self, job: ScanJob, path: str) -> str | None:
        return ""

    def plan(self, job: ScanJob) -> Plan:
        self.planned.append(job.files)
        code = int(any("TODO" in (job.root / path).read_text() for path in job.files))  # as exit_code_for
        argv = (sys.executable, "-c", f"raise SystemExit({code})")
        return Plan((Command(argv, job.root, job.workdir / "out"),))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code in (0, 1)

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 1 if findings else 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        files = {}
        rule = Rule("TODO", "todo", "a TODO", "a TODO left in", "finish it")
        for path in job.files:
            lines = (job.root / path).read_text().splitlines()
            found = tuple(
                Finding(self.name, "TODO", f"TODO {' '.join(job.args)}", Location(path, n, 1, n, 5),
                        job.policy.secrets_default, "todo", aliases=("T-1",))
                for n, line in enumerate(lines, 1)
                if "TODO" in line
            )
            notes = tuple(Notification(NotificationLevel.NOTE, "empty", path, 1) for _ in lines[:1] if not _)
            files[path] = FileOutput(found, (rule,) if found else (), notes, covered="SKIP" not in lines)
        return FileOutputs(files)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a.txt").write_text("TODO one\nTODO two\n")
    (root / "b.txt").write_text("nothing\n")
    (root / "c.txt").write_text("\nTODO three\n")
    (root / "d.txt").write_text("SKIP\n")
    return root


@dataclasses.dataclass
class Run:
    result: ScannerResult
    whole: bool  # answered by the remembered whole output
    started: bool  # the scanner was given files to scan


def _run(tmp: Path, tree: Path, scanner: Marks, *, args: tuple[str, ...] = (),
         policy: SeverityPolicy = POLICY) -> Run:
    session = CacheSession.open(tmp / "cache.db", CacheConfig())
    assert session is not None
    with session:
        files = tuple(sorted(p.name for p in tree.iterdir()))
        job = ScanJob(tree, files, tmp / f"work{len(list(tmp.iterdir()))}", policy, args=args)
        before = len(scanner.planned)
        wrapped, run_job = session.prepare(scanner, job, excludes=())
        result = run_scanner(wrapped, run_job, 30)
        session.commit([(wrapped, result)], Redactor(), False)
    assert isinstance(wrapped, CachedScanner)
    return Run(result, wrapped.whole is not None, len(scanner.planned) > before)


def _cold(
    tmp: Path, tree: Path, args: tuple[str, ...] = (), policy: SeverityPolicy = POLICY
) -> ScannerResult:
    work = tmp / f"cold{len(list(tmp.iterdir()))}"
    job = ScanJob(tree, tuple(sorted(p.name for p in tree.iterdir())), work, policy, args=args)
    return run_scanner(Marks(), job, 30)


def _same(a: ScannerResult, b: ScannerResult) -> bool:
    fields = ("status", "exit_code", "findings", "rules", "notifications", "scope", "reason")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def _warm(tmp: Path, tree: Path, **kw: object) -> None:
    """Fills the per-file entries, then (every file a hit) the whole output."""
    assert not _run(tmp, tree, Marks(), **kw).whole  # type: ignore[arg-type]
    assert not _run(tmp, tree, Marks(), **kw).whole  # type: ignore[arg-type]


def test_an_unchanged_rerun_is_answered_whole_and_identically(tmp_path: Path, tree: Path) -> None:
    _warm(tmp_path, tree)
    again = _run(tmp_path, tree, Marks())
    assert again.whole and not again.started
    cold = _cold(tmp_path, tree)
    assert _same(again.result, cold) and cold.findings and cold.exit_code == 1
    assert cold.notifications and "d.txt" not in cold.scope  # the comparison covers all parts


def _edit(tree: Path) -> None:
    (tree / "a.txt").write_text("TODO one\n")


def _back_to_cached_content(tree: Path) -> None:
    (tree / "a.txt").write_text("nothing\n")  # b.txt's content: a per-file hit


def _rename(tree: Path) -> None:
    (tree / "a.txt").rename(tree / "z.txt")  # the same content: a per-file hit


def _rename_in_place(tree: Path) -> None:
    (tree / "a.txt").rename(tree / "aa.txt")  # and the files' order is the same


def _copy(tree: Path) -> None:
    (tree / "e.txt").write_text((tree / "a.txt").read_text())


def _delete(tree: Path) -> None:
    (tree / "c.txt").unlink()


@pytest.mark.parametrize(
    "mutate", [_edit, _back_to_cached_content, _rename, _rename_in_place, _copy, _delete]
)
def test_a_changed_tree_is_never_answered_by_the_old_whole_output(
    tmp_path: Path, tree: Path, mutate: Callable[[Path], None]
) -> None:
    _warm(tmp_path, tree)
    mutate(tree)
    after = _run(tmp_path, tree, Marks())
    assert not after.whole and _same(after.result, _cold(tmp_path, tree))
    assert _run(tmp_path, tree, Marks()).whole or after.started  # remembered anew once all are hits


def test_another_version_arguments_or_policy_is_never_answered_by_the_old_whole_output(
    tmp_path: Path, tree: Path
) -> None:
    _warm(tmp_path, tree)
    other = dataclasses.replace(POLICY, secrets_default=Severity.CRITICAL)
    for changed in ({"scanner": Marks("2.0")}, {"args": ("--strict",)}, {"policy": other}):
        scanner = changed.pop("scanner", Marks())
        after = _run(tmp_path, tree, scanner, **changed)  # type: ignore[arg-type]
        assert not after.whole and after.started
        assert _same(after.result, _cold(tmp_path, tree, **changed))  # type: ignore[arg-type]
    assert _run(tmp_path, tree, Marks()).whole  # the first configuration's own is still there


def test_a_damaged_whole_output_is_ignored(tmp_path: Path, tree: Path) -> None:
    _warm(tmp_path, tree)
    with sqlite3.connect(tmp_path / "cache.db") as conn:  # a value that does not decode, digest fixed
        for key, value in conn.execute("SELECT key, value FROM entries").fetchall():
            if len(value) > 32 and value[32:33] in (b"j", b"z"):
                bad = value[:32] + b"j{}"
                update = "UPDATE entries SET value = ?, digest = ? WHERE key = ?"
                conn.execute(update, (bad, digest(key, bad), key))
    after = _run(tmp_path, tree, Marks())
    assert not after.whole and not after.started and _same(after.result, _cold(tmp_path, tree))


def test_reading_it_keeps_the_per_file_entries_in_use(tmp_path: Path, tree: Path) -> None:
    _warm(tmp_path, tree)
    with sqlite3.connect(tmp_path / "cache.db") as conn:
        conn.execute("UPDATE entries SET used_at = 0")
    assert _run(tmp_path, tree, Marks()).whole
    with sqlite3.connect(tmp_path / "cache.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM entries WHERE used_at = 0").fetchone()[0] == 0
        sizes = conn.execute("SELECT length(key) + length(value) + 48 = size FROM entries").fetchall()
    assert sizes and all(ok for (ok,) in sizes)  # counted in max_bytes like any entry


def test_encoding_round_trips_a_merge() -> None:
    finding = Finding(ToolName("marks"), "R", "m", Location("x/a.py", 3, None, None, None), Severity.LOW)
    note = Notification(NotificationLevel.WARNING, "cannot parse", "y.py", None)
    output = merge(FileOutputs({"x/a.py": FileOutput((finding,)), "y.py": FileOutput(notifications=(note,),
                                                                                    covered=False)}))
    value = encode_whole(b"d" * 32, output)
    assert decode_whole(value, b"d" * 32, ToolName("marks")) == output
    assert decode_whole(value, b"e" * 32, ToolName("marks")) is None
