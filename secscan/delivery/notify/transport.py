"""One guarded HTTP POST for the HTTP channels, mapped to a delivery verdict.

Every request goes through :func:`secscan.delivery.http.request` (https only, SSRF checks at connect time,
``[notify] allow_hosts``). A blocked address or a URL secscan refuses is a dead letter (it will
not heal by waiting); a transport failure is retried; the response is classified by
:func:`secscan.delivery.http.verdict_for` (2xx delivered, 408/429/5xx retried after ``Retry-After``, other
4xx dead). Error texts are redacted of the channel's secrets before they are stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from secscan.core.errors import ConfigError
from secscan.core.redact import Redactor
from secscan.delivery.http import HttpBlocked, HttpError, HttpPolicy, request, verdict_for
from secscan.delivery.verdicts import Dead, Retry, Verdict


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
