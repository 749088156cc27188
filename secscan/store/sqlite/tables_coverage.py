"""SQLModel rows of the coverage map (issue 14). Private to the store, like
:mod:`secscan.store.sqlite.tables`.

``run_coverage``: one row per line of a run's coverage map (a kind of file, or ``secrets``,
``other``, ``git history``), in the map's order (``position``); deleted with its run.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class RunCoverageRow(SQLModel, table=True):
    __tablename__: ClassVar[str] = "run_coverage"

    run_id: int = Field(foreign_key="runs.id", ondelete="CASCADE", primary_key=True)
    position: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str
    unit: str  # files | commits
    files: int | None = None  # None: not known (a history that was not read)
    covered: int
    scanners: str = Field(sa_type=Text)  # JSON list of the scanners that covered the kind
    analysers: str = Field(sa_type=Text)  # JSON list of the scanners meant to cover it
    reason: str | None = Field(default=None, sa_type=Text)
