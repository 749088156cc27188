"""Paging incidents and delivery state (issue 6).

One row per (dedup key, channel): whether its incident is triggered or resolved, and how many
times it was triggered, so re-runs never trigger again and a fix resolves exactly once. It is a
WITHOUT ROWID table keyed by (target, dedup key, channel): one b-tree to write per incident. A
finding's incident holds the finding's fingerprint in the findings table's own encoding (32 raw
bytes), so "is its finding still open" is one look-up in that table's unique index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "alert_incidents",
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("dedup_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("triggered_at", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=True),
        sa.Column("tool", sa.String(), nullable=True),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("grouped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("target", "dedup_key", "channel"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("alert_incidents")
