"""SQLModel rows of the report's facts (revision 0007). Private to the store, like
:mod:`secscan.store.sqlite.tables`; written by :mod:`secscan.store.sqlite.report_facts`."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlmodel import Field, SQLModel


class RuleRow(SQLModel, table=True):
    """A rule's name, short description and tags (a JSON array), per (tool, rule id) as interned
    in ``texts``: the latest a scanner gave."""

    __tablename__: ClassVar[str] = "rules"
    __table_args__: ClassVar[Any] = {"sqlite_with_rowid": False}

    tool_ref: int = Field(primary_key=True, foreign_key="texts.id")
    rule_ref: int = Field(primary_key=True, foreign_key="texts.id")
    name: str
    description: str
    tags: str


class FindingPackageRow(SQLModel, table=True):
    """The package a dependency finding is about (see :class:`secscan.core.model.Package`); ``fixed``
    is a JSON array of versions, ascending."""

    __tablename__: ClassVar[str] = "finding_packages"

    finding_id: int = Field(
        foreign_key="findings.id",
        ondelete="CASCADE",
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
    )
    ecosystem: str
    name: str
    version: str
    fixed: str
