"""``[fleet]``: how ``secscan fleet`` workers share the rounds (issue 17); validated by
:mod:`secscan.config.schema.fleet`.

Targets and the nightly schedule are the daemon's (``[[daemon.targets]]``, ``[daemon] nightly``,
``max_attempts``, ``lock_wait``, ``state_dir``, ``health_listen``); this section holds only what
a fleet adds: queue names for target affinity, the watchdog's tick, when a worker counts as dead,
and when a round counts as late.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class FleetConfig:
    """``[fleet]``: the fleet's queues, watchdog and deadlines (crons, seconds)."""

    queues: tuple[str, ...] = ("scans",)
    tick: str = "* * * * *"
    sla_sweep: str = "*/15 * * * *"
    delivery: str = "* * * * *"
    heartbeat_every: float = 10.0
    stalled_after: float = 60.0
    round_deadline: float = 4 * 3600.0
    nightly_late: float = 600.0
