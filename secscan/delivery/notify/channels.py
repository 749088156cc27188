"""Build the channel of a ``[notify.<name>]`` table, with its secrets read from env or files.

:func:`check_channels` builds every configured channel when the config is checked (before a
scan), so a fault that delivery could never get past (a PagerDuty routing key that is not 32
characters, a URL that is not https, a DSN that is not one, a CA file that is not there) stops
the command with exit 2 instead of becoming a dead letter after the scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from secscan.config import notify as cfg
from secscan.core.errors import ConfigError, MissingSecretError
from secscan.delivery.http import HttpPolicy, check_url
from secscan.delivery.notify.email import EmailChannel
from secscan.delivery.notify.interface import Channel
from secscan.delivery.notify.pagerduty import ROUTING_KEY_LENGTH, PagerDutyChannel
from secscan.delivery.notify.secrets import config_path, read_secret
from secscan.delivery.notify.sentry import SentryChannel
from secscan.delivery.notify.slack import SlackChannel
from secscan.delivery.notify.webhook import WebhookChannel

if TYPE_CHECKING:
    from secscan.config.settings import Settings


def http_policy(settings: Settings, timeout_s: float = 30.0) -> HttpPolicy:
    """The SSRF policy of ``[notify] allow_hosts``."""
    hosts = frozenset(h.strip().lower().strip("[]") for h in settings.notify.allow_hosts)
    return HttpPolicy(allow_hosts=hosts, timeout_s=timeout_s)


def build_channel(name: str, settings: Settings) -> Channel:
    """The channel ``name`` of ``settings``. Raises ConfigError (unknown channel, missing secret,
    a URL that is not https or not allow-listed)."""
    config = settings.notify.channels.get(name)
    if config is None:
        known = ", ".join(sorted(settings.notify.channels)) or "none"
        raise ConfigError(f"no channel [notify.{name}] in the config (configured: {known})")
    policy = http_policy(settings, config.timeout_s)
    where = f"[notify.{name}]"
    if isinstance(config, cfg.PagerDutyChannel):
        key = read_secret(config.routing_key_env, config.routing_key_file, settings, f"{where} routing key")
        if len(key) != ROUTING_KEY_LENGTH:
            raise ConfigError(
                f"{where} routing key must be {ROUTING_KEY_LENGTH} characters; use an Events API v2 key"
            )
        check_url(config.events_url, policy, f"{where} events_url")
        return PagerDutyChannel(name, config.events_url, key, policy)
    if isinstance(config, cfg.SlackChannel):
        url = read_secret(config.webhook_url_env, config.webhook_url_file, settings, f"{where} webhook URL")
        check_url(url, policy, f"{where} webhook URL")
        return SlackChannel(name, url, policy)
    if isinstance(config, cfg.WebhookChannel):
        url = read_secret(config.url_env, config.url_file, settings, f"{where} URL")
        check_url(url, policy, f"{where} URL")
        secret = read_secret(config.secret_env, config.secret_file, settings, f"{where} HMAC secret")
        return WebhookChannel(name, url, secret, policy)
    if isinstance(config, cfg.SentryChannel):
        dsn = read_secret(config.dsn_env, config.dsn_file, settings, f"{where} DSN")
        return SentryChannel(name, dsn, config.environment, policy)
    if isinstance(config, cfg.EmailChannel):
        ca_file = config_path(config.ca_file, settings)
        if ca_file is not None and not ca_file.is_file():
            raise ConfigError(f"{where} ca_file {ca_file} is not a file; give the CA bundle's path")
        password = None
        if config.username is not None:
            password = read_secret(config.password_env, config.password_file, settings, f"{where} password")
        return EmailChannel(
            name, config.smtp_host, config.smtp_port, config.from_addr, config.to,
            starttls=config.starttls, username=config.username, password=password,
            ca_file=ca_file, timeout_s=config.timeout_s,
        )  # fmt: skip
    assert_never(config)


def check_channels(settings: Settings, *, deliver: bool) -> None:
    """Build every configured channel once, reading its secrets. Raises ConfigError for a
    malformed one; a missing secret is an error only when this process is to ``deliver`` (a
    ``secscan run --no-notify`` only queues: the process that delivers may have the secret)."""
    for name in settings.notify.channels:
        try:
            build_channel(name, settings)
        except MissingSecretError:
            if deliver:
                raise
