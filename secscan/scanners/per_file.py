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

from secscan.core.model import Finding, Notification, Rule
from secscan.scanners.interface import FileOutputs, ScanOutput


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
