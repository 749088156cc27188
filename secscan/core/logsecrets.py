"""The credentials this process holds never reach a log line, whatever logs them.

Channel secrets (PagerDuty routing keys, Slack and webhook URLs, HMAC secrets, SMTP passwords,
Sentry DSNs) and the GitHub token are read where they are used, never stored. Each value read is
also remembered here (:func:`remember`), and the filter :func:`held_secrets_filter`, which the
CLI and Sentry's handlers carry, redacts every value remembered so far from every record, at
any verbosity and in both log formats. A URL is remembered with its path and query and its user
info too: a connection pool logs ``POST /services/T…/B…/secret``, not the URL. (urllib3's own
debug lines are silenced as well: :func:`secscan.cli.main.main` keeps that logger at WARNING.)

This is the one process-wide registry in secscan, on purpose: which secrets a process holds is a
fact of the process, and a log line can be written from any thread at any time.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # loaded by the first secret remembered: logging is set up by every command
    from secscan.core.redact import SecretFilter

MIN_LENGTH = 6
"""Shorter parts of a secret are not remembered on their own (they would shred log lines)."""

_lock = threading.Lock()
_values: set[str] = set()
_filter: SecretFilter | None = None


def _parts(value: str) -> set[str]:
    """``value``, and for a URL its path with the query, its path, and its user info."""
    parts = {value.strip()}
    if "://" in value:
        try:
            url = urlsplit(value.strip())
        except ValueError:
            return parts
        path = url.path + (f"?{url.query}" if url.query else "")
        parts.update({path, url.path, unquote(url.path), url.username or "", url.password or ""})
    return {p for p in parts if len(p) >= MIN_LENGTH and p.strip("/")}


def remember(value: str) -> str:
    """Keep ``value`` (a secret this process read) out of every log line; returns it."""
    global _filter
    from secscan.core.redact import Redactor, SecretFilter

    parts = _parts(value)
    with _lock:
        if not parts <= _values:
            _values.update(parts)
            _filter = SecretFilter(Redactor(_values))
    return value


def redacted(text: str) -> str:
    """``text`` without the secrets remembered and the well-known token formats: for the one
    line an error prints on stderr, which no log handler filters (a setting's value may be a
    token put in the wrong place: ``token_file = "ghp_..."``)."""
    from secscan.core.redact import Redactor

    current = _filter
    return (Redactor() if current is None else current.redactor).text(text)


class _HeldSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = _filter
        return True if current is None else current.filter(record)


def held_secrets_filter() -> logging.Filter:
    """A handler filter that redacts every secret remembered, now or later."""
    return _HeldSecretsFilter()
