"""The coverage map of each run (issue 14): per kind of file, how many files, how many covered,
by which scanners, and why the rest were not. One row per line of the map, keyed by the run and
the line's position; removed with its run.

Revision ID: 0008
Revises: 0006 (the lead re-chains it after 0007 of the report branch at merge)
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "run_coverage",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=True),
        sa.Column("covered", sa.Integer(), nullable=False),
        sa.Column("scanners", sa.Text(), nullable=False),
        sa.Column("analysers", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("run_coverage")
