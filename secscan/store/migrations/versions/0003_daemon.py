"""The daemon's run ledger and schedule state (issue 4).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "daemon_slots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job", sa.String(), nullable=False),
        sa.Column("slot_at", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("trigger", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.UniqueConstraint("job", "slot_at", name="uq_daemon_slots_job_slot"),
    )
    op.create_table(
        "daemon_state",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("daemon_state")
    op.drop_table("daemon_slots")
