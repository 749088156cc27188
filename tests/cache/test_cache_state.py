"""A stateful scanner's value in the result cache: kept only after an ok run, per target."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from secscan.config.cache import CacheConfig
from secscan.config.policy import load_policy
from secscan.core.errors import ScannerError
from secscan.core.model import ToolName
from secscan.core.redact import Redactor
from secscan.scanners._scanner_state import scanner_state
from secscan.scanners.cache.session import CacheSession
from secscan.scanners.interface import Command, CommandResult, Plan, ScanJob, Scanner, ScanOutput
from secscan.scanners.runner import run_scanner


class Counter(Scanner):
    """Remembers how many runs it has seen (its state); ``fail``: offers its state, then fails."""

    name = ToolName("counter")
    stateful = True

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.previous: bytes | None = None

    def version(self) -> str:
        return "1"

    def plan(self, job: ScanJob) -> Plan:
        state = scanner_state(job.options)
        self.previous = state.get() if state else None
        argv = (sys.executable, "-c", "pass")
        return Plan((Command(argv, job.root, job.workdir / "out"),))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        state = scanner_state(job.options)
        count = int(self.previous or b"0") + 1
        if state is not None:
            state.put(str(count).encode(), hits=count - 1, misses=1)
        if self.fail:
            raise ScannerError("the output was malformed")
        return ScanOutput(findings=(), rules=(), scope=frozenset())


def run(tmp_path: Path, root: Path, scanner: Counter) -> tuple[bytes | None, tuple[int, int]]:
    session = CacheSession.open(tmp_path / "cache.db", CacheConfig())
    assert session is not None
    with session:
        workdir = tmp_path / "work"
        job = ScanJob(root=root, files=(), workdir=workdir, policy=load_policy())
        wrapped, job = session.prepare(scanner, job, excludes=())
        result = run_scanner(wrapped, job, 60)
        session.commit([(wrapped, result)], Redactor(), interrupted=False)
        usage = session.usage
    return scanner.previous, (usage.hits, usage.misses)


def test_state_is_kept_after_ok_runs_only_and_per_target(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    assert run(tmp_path, one, Counter()) == (None, (0, 1))
    assert run(tmp_path, one, Counter()) == (b"1", (1, 1))
    assert run(tmp_path, one, Counter(fail=True))[0] == b"2"  # the failed run stores nothing...
    assert run(tmp_path, one, Counter())[0] == b"2"  # ...so the next one sees the last ok state
    assert run(tmp_path, two, Counter())[0] is None  # another target starts from nothing
