"""The schema of ``[notify]`` (its values: :mod:`secscan.config.notify`); each channel is a
table named by the user, and ``type`` picks its model."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from secscan.config.notify import PAGERDUTY_EVENTS_URL
from secscan.config.schema.base import DAY_S, ConfigModel, Items, PathText
from secscan.config.values import MAX_TIMEOUT_S

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Channel(ConfigModel):
    """Validates :class:`secscan.config.notify._Channel` (documented there)."""

    receives: Items[str] | None = Field(
        default=None, description="roles routed here (page, chat, email); default by type"
    )
    fallback: str | None = Field(default=None, pattern=_NAME, description="channel told about dead letters")
    rate_per_s: float | None = Field(
        default=None, ge=1 / DAY_S, le=1000.0, description="most messages per second"
    )
    timeout_s: float = Field(default=30.0, gt=0, le=MAX_TIMEOUT_S)


class PagerDutyChannel(_Channel):
    """Validates :class:`secscan.config.notify.PagerDutyChannel` (documented there)."""

    type: Literal["pagerduty"]
    events_url: str = PAGERDUTY_EVENTS_URL
    routing_key_env: str = "PAGERDUTY_ROUTING_KEY"
    routing_key_file: PathText | None = None


class SlackChannel(_Channel):
    """Validates :class:`secscan.config.notify.SlackChannel` (documented there)."""

    type: Literal["slack"]
    webhook_url_env: str = "SLACK_WEBHOOK_URL"
    webhook_url_file: PathText | None = None
    rate_per_s: float | None = Field(default=None, ge=1 / DAY_S, le=1.0)


class EmailChannel(_Channel):
    """Email over SMTP, with STARTTLS and authentication."""

    type: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ca_file: PathText | None = None  # extra CA bundle for the SMTP server's certificate
    username: str | None = None
    password_env: str = "SECSCAN_SMTP_PASSWORD"  # noqa: S105 - a variable name
    password_file: PathText | None = None
    from_addr: str = Field(alias="from", min_length=3)
    to: Items[str] = Field(min_length=1)


class WebhookChannel(_Channel):
    """Validates :class:`secscan.config.notify.WebhookChannel` (documented there)."""

    type: Literal["webhook"]
    url_env: str = "SECSCAN_WEBHOOK_URL"
    url_file: PathText | None = None
    secret_env: str = "SECSCAN_WEBHOOK_SECRET"  # noqa: S105 - a variable name
    secret_file: PathText | None = None


class SentryChannel(_Channel):
    """Validates :class:`secscan.config.notify.SentryChannel` (documented there)."""

    type: Literal["sentry"]
    dsn_env: str = "SENTRY_DSN"
    dsn_file: PathText | None = None
    environment: str = "production"


ChannelConfig = Annotated[
    PagerDutyChannel | SlackChannel | EmailChannel | WebhookChannel | SentryChannel,
    Field(discriminator="type"),
]


class NotifyConfig(ConfigModel):
    """Validates :class:`secscan.config.notify.NotifyConfig` (documented there)."""

    allow_hosts: Items[str] = ()
    routing: PathText | None = None
    channels: Mapping[str, ChannelConfig] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_channels(cls, data: Any) -> Any:
        """``[notify.<name>]`` tables sit beside the plain keys; collect them into ``channels``."""
        if not isinstance(data, Mapping) or "channels" in data:
            return data
        plain = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
        tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
        return {**plain, "channels": tables} if tables else plain

    @model_validator(mode="after")
    def _check_names(self) -> NotifyConfig:
        for name, channel in self.channels.items():
            if not re.match(_NAME, name):
                raise ValueError(f"channel name {name!r} must be letters, digits, '.', '_' or '-'")
            if channel.fallback is not None and channel.fallback not in self.channels:
                raise ValueError(
                    f"[notify.{name}] fallback = {channel.fallback!r} is not a configured channel"
                )
            if channel.fallback == name:
                raise ValueError(f"[notify.{name}] cannot be its own fallback")
        return self
