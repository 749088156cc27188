"""The findings a grouped paging incident stands for (issue 13).

A storm incident (one alert for many findings of one rule) is resolved when its own members are
all closed, not when no finding of its rule is open any more: two findings of the same rule
paged separately must not keep a fixed storm open. One row per (target, dedup key, channel,
finding fingerprint), the fingerprint in the findings table's encoding; a WITHOUT ROWID table
whose key prefix is the incident's, so an incident's members are one range of one b-tree.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "alert_incident_members",
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("dedup_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("target", "dedup_key", "channel", "fingerprint"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("alert_incident_members")
