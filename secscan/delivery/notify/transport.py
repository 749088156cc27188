"""One guarded HTTP POST for the HTTP channels, mapped to a delivery verdict.

Every request goes through :func:`secscan.delivery.http.request` (https only, SSRF checks at connect time,
``[notify] allow_hosts``). A blocked address or a URL secscan refuses is a dead letter (it will
not heal by waiting); a transport failure is retried; the response is classified by
:func:`secscan.delivery.http.verdict_for` (2xx delivered, 408/429/5xx retried after ``Retry-After``, other
4xx dead). Error texts are redacted of the channel's secrets before they are stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

from secscan.core.errors import ConfigError
from secscan.core.redact import Redactor
from secscan.delivery.http import HttpBlocked, HttpError, HttpPolicy, request, verdict_for
from secscan.delivery.verdicts import Dead, Retry, Verdict

SECRET_PART_LENGTH = 16
"""A path segment or query value at least this long is taken for a secret of a secret URL."""


def url_secrets(url: str) -> tuple[str, ...]:
    """The values to keep out of errors for a URL that is itself a secret (a Slack or webhook
    URL): the URL, and its path and query, whole and in long parts. A peer's error page often
    quotes the path it was asked for ("The requested URL /services/T/B/... was not found")."""
    parts = urlsplit(url)
    values = [url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.path, parts.query]
    values += [segment for segment in parts.path.split("/") if len(segment) >= SECRET_PART_LENGTH]
    values += [value for _, value in parse_qsl(parts.query) if len(value) >= SECRET_PART_LENGTH]
    return tuple(dict.fromkeys(v for v in values if v.strip("/")))


def scrub_verdict(verdict: Verdict, secrets: Sequence[str]) -> Verdict:
    """``verdict`` with the channel's secret values (and well-known tokens) out of its error. The
    error carries the peer's words (its response body), so it is redacted as an argument: whole,
    should a secret that is a word stand in it."""
    if isinstance(verdict, Retry):
        return Retry(Redactor(secrets).argument(verdict.error), verdict.after_s)
    if isinstance(verdict, Dead):
        return Dead(Redactor(secrets).argument(verdict.error))
    return verdict


def post(
    url: str,
    body: bytes,
    policy: HttpPolicy,
    headers: Mapping[str, str],
    secrets: Sequence[str] = (),
    what: str = "URL",
) -> Verdict:
    """POST ``body`` to ``url``; never raises for the peer's or the network's failures."""
    try:
        response = request("POST", url, policy=policy, headers=headers, body=body)
    except HttpBlocked as exc:
        return scrub_verdict(Dead(f"{what}: {exc}"), secrets)
    except HttpError as exc:
        return scrub_verdict(Retry(f"{what}: {exc}"), secrets)
    except ConfigError as exc:
        return scrub_verdict(Dead(str(exc)), secrets)
    return scrub_verdict(verdict_for(response), secrets)
