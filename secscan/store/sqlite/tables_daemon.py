"""SQLModel rows of the daemon feature. Private to the store, like :mod:`secscan.store.sqlite.tables`.

``daemon_slots`` is the daemon's run ledger: one row per scheduled slot of a job (a nightly fire
time, a missed-run alert), unique by (job, slot), so a slot runs at most once however it was
triggered, and a slot left ``running`` by a crash is visible at the next start.
``daemon_state`` holds small JSON documents: the daemon's heartbeat and its next fire times,
which ``secscan status`` reads.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class DaemonSlotRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "daemon_slots"
    __table_args__: ClassVar[Any] = (UniqueConstraint("job", "slot_at", name="uq_daemon_slots_job_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str  # nightly | missed:<target>
    slot_at: int  # the scheduled fire time (UNIX seconds)
    status: str  # running | done | interrupted | skipped
    trigger: str  # scheduled | catch-up | retry
    attempts: int = 1
    started_at: int
    finished_at: int | None = None
    detail: str | None = None


class DaemonStateRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "daemon_state"

    key: str = Field(primary_key=True)
    value: str = Field(sa_type=Text)  # JSON
    updated_at: int
