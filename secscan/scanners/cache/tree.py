"""A tree-local scanner for one run: its remembered output, or its real scan, recorded to be remembered.

A tree-local scanner (``Scanner.tree_local``: posture) looks at every file it is given, so its
output cannot be split per file as a file-local scanner's can. It is remembered whole instead:
one value per scanner configuration and target (:func:`~secscan.scanners.cache.whole.slot_key`),
under a digest of the scanner's key and of each scannable file's path and content hash
(:func:`~secscan.scanners.cache.whole.whole_digest`). Adding, removing, renaming or editing any
of those files, or changing the scanner's version, code or configuration, gives another digest:
the value is never served for another tree. The session stores a fresh output only when the
scanner finished ``ok``, the run was not interrupted, and no file changed while it was scanned.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan.core.model import FindingState, ToolName
from secscan.core.redact import Redactor
from secscan.scanners.cache.stamps import FileHashes
from secscan.scanners.cache.whole import encode_whole
from secscan.scanners.interface import CommandResult, Plan, ScanJob, Scanner, ScanOutput

log = logging.getLogger(__name__)


class TreeScanner(Scanner):
    """``inner`` for one run: answered by ``remembered`` when it is given (no command runs),
    else run as usual with its output kept in :attr:`fresh` for the session to store."""

    tree_local = True

    def __init__(self, inner: Scanner, version: str, remembered: ScanOutput | None) -> None:
        self.inner = inner
        self.name = ToolName(inner.name)
        self.remembered = remembered
        self.fresh: ScanOutput | None = None
        """What the scanner found this run (None when it was answered, or did not parse)."""
        self._version = version
        self._commands = False

    def version(self) -> str:
        return self._version

    def plan(self, job: ScanJob) -> Plan:
        planned = self.inner.plan(job)
        self._commands = bool(planned.commands)
        if self.remembered is None or planned.skip_reason is not None:
            return planned
        return Plan(notifications=planned.notifications)  # answered: nothing to run

    def exit_ok(self, exit_code: int) -> bool:
        return self.inner.exit_ok(exit_code)

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        if self.remembered is not None:  # the exit code its commands would have given, if it has any
            count = len(self.remembered.findings)
            exit_code = self.inner.exit_code_for(job, count) if self._commands else None
            return dataclasses.replace(self.remembered, exit_code=exit_code)
        self.fresh = self.inner.parse(job, results)
        return self.fresh

    # delegated: the wrapper decides whether the scanner runs, nothing else

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        return self.inner.scannable(files)

    def path_profile(self, job: ScanJob, path: str) -> str | None:
        return self.inner.path_profile(job, path)

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        return self.inner.cache_material(job)

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return self.inner.exit_code_for(job, findings)


def storable(output: ScanOutput, tool: str) -> bool:
    """Whether ``output`` is all that :func:`~secscan.scanners.cache.whole.encode_whole` keeps:
    a whole analysis (not incomplete, no extent or stated version), its findings this tool's,
    without the fingerprints and states the pipeline adds later."""
    plain = output.incomplete is None and output.closes_nothing is None
    plain = plain and output.extent is None and output.version is None
    return plain and all(
        f.tool == tool and not f.fingerprint and f.state is FindingState.NEW for f in output.findings
    )


@dataclass(frozen=True)
class Tree:
    """A tree-local scanner wrapped for one run, and where its output is to be remembered."""

    wrapper: TreeScanner
    root: Path
    hashes: dict[str, bytes]
    """The content hash of each of its scannable files when the run began."""
    slot: bytes
    digest: bytes

    def entries(self, stamps: FileHashes, redactor: Redactor) -> list[tuple[bytes, bytes]]:
        """The cache entry of the scanner's fresh output (once it finished ``ok``), with its texts
        redacted; none when it was answered, or when a file changed while it was scanned (the
        files' stamps are checked again: a changed or unsettled one is read again)."""
        fresh = self.wrapper.fresh
        if fresh is None or not storable(fresh, self.wrapper.name):
            return []
        if stamps.hashes(self.root, list(self.hashes)) != self.hashes:
            log.debug("%s: files changed while they were scanned; not remembered", self.wrapper.name)
            return []
        return [(self.slot, encode_whole(self.digest, fresh, redactor.text, redactor.rule_text))]
