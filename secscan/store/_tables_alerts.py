"""SQLModel rows of the alerts feature. Private to the store, like :mod:`secscan.store.tables`."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class AlertIncidentRow(SQLModel, table=True):
    """Paging state per (dedup key, channel): see :class:`secscan.store.alerts.AlertIncident`."""

    __tablename__: ClassVar[str] = "alert_incidents"
    __table_args__: ClassVar[Any] = (
        UniqueConstraint("dedup_key", "channel", name="uq_alert_incidents_key_channel"),
        Index("ix_alert_incidents_target_status", "target", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str
    channel: str
    event: str
    target: str
    status: str  # triggered | resolved
    generation: int
    triggered_at: int
    resolved_at: int | None = None
    fingerprint: bytes | None = Field(default=None, sa_type=LargeBinary)  # as findings.fingerprint
    tool: str | None = None
    rule: str | None = None
    grouped: bool = False
