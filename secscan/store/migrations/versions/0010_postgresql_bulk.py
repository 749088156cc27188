"""PostgreSQL's bulk paths (issue 16's speed targets): HOT updates, only the checks that act.

Measured on a 1M-finding database (``benchmarks/README.md``, "Both store backends side by side"):

- A sweep's update of 170k ``finding_sla`` rows moved every row's entry in ``ix_finding_sla_next``
  (the updated ``sla_next_at`` is its key), so no update was HOT and each also wrote the primary
  key index: 1.5 s. Without that index, and with a fill factor that leaves room on each page for
  the new row versions, the updates are HOT: 0.26 s. The sweep then finds its due rows by
  scanning the narrow table (a few tens of MB: about 0.1 s per 1M rows, where the index read
  nothing when nothing is due).
- Every run re-writes ``state``, ``last_seen`` and ``last_run_id`` of each finding it sees again
  (100k rows for a large target). None of them is indexed, so with room on the page (fill factor
  50) the updates are HOT and leave the three indexes alone: 1.3 s -> 0.5 s. A table whose rows
  are all rewritten on every run holds about two versions of each row between vacuums anyway;
  the fill factor keeps the second on the same page instead of bloating the indexes.
- Foreign keys whose parent is never deleted while referenced only checked, with one row lock
  (``FOR KEY SHARE``) on the parent per child row: 600k checks in an ingest of 100k results (2 s
  of the server's 2.8 s for the findings), 100k in a re-ingest (``last_run_id`` changes: 1 s of
  2.2 s), 170k in a sweep's history (1.6 s of 2.5 s), and every concurrent run locked the same
  shared ``texts`` rows. They go: secscan never deletes ``texts``, ``targets`` or ``findings``,
  the retention of runs keeps every run a finding points at (``prune_runs``), and the store
  writes child rows only with ids it allocated or read inside the transaction that holds the
  target's (or the whole store's) lock. The keys that act stay: deleting a run still sets
  ``history.run_id`` to NULL and removes its scanner, coverage and upload rows, and
  ``triage_decisions`` (a few rows per triage) keeps its key.

On SQLite this revision changes nothing: its foreign keys cost little (``PRAGMA foreign_keys``
checks them in the same B-tree look-up) and the contract tests run there with every key checked.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

FILLFACTOR = {"finding_sla": 70, "findings": 50}
"""Room on each page for new versions of its rows (a HOT update needs the same page): a sweep
rewrites a share of ``finding_sla``; a run rewrites every row of ``findings`` it sees again."""

# (constraint, table, column, parent, on delete): the checks that only check, dropped on PostgreSQL
_CHECK_ONLY: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("findings_target_id_fkey", "findings", "target_id", "targets", "CASCADE"),
    ("findings_tool_ref_fkey", "findings", "tool_ref", "texts", None),
    ("findings_rule_ref_fkey", "findings", "rule_ref", "texts", None),
    ("findings_path_ref_fkey", "findings", "path_ref", "texts", None),
    ("findings_message_ref_fkey", "findings", "message_ref", "texts", None),
    ("findings_last_run_id_fkey", "findings", "last_run_id", "runs", "SET NULL"),
    ("finding_sla_finding_id_fkey", "finding_sla", "finding_id", "findings", "CASCADE"),
    ("history_finding_id_fkey", "history", "finding_id", "findings", "CASCADE"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_finding_sla_next", table_name="finding_sla")
    for table, percent in FILLFACTOR.items():  # applies to pages written from now on
        op.execute(sa.text(f"ALTER TABLE {table} SET (fillfactor = {percent})"))
    for name, table, *_ in _CHECK_ONLY:
        op.drop_constraint(name, table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column, parent, ondelete in _CHECK_ONLY:
        op.create_foreign_key(name, table, parent, [column], ["id"], ondelete=ondelete)
    for table in FILLFACTOR:
        op.execute(sa.text(f"ALTER TABLE {table} RESET (fillfactor)"))
    op.create_index(
        "ix_finding_sla_next",
        "finding_sla",
        ["sla_next_at", "sla_status"],
        postgresql_where=sa.text("sla_next_at IS NOT NULL"),
    )
