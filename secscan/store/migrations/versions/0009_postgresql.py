"""What only worked on SQLite (issue 16): the same history, made right for PostgreSQL.

Revisions 0001-0008 were written against SQLite, whose ``INTEGER`` holds 64 bits and whose
columns take any type. On PostgreSQL they give:

- ``integer`` (32 bits) for 63-bit values: ``texts.hash``, ``findings.baseline_sig``, and every
  UNIX time (seconds past 2038, and the report's microseconds): these become ``bigint``;
- ``bytea`` fingerprints, which SQLite fills with 32 raw bytes for a SHA-256 hex digest and with
  text otherwise: on PostgreSQL a fingerprint is one type, its text, with the ``"C"`` collation
  (byte order, so a short id is a range of the unique index);
- partial indexes declared with ``sqlite_where`` only, which PostgreSQL built whole: they are
  rebuilt with ``postgresql_where``.

Ids come from the tables' sequences on PostgreSQL (``serial``); the store allocates them with
``nextval``, never ``max(id) + 1``. On SQLite this revision changes nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_BIGINT: dict[str, tuple[str, ...]] = {
    "texts": ("hash",),
    "targets": ("created_at",),
    "runs": ("started_at", "finished_at"),
    "findings": (
        "first_seen", "last_seen", "fixed_at", "sla_started_at", "sla_paused_at", "sla_paused_s",
        "triage_at", "triage_until", "baseline_sig", "introduced_at",
    ),
    "finding_sla": ("due_at", "sla_next_at"),
    "history": ("at",),
    "triage_decisions": ("decided_at", "until"),
    "outbox_uploads": ("next_attempt_at", "created_at", "delivered_at"),
    "outbox_alerts": ("next_attempt_at", "created_at", "delivered_at"),
    "daemon_slots": ("slot_at", "started_at", "finished_at"),
    "daemon_state": ("updated_at",),
    "upload_receipts": ("created_at", "updated_at"),
    "github_alerts": ("updated_at",),
    "alert_incidents": ("triggered_at", "resolved_at"),
}  # fmt: skip
_FINGERPRINTS = ("findings", "alert_incidents", "alert_incident_members")
_PARTIAL: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("ix_findings_triage_until", "findings", ("triage_until",), "triage_until IS NOT NULL"),
    ("ix_finding_sla_next", "finding_sla", ("sla_next_at", "sla_status"), "sla_next_at IS NOT NULL"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in _BIGINT.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
    for table in _FINGERPRINTS:
        op.alter_column(
            table,
            "fingerprint",
            type_=sa.Text(collation="C"),
            existing_type=sa.LargeBinary(),
            postgresql_using="encode(fingerprint, 'hex')",
        )
    for name, table, columns, where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, list(columns), postgresql_where=sa.text(where))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, columns, _where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, list(columns))
    for table in _FINGERPRINTS:
        op.alter_column(
            table,
            "fingerprint",
            type_=sa.LargeBinary(),
            existing_type=sa.Text(),
            postgresql_using="decode(fingerprint, 'hex')",
        )
    for table, columns in _BIGINT.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
