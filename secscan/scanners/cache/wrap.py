"""A file-local scanner with some files' results already known: it scans only the others.

:class:`CachedScanner` wraps the real adapter for one run. Its job lists only the files whose
results were not found in the cache; when that leaves nothing to scan it plans no command at all
(no process starts). Parsing merges the fresh per-file results with the cached ones through the
same :func:`~secscan.scanners.per_file.merge` a cold run uses, and keeps the fresh ones for the
session to store once the run has completed. When every file was a hit, the merged output is
kept too (``merged``), and a later run may be handed that output whole
(:mod:`secscan.scanners.cache.whole`) instead of the files' entries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from secscan.core.model import ToolName
from secscan.scanners.interface import (
    CommandResult,
    FileOutput,
    FileOutputs,
    Plan,
    ScanJob,
    Scanner,
    ScanOutput,
)
from secscan.scanners.per_file import merge


class CachedScanner(Scanner):
    """``inner`` for one run, with ``hits`` (path -> cached results) taken from the cache, or
    with ``whole``: the merged output of all its files, remembered (its job has no file to scan)."""

    file_local = True

    def __init__(
        self, inner: Scanner, version: str, hits: Mapping[str, FileOutput], whole: ScanOutput | None = None
    ) -> None:
        self.inner = inner
        self.name = ToolName(inner.name)
        self.hits = dict(hits)
        self.whole = whole
        self.fresh: FileOutputs | None = None
        self.merged: ScanOutput | None = None
        """The output, when it was merged from cached entries alone (nothing was scanned)."""
        self._version = version

    def version(self) -> str:
        return self._version

    def _has_work(self, job: ScanJob) -> bool:
        return bool(self.inner.scannable(job.files))

    def plan(self, job: ScanJob) -> Plan:
        if (self.hits or self.whole is not None) and not self._has_work(job):
            return Plan()  # everything is cached: no process starts
        return self.inner.plan(job)

    def exit_ok(self, exit_code: int) -> bool:
        return self.inner.exit_ok(exit_code)

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        fresh = self.inner.parse_files(job, results) if self._has_work(job) else FileOutputs()
        self.fresh = fresh
        return FileOutputs({**self.hits, **fresh.files}, fresh.notifications, fresh.incomplete, fresh.version)

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        if self.whole is not None:
            self.fresh = FileOutputs()
            exit_code = self.inner.exit_code_for(job, len(self.whole.findings))
            return dataclasses.replace(self.whole, exit_code=exit_code)
        outputs = self.parse_files(job, results)
        exit_code = None
        if self.hits:
            count = sum(len(part.findings) for part in outputs.files.values())
            exit_code = self.inner.exit_code_for(job, count)
        merged = merge(outputs, exit_code)
        if self.hits and self.fresh == FileOutputs():  # from cached entries alone: may be remembered
            self.merged = dataclasses.replace(merged, exit_code=None)
        return merged

    # delegated: the wrapper changes which files are scanned, nothing else

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        return self.inner.scannable(files)

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return self.inner.exit_code_for(job, findings)
