"""Frozen domain objects that cross every seam of secscan.

Scanners produce them, the SARIF builder and the store consume them. Nothing here does I/O.
Identity rules (see ``docs/design.md``): a finding's identity is
(tool, rule, repo-relative path, fingerprint of normalised code context, occurrence index);
never a line number, a message text or a scanner version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

ToolName = NewType("ToolName", str)
"""A scanner's stable name: ``bandit``, ``detect-secrets``, ``pip-audit`` or a configured tool."""

FindingId = NewType("FindingId", str)
"""A finding's stable short id (derived from its fingerprint); persisted, printed and uploaded."""

RunId = NewType("RunId", str)


def new_run_id(now: datetime) -> RunId:
    """Sortable, unique run id: the UTC timestamp plus 32 random bits (persisted; keep the shape)."""
    return RunId(f"{now:%Y%m%dT%H%M%SZ}-{os.urandom(4).hex()}")  # = secrets.token_hex(4), lighter to load


class Severity(StrEnum):
    """secscan's normalised severity scale, mapped from each tool's own scale by policy."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 ... info=0."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class ScannerStatus(StrEnum):
    """How one scanner's run ended.

    Only ``ok`` is a complete analysis of the scanner's scope, so only an ``ok`` scanner may close
    findings (the lifecycle store reads it from :attr:`ScannerResult.scope`). ``failed``,
    ``timeout`` and ``incomplete`` are failures: they make ``secscan run`` exit 3, mark the run
    ``partial``, are reported as unsuccessful in SARIF, are never uploaded to GitHub and raise a
    ``scanner-failed`` alert. ``skipped`` fails nothing and closes nothing, except, when it had
    nothing of its kind to scan, the findings of its files deleted since
    (:attr:`ScannerResult.nothing_to_scan`).
    """

    OK = "ok"
    """Ran to completion over everything it was given."""
    FAILED = "failed"
    """Could not run, crashed, exited with an unexpected code, or its output was unusable."""
    TIMEOUT = "timeout"
    """Killed at its deadline."""
    SKIPPED = "skipped"
    """Had nothing to scan (e.g. no requirement file for pip-audit)."""
    INCOMPLETE = "incomplete"
    """Ran, but did not analyse all it was given: its results were truncated at a cap, or it
    audited none of what it was given (every pin "not found", the service unreachable). Its
    findings are real and recorded, but it closes nothing: an absent finding may simply not have
    been looked at. ``reason`` says what was left out."""

    @property
    def is_failure(self) -> bool:
        """True for the statuses that make a scan incomplete: failed, timeout, incomplete."""
        return self in _FAILURE_STATUSES


_FAILURE_STATUSES = frozenset({ScannerStatus.FAILED, ScannerStatus.TIMEOUT, ScannerStatus.INCOMPLETE})


class FindingState(StrEnum):
    """Lifecycle state of a finding relative to the previous complete run."""

    NEW = "new"
    UNCHANGED = "unchanged"
    REOPENED = "reopened"
    FIXED = "fixed"
    TRIAGED = "triaged"


class NotificationLevel(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Location:
    """A place in the target: a repo-relative POSIX path and a 1-based region."""

    path: str
    start_line: int = 1
    start_column: int | None = None
    end_line: int | None = None
    end_column: int | None = None  # SARIF convention: column of the character after the region


@dataclass(frozen=True)
class Rule:
    """What a tool checks for. ``id`` is stable API (bandit ``B602``, an advisory id, ...)."""

    id: str
    name: str
    short_description: str
    full_description: str
    help_text: str
    help_uri: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Package:
    """The package a dependency finding is about: its ecosystem (``PyPI``, ``npm``), its registry
    name, the version locked or pinned, and the versions that fix the advisory (ascending)."""

    ecosystem: str
    name: str
    version: str
    fixed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One result of one tool, normalised and redacted.

    ``identity`` is the scanner-supplied identity material when the code context is not the
    right one (detect-secrets: the secret's hash; pip-audit: package and advisory). When it
    is ``None`` the pipeline uses the normalised source lines of ``location``.
    ``fingerprint`` and ``line_hash`` are filled by the pipeline (``secscan.core.identity``).
    ``package`` is set by dependency scanners (pip-audit, lockfile-audit): what is affected.
    """

    tool: ToolName
    rule_id: str
    message: str
    location: Location
    severity: Severity
    tool_severity: str = ""
    identity: str | None = None
    aliases: tuple[str, ...] = ()
    fingerprint: str = ""
    line_hash: str | None = None
    state: FindingState = FindingState.NEW
    package: Package | None = None

    @property
    def id(self) -> FindingId:
        """Short, stable id: the first 16 hex digits of the fingerprint."""
        return FindingId(self.fingerprint[:16])


