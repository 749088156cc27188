"""``[daemon]``: targets, schedules, durability, the health endpoint and Sentry (validated by
:mod:`secscan.config.schema.daemon`).

Schedules are cron expressions (5 fields, standard crontab meaning; or 6 fields with a leading
*seconds* field, for tests and short cycles) or intervals in seconds. Every value is validated
once, so a bad schedule fails at start with one line naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_NIGHTLY = "0 2 * * *"
DEFAULT_MAINTENANCE = "30 3 * * 0"
DEFAULT_HEALTH_LISTEN = "127.0.0.1:9477"


def check_cron(value: str) -> str:
    """Validate a cron expression (5 fields, or 6 with leading seconds) that fires some day
    (``0 0 30 2 *`` never does: a daemon would start and never scan); returns it unchanged."""
    from secscan.config.schedule import cron_trigger  # APScheduler loads only when needed

    if cron_trigger(value, "UTC").get_next_fire_time(None, datetime.now(UTC)) is None:
        raise ValueError(f"cron expression {value!r} never fires: no date matches its day and month")
    return value


@dataclass(frozen=True, kw_only=True)
class TargetConfig:
    """``[[daemon.targets]]``: one local repository the nightly job scans."""

    path: Path
    name: str | None = None
    remote: str | None = None
    branch: str | None = None
    config: Path | None = None
    scanners: tuple[str, ...] = ()
    upload: bool | None = None

    @property
    def target_name(self) -> str:
        return self.name or self.path.name


@dataclass(frozen=True, kw_only=True)
class SentryConfig:
    """``[daemon.sentry]``: secscan's own errors (not findings). No DSN: nothing is sent."""

    dsn: str | None = None
    environment: str | None = None


@dataclass(frozen=True, kw_only=True)
class DaemonConfig:
    """``[daemon]``: what ``secscan daemon`` scans, when, and how it reports its own health."""

    targets: tuple[TargetConfig, ...] = ()
    db: str | None = None
    state_dir: Path | None = None
    timezone: str = "UTC"
    nightly: str = DEFAULT_NIGHTLY
    sla_sweep_every: float = 900.0
    delivery_every: float = 60.0
    maintenance: str = DEFAULT_MAINTENANCE
    heartbeat_every: float = 30.0
    catch_up_grace: float = 6 * 3600.0
    max_attempts: int = 2
    lock_wait: float = 600.0
    stop_timeout: float = 20.0
    health_listen: str = DEFAULT_HEALTH_LISTEN
    keep_runs_days: int = 400
    keep_delivered_days: int = 30
    sentry: SentryConfig = field(default_factory=SentryConfig)

    @property
    def listen_address(self) -> tuple[str, int]:
        host, _, port = self.health_listen.rpartition(":")
        return host.strip("[]"), int(port)
