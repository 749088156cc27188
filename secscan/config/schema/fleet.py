"""The schema of ``[fleet]`` (its values: :class:`secscan.config.fleet.FleetConfig`)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from secscan.config.daemon import check_cron  # the values' module: no cycle
from secscan.config.schema.base import MIN_INTERVAL_S, YEAR_S, ConfigModel, Items

_QUEUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class FleetConfig(ConfigModel):
    """``[fleet]``: the fleet's queues, watchdog and deadlines."""

    queues: Items[str] = Field(
        default=("scans",),
        description="queue names; each target always goes to the same one (start workers with --queue)",
    )
    tick: str = Field(
        default="* * * * *", description="cron of the watchdog (stalled jobs, nightly, deadlines)"
    )
    sla_sweep: str = Field(default="*/15 * * * *", description="cron of the fleet-wide SLA sweep")
    delivery: str = Field(default="* * * * *", description="cron of the fleet-wide outbox delivery")
    heartbeat_every: float = Field(
        default=10.0, ge=MIN_INTERVAL_S, le=YEAR_S, description="seconds between a worker's heartbeats"
    )
    stalled_after: float = Field(
        default=60.0, gt=0, le=YEAR_S, description="seconds without heartbeat: a dead worker"
    )
    round_deadline: float = Field(default=4 * 3600.0, gt=0, le=YEAR_S, description="seconds a round may take")
    nightly_late: float = Field(
        default=600.0, ge=0, le=YEAR_S, description="seconds a nightly round may be enqueued late"
    )

    @field_validator("tick", "sla_sweep", "delivery")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("queues")
    @classmethod
    def _queues(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("needs at least one queue name")
        for name in value:
            if not _QUEUE.match(name):
                raise ValueError(f"{name!r}: a queue name is 1-63 letters, digits, '.', '_' or '-'")
        if len(set(value)) != len(value):
            raise ValueError("queue names must be distinct")
        return value
