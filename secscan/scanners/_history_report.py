"""The git-history scanner's findings, rules and notifications. Pure.

A finding's location is the path and line where the secret was first added (the file may no
longer exist: GitHub code scanning accepts any repo-relative path, and the message carries the
commit and its date). Its identity is ``history-sha1:<SHA-1>`` (with the tool, rule and path, as
for every finding), and its ``primaryLocationLineHash`` is derived from the same material rather
than from the current file's line, which has nothing to do with the secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from secscan.core.model import Finding, Location, Notification, NotificationLevel, Rule, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.scanners._history_findings import Event, HistorySecret
from secscan.scanners._history_state import CommitResult
from secscan.scanners.detect_secrets import KNOWN_TYPES

NAME = ToolName("git-history")
IDENTITY_PREFIX = "history-sha1:"
SHORT = 12
BUDGET_SHARE = 0.7
"""Share of the scanner's timeout the walk may use before it stops and leaves the rest of the
history to the next run (what was read is kept)."""

_ROTATE = (
    "Deleting the line does not delete the value: every clone and fork of the repository still "
    "holds it in its history. Treat it as leaked: revoke or rotate it where it was issued. "
    "Rewriting the history (git filter-repo) and force-pushing only helps once the value is "
    "dead, and only for copies made afterwards."
)


def _when(event: Event) -> str:
    return f"{event.sha[:SHORT]} ({datetime.fromtimestamp(event.time, UTC):%Y-%m-%d})"


def message(secret: HistorySecret) -> str:
    """What happened to the secret, with the commits and their dates."""
    added = f"{secret.secret_type} committed in {_when(secret.added)}"
    if secret.still_on:
        more = len(secret.still_on) - 1
        where = secret.still_on[0] + (f" and {more} more" if more else "")
        return f"{added} is not in HEAD but still on {where}: rotate it"
    if secret.removed is not None:
        return f"{added}, removed in {_when(secret.removed)}, is still in the git history: rotate it"
    return f"{added} is no longer on any branch but still in the git history: rotate it"


def line_hash(path: str, digest: str) -> str:
    """A stable ``primaryLocationLineHash`` for a secret of the history (see the module docstring)."""
    material = f"{NAME}\0{path}\0{digest}".encode("utf-8", "surrogatepass")
    return f"{hashlib.sha256(material).hexdigest()[:16]}:1"


def finding(secret: HistorySecret, policy: SeverityPolicy) -> Finding:
    return Finding(
        tool=NAME,
        rule_id=secret.secret_type,
        message=message(secret),
        location=Location(path=secret.path, start_line=max(1, secret.line)),
        severity=policy.secret(secret.secret_type, False),
        tool_severity=secret.secret_type,
        identity=f"{IDENTITY_PREFIX}{secret.digest}",
        line_hash=line_hash(secret.path, secret.digest),
    )


def rule(secret_type: str) -> Rule:
    detector, rotate = KNOWN_TYPES.get(secret_type, ("", ""))
    return Rule(
        id=secret_type,
        name=(detector or "Secret") + "InHistory",
        short_description=f"{secret_type} in the git history",
        full_description=(
            f"detect-secrets ({detector or 'a plugin'}) found a value that looks like a credential of "
            f"type {secret_type!r} in a commit of the repository, and HEAD no longer holds it: anyone "
            "with a clone can still read and use it."
        ),
        help_text=f"{rotate} {_ROTATE}".strip(),
        help_uri="https://github.com/Yelp/detect-secrets#viewing-results",
        tags=("security", "secret", "git-history", "external/cwe/cwe-798"),
    )


def notifications(
    *,
    shallow: bool,
    cut: int | None,
    unreadable: int,
    unread: int,
    stopped: int,
    read: Sequence[tuple[str, CommitResult]],
    max_commit_bytes: int,
) -> list[Notification]:
    """What the reader of the run must know about how much of the history was read."""
    notes = []
    warn = NotificationLevel.WARNING
    if shallow:
        notes.append(Notification(warn, (
            "git-history: this is a shallow clone; commits before its oldest one were not read and that "
            "commit counts as adding every file it has; fetch the full history (git fetch --unshallow)"
        )))
    if cut is not None:
        notes.append(Notification(warn, (
            f"git-history: only the newest {cut} commits were read ([scanners.git-history] max_commits); "
            "older ones may hold secrets, and no history finding is closed while the walk is cut"
        )))
    if unreadable or unread:
        notes.append(Notification(warn, (
            f"git-history: {unreadable + unread} commits could not be read because objects are missing "
            "(a partial or damaged clone); the history was scanned as far as it could be, and no history "
            "finding is closed until it can be read in full"
        )))
    if stopped:
        notes.append(Notification(warn, (
            f"git-history: {stopped} commits are left for the next run: this run stopped at "
            f"{round(BUDGET_SHARE * 100)}% of [scanners.git-history] timeout and kept what it read; raise "
            "the timeout to read more per run. No history finding is closed until the history is read in full"
        )))
    capped = sorted(sha for sha, r in read if r.capped)
    if capped:
        notes.append(Notification(warn, (
            f"git-history: {len(capped)} commits are larger than max_commit_bytes ({max_commit_bytes}); "
            f"only their beginning was scanned (first: {capped[0][:SHORT]})"
        )))
    too_big = sum(r.too_big for _, r in read)
    if too_big:
        notes.append(Notification(NotificationLevel.NOTE, (
            f"git-history: {too_big} file versions larger than [scan] max_file_size were not scanned"
        )))
    return notes
