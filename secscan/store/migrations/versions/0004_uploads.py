"""GitHub code scanning upload receipts and alert sync (issue 5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "upload_receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("repository", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("commit_sha", sa.String(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("dropped_results", sa.Integer(), nullable=False),
        sa.Column("dropped_locations", sa.Integer(), nullable=False),
        sa.Column("sarif_id", sa.String(), nullable=True),
        sa.Column("analyses_url", sa.String(), nullable=True),
        sa.Column("errors", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Integer(), nullable=False),
    )
    op.create_index("ix_upload_receipts_run_id", "upload_receipts", ["run_id"])
    op.create_table(
        "github_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("repository", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("marker", sa.String(), nullable=False),
        sa.Column("updated_at", sa.Integer(), nullable=False),
        sa.UniqueConstraint("repository", "number", name="uq_github_alerts_repository_number"),
    )
    op.create_index("ix_github_alerts_target_id", "github_alerts", ["target_id"])


def downgrade() -> None:
    op.drop_table("github_alerts")
    op.drop_table("upload_receipts")