@dataclass(frozen=True)
class Notification:
    """Something a scanner or secscan wants the reader of the run to know (not a finding)."""

    level: NotificationLevel
    message: str
    path: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Extent:
    """How much of an input that is not the tree's files a scanner covered: git-history's
    ``commits`` of the ``git history``. ``total`` is what there was to read (within the configured
    window), ``covered`` what was read; ``gap`` says why the rest was not (a shallow clone, a
    window cut at ``max_commits``, missing objects, a walk left for the next run)."""

    kind: str
    unit: str
    total: int
    covered: int
    gap: str | None = None


@dataclass(frozen=True)
class CoverageEntry:
    """One line of a run's coverage map (:mod:`secscan.app.coverage`): a kind of file found in the
    inventory (``Python``, ``npm lockfile``) or a pseudo-kind (``secrets``: every file;
    ``git history``: commits; ``other``: files no scanner analyses beyond secrets).

    ``files`` counts the kind's files (``unit``: ``files`` or ``commits``; ``None`` when unknown:
    a history that was not read); ``covered`` those at least one of the kind's ``analysers``
    covered, and ``scanners`` lists which did; ``reason`` says why the rest were not. ``kind`` is
    API (README, "Coverage map"); ``analysers`` are the scanners meant to cover the kind.
    """

    kind: str
    files: int | None
    covered: int
    scanners: tuple[str, ...] = ()
    reason: str | None = None
    unit: str = "files"
    analysers: tuple[str, ...] = ()

    @property
    def gap(self) -> bool:
        """Whether part of the kind went uncovered by a scanner meant to cover it (the map sets a
        ``reason`` exactly then; ``other`` files have no such scanner and are never a gap)."""
        return bool(self.analysers) and self.reason is not None


@dataclass(frozen=True)
class ScannerResult:
    """The outcome of one scanner over one target.

    ``scope`` lists the repo-relative files the scanner covered when it finished ``ok``;
    the lifecycle store closes a finding as fixed only if its file is in that scope, and only for
    an ``ok`` scanner (or a ``nothing_to_scan`` one; any other status closes nothing, whatever its
    scope).
    ``closes_nothing``: the scanner finished ``ok`` but its analysis is not whole in a way no
    file list can say (git-history's walk cut or missing objects): its scope is empty and stays
    empty, deleted files included. ``extent``: what it covered when that is not files.
    ``nothing_to_scan``: ``skipped`` because none of the files it was given is of its kind (the
    last Python file, requirement file or lockfile was deleted): like an ``ok`` scanner over no
    file, its scope holds only the deleted files it would have scanned, whose findings it closes.
    """

    name: ToolName
    version: str
    status: ScannerStatus
    duration_s: float
    exit_code: int | None
    findings: tuple[Finding, ...] = ()
    rules: tuple[Rule, ...] = ()
    notifications: tuple[Notification, ...] = ()
    scope: frozenset[str] = frozenset()
    reason: str | None = None  # why it failed, timed out, was skipped or is incomplete
    closes_nothing: bool = False
    extent: Extent | None = None
    nothing_to_scan: bool = False

    @property
    def closes(self) -> bool:
        """Whether this result may close findings within its scope: it finished ``ok``, or was
        skipped with nothing of its kind to scan (its scope then holds deleted files only)."""
        skipped = self.status is ScannerStatus.SKIPPED
        return self.status is ScannerStatus.OK or (skipped and self.nothing_to_scan)

    @property
    def category(self) -> str:
        """Stable SARIF/GitHub analysis category of this tool (never renamed)."""
        return f"secscan/{self.name}"


@dataclass(frozen=True)
class ScanRun:
    """One ``secscan run`` over one target."""

    run_id: RunId
    target: str  # absolute path of the scanned root
    target_name: str
    started_at: datetime
    finished_at: datetime
    scanners: tuple[ScannerResult, ...]
    fixed: tuple[Finding, ...] = field(default=())
    notifications: tuple[Notification, ...] = field(default=())
    coverage: tuple[CoverageEntry, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """True when every enabled scanner finished ``ok`` (skipped ones do not count)."""
        return all(s.status in (ScannerStatus.OK, ScannerStatus.SKIPPED) for s in self.scanners)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for s in self.scanners for f in s.findings)
