"""The Scanner seam.

A scanner adapter never runs anything itself. It *plans* the commands to run (argv lists for
the current interpreter or a configured tool, no shell) and *parses* their output. The runner
(``secscan.scanners.runner``) executes the plan in isolated process groups under one deadline,
interprets exit codes through :meth:`Scanner.exit_ok`, and turns every failure into a
``ScannerResult`` status instead of an exception, so one scanner never loses the others' results.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from secscan.core.model import Extent, Finding, Notification, Rule, ToolName
from secscan.core.policy import SeverityPolicy


@dataclass(frozen=True)
class ScanJob:
    """What one scanner is asked to scan.

    ``files`` are repo-relative POSIX paths of regular files inside ``root`` after the global
    and the scanner's own excludes; symlinks are never in it. ``workdir`` is a private,
    empty directory for the scanner's output files.
    """

    root: Path
    files: tuple[str, ...]
    workdir: Path
    policy: SeverityPolicy
    args: tuple[str, ...] = ()
    osv_url: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    """One subprocess to run: no shell, its own process group, stdout captured to a file.

    stderr is spooled and only its tail kept, unless ``stderr_path`` asks for all of it in a file
    (zizmor names the files it audited on stderr).
    """

    argv: tuple[str, ...]
    cwd: Path
    stdout_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    stderr_path: Path | None = None


@dataclass(frozen=True)
class CommandResult:
    command: Command
    exit_code: int
    duration_s: float
    stderr_tail: str


@dataclass(frozen=True)
class Plan:
    """The commands to run, or why there is nothing to do (the scanner is then ``skipped``).

    ``nothing_to_scan``: skipped because none of the files it was given is of its kind (no Python
    file for bandit, no lockfile), not because it could not look (no database, tool missing):
    the findings it reported in files deleted since may then be closed (see ScannerResult).
    """

    commands: tuple[Command, ...] = ()
    skip_reason: str | None = None
    notifications: tuple[Notification, ...] = ()
    nothing_to_scan: bool = False


@dataclass(frozen=True)
class FileOutput:
    """What a file-local scanner found in one file.

    ``covered`` is False when the tool did not analyse the file (bandit could not parse it, or
    its own excludes skipped it): the file then leaves the scanner's scope.
    """

    findings: tuple[Finding, ...] = ()
    rules: tuple[Rule, ...] = ()
    notifications: tuple[Notification, ...] = ()
    covered: bool = True


@dataclass(frozen=True)
class FileOutputs:
    """A file-local scanner's run split per file.

    ``files`` holds the files the adapter can vouch for (every file it was given, normally);
    ``notifications`` are the ones about no single file. A run with such notifications, or
    with results outside its own files, is not split into cache entries.
    """

    files: Mapping[str, FileOutput] = field(default_factory=dict)
    notifications: tuple[Notification, ...] = ()
    incomplete: str | None = None  # why the run is not a whole analysis (see ScanOutput)
    version: str | None = None  # the tool's version as its output states it (see ScanOutput)


@dataclass(frozen=True)
class ScanOutput:
    """What a scanner found. ``scope``: the files it actually covered.

    ``exit_code``, when set, is the exit code to report instead of the commands' own: what the
    tool would have returned over all the files when some results came from the result cache.
    ``incomplete``, when set, says why the tool did not analyse all it was given (results cut at
    a cap, nothing audited): the scanner is then ``incomplete`` and closes nothing.
    ``closes_nothing``, when set, says why a run that is not a failure still must close nothing
    (git-history: a shallow clone, a walk cut at ``max_commits`` or left for the next run): the
    scanner is ``ok``, its findings count, and its scope is empty, never widened by the pipeline
    (deleted files included). ``extent``: what it covered when that is not files (commits).
    ``version``: the tool's version as its own output states it (a SARIF log's ``driver.version``),
    recorded when :meth:`Scanner.version` could not tell.
    """

    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    scope: frozenset[str]
    notifications: tuple[Notification, ...] = ()
    exit_code: int | None = None
    incomplete: str | None = None
    closes_nothing: str | None = None
    extent: Extent | None = None
    version: str | None = None


class Scanner(ABC):
    """A security tool that secscan runs and whose output it normalises."""

    name: ToolName
    """Stable tool name (a class attribute for built-ins, set per instance for configured tools)."""
    file_local: bool = False
    """True when a file's results depend only on that file (bandit, detect-secrets). Such a
    scanner implements :meth:`parse_files`, and its results are cached per file."""
    tree_local: bool = False
    """True when the scanner's whole output depends only on the names and contents of its
    :meth:`scannable` files and on its :meth:`cache_material` (posture: file names, heads and a
    few small files). Such a scanner's output is remembered whole, under a digest of those, and
    an unchanged tree is answered without running it (``secscan.scanners.cache.tree``). Its
    :meth:`plan` runs even then, for its notes and skip reason; its commands do not."""
    stateful: bool = False
    """True when the scanner keeps a value between runs in the result cache (git-history: the
    commits it has read); it finds it in ``job.options["scanner_state"]`` (see ``_scanner_state``)."""

    @abstractmethod
    def version(self) -> str:
        """The tool's version, read without starting it where possible."""

    @abstractmethod
    def plan(self, job: ScanJob) -> Plan:
        """Decide which commands to run. May write helper files into ``job.workdir``."""

    @abstractmethod
    def exit_ok(self, exit_code: int) -> bool:
        """Whether an exit code means the tool ran to completion (findings or not)."""

    @abstractmethod
    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        """Turn the completed commands' outputs into findings.

        Raises ``ScannerError`` when the output is malformed.
        """

    # The methods below serve the result cache (``secscan.scanners.cache``); the defaults are conservative.

    def scannable(self, files: Sequence[str]) -> tuple[str, ...]:
        """The files of a job this scanner actually analyses (bandit: the ``.py`` files)."""
        return tuple(files)

    def path_profile(self, job: ScanJob, path: str) -> str | None:
        """What about a file's path can change its results: ``None`` means the whole path (a cached
        result then serves that path only); a constant lets renamed, moved and copied files share."""
        return None

    def cache_material(self, job: ScanJob) -> Mapping[str, object]:
        """Everything besides the tool's version and a file's content that decides its results."""
        return {"args": list(job.args)}

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        """The exit code the tool returns for a run with ``findings`` results, if it is known."""
        return None

    def secret_values(self, job: ScanJob, findings: Sequence[Finding]) -> frozenset[str]:
        """The secret values behind this scanner's ``findings`` that the tree cannot give back
        (git-history: values only the history holds), recovered in memory for redaction only."""
        return frozenset()

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        """Like :meth:`parse`, split per file. File-local scanners implement it."""
        raise NotImplementedError(f"{self.name} is not file-local")
