"""The schema of ``[daemon]`` (its values: :mod:`secscan.config.daemon`): every value is
validated here, once, so a bad schedule fails at start with one line naming the key."""

from __future__ import annotations

import ipaddress
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from secscan.config.daemon import DEFAULT_HEALTH_LISTEN, DEFAULT_MAINTENANCE, DEFAULT_NIGHTLY, check_cron
from secscan.config.schema.base import (
    MAX_RETENTION_DAYS,
    MIN_INTERVAL_S,
    YEAR_S,
    ConfigModel,
    Items,
    PathText,
)
from secscan.config.values import MAX_TIMEOUT_S

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9_./-]{1,200}$")


class TargetConfig(ConfigModel):
    """Validates :class:`secscan.config.daemon.TargetConfig` (documented there)."""

    path: PathText
    name: str | None = Field(default=None, description="name in the database; default: the folder name")
    remote: str | None = Field(default=None, description="git remote to fetch before the scan, e.g. origin")
    branch: str | None = Field(default=None, description="branch to check out after the fetch")
    config: PathText | None = Field(default=None, description="another trusted secscan.toml for this target")
    scanners: Items[str] = Field(default=(), description="run only these scanners (default: all)")
    upload: bool | None = Field(default=None, description="upload SARIF; default: when [github] is set")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError("must be 1-100 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("remote")
    @classmethod
    def _remote(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError("must be the name of a configured git remote, such as origin")
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str | None) -> str | None:
        if value is not None and not _BRANCH.match(value):
            raise ValueError("must be a branch name such as main")
        return value

    @model_validator(mode="after")
    def _remote_and_branch(self) -> TargetConfig:
        if (self.remote is None) != (self.branch is None):
            raise ValueError("give both 'remote' and 'branch' to update the checkout, or neither")
        return self


class SentryConfig(ConfigModel):
    """Validates :class:`secscan.config.daemon.SentryConfig` (documented there)."""

    dsn: str | None = Field(default=None, description="default: the SENTRY_DSN environment variable")
    environment: str | None = Field(default=None, description="default: SENTRY_ENVIRONMENT, else production")

    @field_validator("dsn")
    @classmethod
    def _dsn(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be a Sentry DSN such as https://KEY@o1.ingest.sentry.io/2")
        return value or None


class DaemonConfig(ConfigModel):
    """Validates :class:`secscan.config.daemon.DaemonConfig` (documented there)."""

    targets: Items[TargetConfig] = ()
    db: str | None = Field(default=None, description="database path or URL; default: the XDG state dir")
    state_dir: PathText | None = Field(
        default=None, description="SARIF logs of nightly runs; default: beside db"
    )
    timezone: str = "UTC"
    nightly: str = DEFAULT_NIGHTLY
    sla_sweep_every: float = Field(
        default=900.0, ge=MIN_INTERVAL_S, le=YEAR_S, description="seconds between SLA sweeps"
    )
    delivery_every: float = Field(
        default=60.0, ge=MIN_INTERVAL_S, le=YEAR_S, description="seconds between outbox deliveries"
    )
    maintenance: str = DEFAULT_MAINTENANCE
    heartbeat_every: float = Field(
        default=30.0, ge=MIN_INTERVAL_S, le=YEAR_S, description="seconds between liveness beats"
    )
    catch_up_grace: float = Field(
        default=6 * 3600.0, ge=0, le=YEAR_S, description="seconds a nightly may be late"
    )
    max_attempts: int = Field(default=2, ge=1, description="tries of one nightly slot (crash retries)")
    lock_wait: float = Field(
        default=600.0, ge=0, le=MAX_TIMEOUT_S, description="seconds to wait for a target being scanned"
    )
    stop_timeout: float = Field(default=20.0, gt=0, le=MAX_TIMEOUT_S, description="seconds SIGTERM may take")
    health_listen: str = DEFAULT_HEALTH_LISTEN
    keep_runs_days: int = Field(
        default=400, ge=1, le=MAX_RETENTION_DAYS, description="runs older than this are deleted"
    )
    keep_delivered_days: int = Field(
        default=30, ge=1, le=MAX_RETENTION_DAYS, description="delivered outbox rows kept this long"
    )
    sentry: SentryConfig = SentryConfig()

    @field_validator("nightly", "maintenance")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as UTC or Europe/Berlin") from None
        return value

    @field_validator("health_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        host = host.strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError("must be IP:PORT, e.g. 127.0.0.1:9477 (loopback by default)") from None
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("must be IP:PORT with a port from 0 to 65535")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> DaemonConfig:
        names = [t.name or t.path.name for t in self.targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"targets share the name {duplicates[0]!r}; give each a distinct 'name'")
        return self
