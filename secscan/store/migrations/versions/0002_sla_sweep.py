"""SLA sweep speed: the derived SLA columns move from ``findings`` to a narrow ``finding_sla`` table.

A sweep after downtime changes the SLA status of a large share of the findings at once (170k of
1M after 20 hours). Updating three columns in the wide ``findings`` rows dirtied nearly every
page of that table; in ``finding_sla`` (about 30 bytes a row) the same update dirties a tenth
of the pages. ``ix_finding_sla_next`` covers the sweep's look-up (due time and stored status).

The columns move with their values; ``ALTER TABLE ... DROP COLUMN`` (SQLite 3.35+) is used, never
a batch copy of ``findings``: with foreign keys on, dropping the old table would cascade into
``history`` and ``triage_decisions``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_MOVED = ("due_at", "sla_status", "sla_next_at")


def upgrade() -> None:
    op.create_table(
        "finding_sla",
        sa.Column(
            "finding_id",
            sa.Integer(),
            sa.ForeignKey("findings.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("due_at", sa.Integer(), nullable=True),
        sa.Column("sla_status", sa.String(), nullable=False),
        sa.Column("sla_next_at", sa.Integer(), nullable=True),
    )
    op.execute(
        "INSERT INTO finding_sla (finding_id, due_at, sla_status, sla_next_at) "
        "SELECT id, due_at, sla_status, sla_next_at FROM findings ORDER BY id"
    )
    op.create_index(
        "ix_finding_sla_next",
        "finding_sla",
        ["sla_next_at", "sla_status"],
        sqlite_where=sa.text("sla_next_at IS NOT NULL"),
    )
    op.drop_index("ix_findings_sla_next", table_name="findings")
    for column in _MOVED:
        op.drop_column("findings", column)


def downgrade() -> None:
    op.add_column("findings", sa.Column("due_at", sa.Integer(), nullable=True))
    op.add_column("findings", sa.Column("sla_status", sa.String(), nullable=False, server_default="none"))
    op.add_column("findings", sa.Column("sla_next_at", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE findings SET (due_at, sla_status, sla_next_at) = "
        "(SELECT s.due_at, s.sla_status, s.sla_next_at FROM finding_sla s WHERE s.finding_id = findings.id)"
        " WHERE id IN (SELECT finding_id FROM finding_sla)"
    )
    op.create_index(
        "ix_findings_sla_next", "findings", ["sla_next_at"], sqlite_where=sa.text("sla_next_at IS NOT NULL")
    )
    op.drop_index("ix_finding_sla_next", table_name="finding_sla")
    op.drop_table("finding_sla")
