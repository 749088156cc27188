"""What the report names: each rule's name and tags, and each dependency finding's package (issue 19).

``rules`` keeps the name, short description and tags scanners give for each (tool, rule id) the
store tracks findings of, keyed by the interned ``texts`` ids the findings table uses (a
``WITHOUT ROWID`` table: one b-tree, read by a join on ``findings.tool_ref, rule_ref``).
``finding_packages`` keeps the package a dependency finding is about (ecosystem, name, the
version pinned or locked, the fixed versions as a JSON array), one row per finding, deleted
with it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("tool_ref", sa.Integer(), nullable=False),
        sa.Column("rule_ref", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("tags", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["tool_ref"], ["texts.id"]),
        sa.ForeignKeyConstraint(["rule_ref"], ["texts.id"]),
        sa.PrimaryKeyConstraint("tool_ref", "rule_ref"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "finding_packages",
        sa.Column("finding_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ecosystem", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("fixed", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("finding_id"),
    )


def downgrade() -> None:
    op.drop_table("finding_packages")
    op.drop_table("rules")
