"""Initial schema: interned texts, targets, runs, scanner runs, findings, history, triage, outboxes, meta.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _outbox(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.Integer(), nullable=True),
    )
    op.create_index(f"ix_{name}_due", name, ["status", "next_attempt_at"])


def upgrade() -> None:
    op.create_table(
        "texts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hash", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_index("ix_texts_hash", "texts", ["hash"])
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False, unique=True),
        sa.Column("root", sa.String(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False, unique=True),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("started_at", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.Integer(), nullable=True),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Integer(), nullable=False),
    )
    op.create_index("ix_runs_target_status", "runs", ["target_id", "status", "started_at"])
    op.create_table(
        "scanner_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tool", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
    )
    op.create_index("ix_scanner_runs_run_id", "scanner_runs", ["run_id"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("targets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=False),
        sa.Column("tool_ref", sa.Integer(), sa.ForeignKey("texts.id"), nullable=False),
        sa.Column("rule_ref", sa.Integer(), sa.ForeignKey("texts.id"), nullable=False),
        sa.Column("path_ref", sa.Integer(), sa.ForeignKey("texts.id"), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("message_ref", sa.Integer(), sa.ForeignKey("texts.id"), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("first_seen", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.Integer(), nullable=False),
        sa.Column("fixed_at", sa.Integer(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("sla_started_at", sa.Integer(), nullable=False),
        sa.Column("sla_paused_at", sa.Integer(), nullable=True),
        sa.Column("sla_paused_s", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.Integer(), nullable=True),
        sa.Column("sla_status", sa.String(), nullable=False),
        sa.Column("sla_next_at", sa.Integer(), nullable=True),
        sa.Column("triage_status", sa.String(), nullable=True),
        sa.Column("triage_reason", sa.String(), nullable=True),
        sa.Column("triage_actor", sa.String(), nullable=True),
        sa.Column("triage_at", sa.Integer(), nullable=True),
        sa.Column("triage_until", sa.Integer(), nullable=True),
        sa.Column("baseline_sig", sa.Integer(), nullable=True),
        sa.Column("introduced_at", sa.Integer(), nullable=True),
        sa.UniqueConstraint("target_id", "fingerprint", name="uq_findings_target_fingerprint"),
    )
    op.create_index(
        "ix_findings_sla_next", "findings", ["sla_next_at"], sqlite_where=sa.text("sla_next_at IS NOT NULL")
    )
    op.create_index(
        "ix_findings_triage_until",
        "findings",
        ["triage_until"],
        sqlite_where=sa.text("triage_until IS NOT NULL"),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "finding_id", sa.Integer(), sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("from_state", sa.String(), nullable=True),
        sa.Column("to_state", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_history_finding_id", "history", ["finding_id"])
    op.create_table(
        "triage_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "finding_id", sa.Integer(), sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("decided_at", sa.Integer(), nullable=False),
        sa.Column("until", sa.Integer(), nullable=True),
    )
    op.create_index("ix_triage_decisions_finding_id", "triage_decisions", ["finding_id"])
    _outbox("outbox_uploads")
    _outbox("outbox_alerts")
    op.create_table(
        "meta",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "meta", "outbox_alerts", "outbox_uploads", "triage_decisions", "history", "findings",
        "scanner_runs", "runs", "targets", "texts",
    ):  # fmt: skip
        op.drop_table(table)
