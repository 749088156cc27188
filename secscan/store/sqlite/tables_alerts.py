"""SQLModel rows of the alerts feature. Private to the store, like :mod:`secscan.store.sqlite.tables`."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel


class AlertIncidentRow(SQLModel, table=True):
    """Paging state per (dedup key, channel): see :class:`secscan.core.ports.alerts.AlertIncident`.

    A ``WITHOUT ROWID`` table keyed by (target, dedup key, channel): one b-tree, where a rowid
    table would need three (rows, the unique key, the per-target index), and the queries of one
    target read a range of it. Every dedup key names its target, so the key is unique per
    (dedup key, channel) too.
    """

    __tablename__: ClassVar[str] = "alert_incidents"
    __table_args__: ClassVar[Any] = {"sqlite_with_rowid": False}

    target: str = Field(primary_key=True)
    dedup_key: str = Field(primary_key=True)
    channel: str = Field(primary_key=True)
    event: str
    status: str  # triggered | resolved
    generation: int
    triggered_at: int
    resolved_at: int | None = None
    fingerprint: bytes | None = Field(default=None, sa_type=LargeBinary)  # as findings.fingerprint
    tool: str | None = None
    rule: str | None = None
    grouped: bool = False


class AlertIncidentMemberRow(SQLModel, table=True):
    """A finding a grouped incident stands for: see :class:`secscan.core.ports.alerts.IncidentMember`.
    Keyed by the incident's key and the fingerprint (in ``findings.fingerprint``'s encoding)."""

    __tablename__: ClassVar[str] = "alert_incident_members"
    __table_args__: ClassVar[Any] = {"sqlite_with_rowid": False}

    target: str = Field(primary_key=True)
    dedup_key: str = Field(primary_key=True)
    channel: str = Field(primary_key=True)
    fingerprint: bytes = Field(primary_key=True, sa_type=LargeBinary)
