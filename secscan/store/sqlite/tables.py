"""SQLModel table rows. Private to the store: nothing outside ``secscan.store`` imports them.

Times are integer UNIX seconds (UTC) and enums are their string values: compact, index-friendly
and cheap to bulk-write. A finding's repeated strings (tool, rule id, path, message) are interned
in ``texts`` and referenced by id, and its fingerprint is stored as the 32 raw bytes of the
SHA-256 (a fingerprint that is not 64 hex digits is kept as text): about 275 bytes per tracked
finding with its history and SLA row (see ``benchmarks/bench_store.py``). The schema is owned by the
Alembic migrations in ``migrations/``; a test checks that these models and the migrated
database agree.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class TextRow(SQLModel, table=True):
    """An interned string, found by a 63-bit BLAKE2b ``hash`` of its value (collisions are checked)."""

    __tablename__: ClassVar[str] = "texts"
    __table_args__: ClassVar[Any] = (Index("ix_texts_hash", "hash"),)

    id: int | None = Field(default=None, primary_key=True)
    hash: int
    value: str = Field(sa_type=Text)


class TargetRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "targets"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    root: str
    created_at: int


class RunRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "runs"
    __table_args__: ClassVar[Any] = (Index("ix_runs_target_status", "target_id", "status", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(unique=True)
    target_id: int = Field(foreign_key="targets.id", ondelete="CASCADE")
    status: str
    started_at: int
    finished_at: int | None = None
    new: int = 0
    unchanged: int = 0
    reopened: int = 0
    fixed: int = 0


class ScannerRunRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "scanner_runs"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", ondelete="CASCADE", index=True)
    tool: str
    version: str
    status: str
    duration_s: float
    exit_code: int | None = None
    findings: int = 0
    reason: str | None = None


class FindingRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "findings"
    __table_args__: ClassVar[Any] = (
        UniqueConstraint("target_id", "fingerprint", name="uq_findings_target_fingerprint"),
        Index(
            "ix_findings_triage_until",
            "triage_until",
            sqlite_where=text("triage_until IS NOT NULL"),
            postgresql_where=text("triage_until IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="targets.id", ondelete="CASCADE")
    fingerprint: bytes = Field(sa_type=LargeBinary)
    tool_ref: int = Field(foreign_key="texts.id")
    rule_ref: int = Field(foreign_key="texts.id")
    path_ref: int = Field(foreign_key="texts.id")
    line: int
    message_ref: int = Field(foreign_key="texts.id")
    severity: str
    state: str
    first_seen: int
    last_seen: int
    fixed_at: int | None = None
    last_run_id: int | None = Field(default=None, foreign_key="runs.id", ondelete="SET NULL")
    sla_started_at: int
    sla_paused_at: int | None = None
    sla_paused_s: int = 0
    triage_status: str | None = None
    triage_reason: str | None = None
    triage_actor: str | None = None
    triage_at: int | None = None
    triage_until: int | None = None
    baseline_sig: int | None = None
    introduced_at: int | None = None  # commit time of the finding's code (git blame), when known


class FindingSlaRow(SQLModel, table=True):
    """A finding's derived SLA columns, one row per finding (revision 0002).

    Apart from ``findings`` so that a sweep after downtime, which changes the status of a large
    share of all findings at once, rewrites these narrow rows instead of the wide ones.
    ``sla_status`` is the status last reported by the sweep; ``sla_next_at`` when it is due to
    change (on SQLite the partial index covers the sweep's look-up; PostgreSQL has no index on it
    and a fill factor that keeps the sweep's updates HOT, revision 0010).
    """

    __tablename__: ClassVar[str] = "finding_sla"
    __table_args__: ClassVar[Any] = (
        Index(
            "ix_finding_sla_next",
            "sla_next_at",
            "sla_status",
            sqlite_where=text("sla_next_at IS NOT NULL"),
            postgresql_where=text("sla_next_at IS NOT NULL"),
        ),
    )

    finding_id: int = Field(
        foreign_key="findings.id",
        ondelete="CASCADE",
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    due_at: int | None = None
    sla_status: str
    sla_next_at: int | None = None


class HistoryRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "history"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="findings.id", ondelete="CASCADE", index=True)
    at: int
    event: str
    from_state: str | None = None
    to_state: str
    actor: str
    reason: str = ""
    run_id: int | None = Field(default=None, foreign_key="runs.id", ondelete="SET NULL")


class TriageRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "triage_decisions"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="findings.id", ondelete="CASCADE", index=True)
    status: str
    reason: str
    actor: str
    decided_at: int
    until: int | None = None


class _OutboxColumns(SQLModel):
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    key: str = Field(unique=True)  # idempotency key: one delivery per key
    payload: str = Field(sa_type=Text)  # JSON
    status: str = "pending"  # pending | delivered | dead
    attempts: int = 0
    next_attempt_at: int
    last_error: str | None = None
    created_at: int
    delivered_at: int | None = None


class OutboxUploadRow(_OutboxColumns, table=True):
    __tablename__: ClassVar[str] = "outbox_uploads"
    __table_args__: ClassVar[Any] = (Index("ix_outbox_uploads_due", "status", "next_attempt_at"),)


class OutboxAlertRow(_OutboxColumns, table=True):
    __tablename__: ClassVar[str] = "outbox_alerts"
    __table_args__: ClassVar[Any] = (Index("ix_outbox_alerts_due", "status", "next_attempt_at"),)


class MetaRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "meta"

    key: str = Field(primary_key=True)
    value: str


# Rows of later features live in their own modules; importing them here registers them in
# SQLModel.metadata, which the migrations are checked against.
from secscan.store.sqlite import (  # noqa: E402, F401
    tables_alerts,
    tables_coverage,
    tables_daemon,
    tables_report,
    tables_uploads,
)
