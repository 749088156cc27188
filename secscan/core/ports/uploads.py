"""Frozen records of the GitHub upload feature that cross the Store seam (issue 5).

An :class:`UploadReceipt` is one SARIF file of one run (one tool category) on its way to GitHub
code scanning: queued in the uploads outbox, accepted (``pending``), processed (``complete`` or
``failed``) or rejected (``dead``). An :class:`AlertLink` ties a GitHub alert number to the
finding it reports, with the dismissal state both sides last agreed on (two-way sync).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from secscan.core.model import RunId


class UploadStatus(StrEnum):
    QUEUED = "queued"  # in the outbox, not accepted yet (or being retried)
    PENDING = "pending"  # accepted (202); GitHub is processing it
    COMPLETE = "complete"
    FAILED = "failed"  # GitHub could not process it (its errors are kept)
    DEAD = "dead"  # rejected (400, 403, 404, 413): a dead letter
    SKIPPED = "skipped"  # this (commit, category) was uploaded before: nothing sent


@dataclass(frozen=True)
class UploadReceipt:
    """One upload of one run's tool category; ``key`` is its outbox idempotency key."""

    key: str
    run_id: RunId
    target: str
    repository: str
    category: str
    commit_sha: str
    ref: str
    status: UploadStatus
    results: int = 0
    dropped_results: int = 0
    dropped_locations: int = 0
    sarif_id: str | None = None
    analyses_url: str | None = None
    errors: tuple[str, ...] = ()
    updated_at: datetime | None = None


class LinkState(StrEnum):
    """The dismissal state both sides agreed on at the last sync."""

    OPEN = "open"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class AlertLink:
    """GitHub alert ``number`` of ``repository`` reports the finding ``fingerprint`` of ``target``.

    ``marker`` identifies the decision last synced (GitHub's ``dismissed_at``, or the local
    decision time when secscan pushed it), so each side's later change is recognised.
    """

    repository: str
    number: int
    target: str
    fingerprint: str
    state: LinkState
    marker: str = ""
