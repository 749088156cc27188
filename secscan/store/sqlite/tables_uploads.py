"""SQLModel rows of the uploads feature. Private to the store, like :mod:`secscan.store.sqlite.tables`.

``upload_receipts``: one row per SARIF file of a run (one tool category) sent, or to be sent, to
GitHub code scanning, keyed by its outbox idempotency key. ``github_alerts``: GitHub alert
numbers linked to findings, with the dismissal state last synced in both directions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class UploadReceiptRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "upload_receipts"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # the outbox idempotency key: repository, ref, commit, category
    run_id: int = Field(foreign_key="runs.id", ondelete="CASCADE", index=True)
    repository: str
    category: str
    commit_sha: str
    ref: str
    status: str  # queued | pending | complete | failed | dead | skipped
    results: int = 0
    dropped_results: int = 0
    dropped_locations: int = 0
    sarif_id: str | None = None
    analyses_url: str | None = None
    errors: str | None = Field(default=None, sa_type=Text)  # JSON list of strings
    created_at: int
    updated_at: int


class GithubAlertRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "github_alerts"
    __table_args__: ClassVar[Any] = (
        UniqueConstraint("repository", "number", name="uq_github_alerts_repository_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    repository: str
    number: int
    target_id: int = Field(foreign_key="targets.id", ondelete="CASCADE", index=True)
    fingerprint: str
    state: str  # open | dismissed: as last agreed by both sides
    marker: str = ""
    updated_at: int
