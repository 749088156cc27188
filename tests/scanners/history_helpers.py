"""Running the git-history scanner on real repositories, with its state kept between runs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secscan.config.policy import load_policy
from secscan.core.model import ScannerResult
from secscan.fs.inventory import build_inventory
from secscan.scanners._scanner_state import ScannerState
from secscan.scanners.git_history import GitHistoryScanner
from secscan.scanners.interface import ScanJob
from secscan.scanners.runner import run_scanner

# Values detect-secrets flags (a keyword assignment each); tests plant and look for them.
SECRET_A = 'password = "hist-A-7Gq2mZ9xWv"\n'
SECRET_B = 'api_key = "hist-B-Rt5nQ8sLp3"\n'
SECRET_C = 'db_password = "hist-C-Kw4jV6yHc1"\n'
AWS = 'aws_key = "AKIAQYLPMN5HHHF7QWE4"\n'

_counter = itertools.count()


@dataclass
class MemoryState(ScannerState):
    """A ScannerState kept in memory, committed like the cache does (only when asked)."""

    value: bytes | None = None
    staged: bytes | None = None
    counts: list[tuple[int, int]] = field(default_factory=list)

    def get(self) -> bytes | None:
        return self.value

    def put(self, value: bytes | None, hits: int, misses: int) -> None:
        self.staged = value if value is not None else self.value
        self.counts.append((hits, misses))

    def commit(self) -> None:
        self.value, self.staged = self.staged, None


def scan(
    root: Path, tmp: Path, state: MemoryState | None = None, timeout: float = 120, **options: Any
) -> ScannerResult:
    """One run of git-history over ``root`` (state committed when the run was ok)."""
    workdir = tmp / f"work-{next(_counter)}"
    inventory = build_inventory(root.resolve(), (".git",), 5_000_000)
    opts: dict[str, Any] = {"excludes": (".git",), "processes": 2, **options}
    if state is not None:
        opts["scanner_state"] = state
    job = ScanJob(
        root=root.resolve(), files=inventory.files, workdir=workdir, policy=load_policy(), options=opts
    )
    scanner = GitHistoryScanner()
    result = run_scanner(scanner, job, timeout)
    if state is not None and result.status.value == "ok":
        state.commit()
    result.__dict__["scanner"] = scanner  # for secret_values in tests
    result.__dict__["job"] = job
    return result


def keyed(result: ScannerResult) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.location.path, f.location.start_line) for f in result.findings}
