"""``[notify]``: channels, routing policy file and the SSRF allow-list (validated by
:mod:`secscan.config.schema.notify`).

```toml
[notify]
allow_hosts = ["127.0.0.1"]          # plain http and non-public addresses allowed only for these
routing = "my-routing.toml"          # merged over rules/routing.toml

[notify.pager]
type = "pagerduty"                   # the routing key comes from env PAGERDUTY_ROUTING_KEY or a file
fallback = "mail"                    # told when an alert to this channel is a dead letter

[notify.chat]
type = "slack"                       # the webhook URL comes from env SLACK_WEBHOOK_URL or a file
```

Each channel is a table named by the user; ``type`` picks its class. Secrets are never values
in the file: each channel names an environment variable and/or a file that holds them, read at
delivery time. Relative paths are relative to the config file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"

CHANNEL_TYPES: tuple[str, ...] = ("pagerduty", "slack", "email", "webhook", "sentry")
"""The values of a channel's ``type`` (a test checks they are the schema union's tags)."""

DEFAULT_ROLES: Mapping[str, tuple[str, ...]] = {
    "pagerduty": ("page",),
    "slack": ("chat",),
    "email": ("email",),
    "webhook": ("page",),
    "sentry": ("page",),
}
DEFAULT_RATES: Mapping[str, float] = {"pagerduty": 2.0, "slack": 1.0}
"""Messages per second: PagerDuty allows about 120 events/minute per key, Slack 1/s per webhook."""


@dataclass(frozen=True, kw_only=True)
class _Channel:
    """Options every channel has."""

    receives: tuple[str, ...] | None = None
    fallback: str | None = None
    rate_per_s: float | None = None
    timeout_s: float = 30.0

    @property
    def roles(self) -> tuple[str, ...]:
        return self.receives if self.receives is not None else DEFAULT_ROLES[self.kind]

    @property
    def kind(self) -> str:
        return str(getattr(self, "type"))  # noqa: B009 - every subclass declares ``type``

    @property
    def rate(self) -> float | None:
        return self.rate_per_s if self.rate_per_s is not None else DEFAULT_RATES.get(self.kind)


@dataclass(frozen=True, kw_only=True)
class PagerDutyChannel(_Channel):
    """PagerDuty Events API v2."""

    type: Literal["pagerduty"] = "pagerduty"
    events_url: str = PAGERDUTY_EVENTS_URL
    routing_key_env: str = "PAGERDUTY_ROUTING_KEY"
    routing_key_file: Path | None = None


@dataclass(frozen=True, kw_only=True)
class SlackChannel(_Channel):
    """A Slack incoming webhook (the URL is the secret). Slack allows 1 message/s per webhook."""

    type: Literal["slack"] = "slack"
    webhook_url_env: str = "SLACK_WEBHOOK_URL"
    webhook_url_file: Path | None = None


@dataclass(frozen=True, kw_only=True)
class EmailChannel(_Channel):
    """Email over SMTP, with STARTTLS and authentication (``from_addr`` is the file's ``from``)."""

    type: Literal["email"] = "email"
    smtp_host: str
    smtp_port: int = 587
    starttls: bool = True
    ca_file: Path | None = None  # extra CA bundle for the SMTP server's certificate
    username: str | None = None
    password_env: str = "SECSCAN_SMTP_PASSWORD"  # noqa: S105 - a variable name
    password_file: Path | None = None
    from_addr: str
    to: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class WebhookChannel(_Channel):
    """A generic JSON webhook, HMAC-SHA256 signed."""

    type: Literal["webhook"] = "webhook"
    url_env: str = "SECSCAN_WEBHOOK_URL"
    url_file: Path | None = None
    secret_env: str = "SECSCAN_WEBHOOK_SECRET"  # noqa: S105 - a variable name
    secret_file: Path | None = None


@dataclass(frozen=True, kw_only=True)
class SentryChannel(_Channel):
    """Sentry events (one issue per dedup key); optional."""

    type: Literal["sentry"] = "sentry"
    dsn_env: str = "SENTRY_DSN"
    dsn_file: Path | None = None
    environment: str = "production"


ChannelConfig = PagerDutyChannel | SlackChannel | EmailChannel | WebhookChannel | SentryChannel


@dataclass(frozen=True, kw_only=True)
class NotifyConfig:
    """``[notify]``: channels (``[notify.<name>]`` tables), routing policy and SSRF allow-list."""

    allow_hosts: tuple[str, ...] = ()
    routing: Path | None = None
    channels: Mapping[str, ChannelConfig] = field(default_factory=dict)
