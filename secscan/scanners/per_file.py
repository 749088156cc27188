"""Per-file results of file-local scanners, and the one way they are merged into a scan's output.

A file-local scanner (bandit, detect-secrets, a configured tool declared ``file_local``) finds in
a file only what that file contains. Its adapter parses a run into :class:`FileOutputs`, one
:class:`FileOutput` per file, and :func:`merge` builds the :class:`ScanOutput` from them. Cold
runs and incremental runs (some files' results taken from the result cache, see
``secscan.scanners.cache``) go through the same :func:`merge`, so they give identical outputs as long as
each file's own results are identical.

The merge is canonical: findings in path order (each file's in the adapter's order), one rule
per id taken from the first file (in path order) that uses it, rules sorted by id, notifications
that belong to no single file first, then each file's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from secscan.core.model import Finding, Notification, Rule
from secscan.scanners.interface import ScanOutput


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


def merge(outputs: FileOutputs, exit_code: int | None = None) -> ScanOutput:
    """The scan output of per-file results (see the module docstring)."""
    findings: list[Finding] = []
    rules: dict[str, Rule] = {}
    notifications: list[Notification] = list(outputs.notifications)
    scope: set[str] = set()
    for path in sorted(outputs.files):
        part = outputs.files[path]
        findings.extend(part.findings)
        for rule in part.rules:
            rules.setdefault(rule.id, rule)
        notifications.extend(part.notifications)
        if part.covered:
            scope.add(path)
    return ScanOutput(
        findings=tuple(findings),
        rules=tuple(rules[key] for key in sorted(rules)),
        scope=frozenset(scope),
        notifications=tuple(notifications),
        exit_code=exit_code,
        incomplete=outputs.incomplete,
        version=outputs.version,
    )


def group_by_path(findings: tuple[Finding, ...] | list[Finding]) -> dict[str, list[Finding]]:
    """Findings grouped by their file, in their original order."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.location.path, []).append(finding)
    return groups
