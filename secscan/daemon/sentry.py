"""secscan's own errors to Sentry, with every secret scrubbed before an event leaves the process.

Sentry's default scrubber only blanks values by key name; it sends message text, log arguments
and exception messages as they are (``../shared/specs/sentry.md``). So secscan:

* sends no local variables, no source context, no PII, no request bodies, a fixed server name;
* installs Sentry's logging handlers as ordinary *root handlers* (not the integration's patch of
  ``Logger.callHandlers``), so the redacting filters a scan puts on the root handlers
  (:func:`secscan.app.redaction.redacting_logs`, which knows the secret values found in that scan)
  also clean what Sentry records;
* passes every event and breadcrumb through :class:`EventScrubber`: each string is redacted with
  :class:`secscan.core.redact.Redactor` (well-known token formats plus the known secret values of this
  deployment: its credential files and token-like environment variables; log ``params`` as
  arguments), and stack-frame variables are dropped; those values are also remembered by
  :func:`secscan.core.logsecrets.remember`, whose filter on Sentry's handlers redacts each log
  argument before the SDK sees the record.

Sending happens on the SDK's background thread with a bounded queue; an unreachable Sentry costs
at most ``shutdown_timeout`` seconds at exit and never blocks or fails a scan.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from secscan import __version__
from secscan.core.errors import InputError
from secscan.core.logsecrets import held_secrets_filter, remember
from secscan.core.redact import Redactor
from secscan.fs.safe_read import read_regular
from secscan.fs.secret_file import MAX_SECRET_BYTES

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 2.0
_SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSW|API_?KEY|PRIVATE_?KEY|ROUTING_?KEY|WEBHOOK|CREDENTIAL", re.I)
_MIN_SECRET = 8


def known_secrets(environ: Mapping[str, str] = os.environ) -> set[str]:
    """Secret values this process may hold: token-like environment variables and the files of
    ``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential``), each whole and line by line."""
    values = {v for k, v in environ.items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET}
    folder = environ.get("CREDENTIALS_DIRECTORY")
    if folder:
        try:
            files = list(Path(folder).iterdir())
        except OSError:
            files = []
        for path in files:
            try:  # a FIFO, a device, a folder or a large file is skipped, never waited on
                data = read_regular(path, MAX_SECRET_BYTES, "credential")
            except InputError:
                continue
            text = data.decode("utf-8", errors="replace")
            values.update((text.strip(), *text.splitlines()))
    return {v.strip() for v in values if len(v.strip()) >= _MIN_SECRET}


class EventScrubber:
    """``before_send`` / ``before_breadcrumb``: redact every string, drop frame variables."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._redactor = Redactor(secrets)

    def _clean(self, value: Any, argument: bool = False) -> Any:
        if isinstance(value, str):
            return self._redactor.argument(value) if argument else self._redactor.text(value)
        if isinstance(value, Mapping):
            return {k: self._clean(v, k == "params") for k, v in value.items() if k != "vars"}
        if isinstance(value, list | tuple):
            return [self._clean(v, argument) for v in value]
        return value

    def before_send(self, event: Any, hint: dict[str, Any]) -> Any:
        return self._clean(event)

    def before_breadcrumb(self, crumb: Any, hint: dict[str, Any]) -> Any:
        return self._clean(crumb)


def resolve_dsn(configured: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """The DSN from the configuration, else ``SENTRY_DSN``; None (disabled) when neither is set."""
    return configured or environ.get("SENTRY_DSN") or None


def _transport() -> type:
    """sentry-sdk's HTTP transport, made not to follow redirects: urllib3 strips only
    ``Authorization`` and cookies on a redirect to another origin, so ``X-Sentry-Auth`` (the DSN
    key) and the event itself would go wherever a 307 pointed."""
    import urllib3
    from sentry_sdk.transport import HttpTransport

    class NoRedirectTransport(HttpTransport):
        def _get_pool_options(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            options = dict(super()._get_pool_options(*args, **kwargs))
            options["retries"] = urllib3.Retry(3, redirect=0, raise_on_redirect=False)
            return options

    return NoRedirectTransport


def _init(
    sdk: Any, dsn: str, environment: str | None, scrubber: EventScrubber, shutdown_timeout: float
) -> None:
    from sentry_sdk.integrations.logging import LoggingIntegration

    sdk.init(
        dsn=dsn,
        environment=environment or os.environ.get("SENTRY_ENVIRONMENT") or "production",
        release=f"secscan@{__version__}",
        send_default_pii=False,
        include_local_variables=False,
        include_source_context=False,
        max_request_body_size="never",
        server_name="secscan",
        before_send=scrubber.before_send,
        before_breadcrumb=scrubber.before_breadcrumb,
        # the logging patch would see records before the root handlers' redacting filters
        integrations=[LoggingIntegration(level=None, event_level=None)],
        auto_enabling_integrations=False,
        traces_sample_rate=0.0,
        shutdown_timeout=shutdown_timeout,
        transport=_transport(),
    )


@contextmanager
def reporting(
    dsn: str | None,
    *,
    environment: str | None = None,
    secrets: Iterable[str] = (),
    shutdown_timeout: float = SHUTDOWN_TIMEOUT_S,
) -> Iterator[bool]:
    """Report secscan's own errors to Sentry while the block runs; yields whether it is enabled.

    Errors logged at ERROR and above become events, INFO and above breadcrumbs. On exit the
    queue is flushed for at most ``shutdown_timeout`` seconds and the handlers are removed.
    """
    if not dsn:
        yield False
        return
    import sentry_sdk
    from sentry_sdk.integrations.logging import BreadcrumbHandler, EventHandler

    secrets = tuple(secrets)
    scrubber = EventScrubber(secrets)
    with warnings.catch_warnings():  # 2.x deprecates send_default_pii; it stays explicit here
        warnings.simplefilter("ignore", DeprecationWarning)
        _init(sentry_sdk, dsn, environment, scrubber, shutdown_timeout)
    handlers = [BreadcrumbHandler(level=logging.INFO), EventHandler(level=logging.ERROR)]
    for value in secrets:
        remember(value)
    root = logging.getLogger()
    for handler in handlers:
        handler.addFilter(held_secrets_filter())  # each log argument redacted as an argument
        root.addHandler(handler)
    log.info("reporting secscan's own errors to Sentry (release secscan@%s)", __version__)
    try:
        yield True
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        sentry_sdk.get_client().close(timeout=shutdown_timeout)
