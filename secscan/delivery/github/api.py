"""The few GitHub REST calls secscan makes, over :mod:`secscan.delivery.http`, and how to read the answers.

* ``POST /repos/{owner}/{repo}/code-scanning/sarifs`` (upload) and ``GET .../sarifs/{id}``
  (processing status): ``shared/specs/github-code-scanning.md``.
* ``GET /repos/{owner}/{repo}/code-scanning/alerts`` (paged) and
  ``PATCH .../alerts/{number}`` (dismiss or reopen): the dismissal sync.

The token travels only in the ``Authorization`` header; every message built from a response is
scrubbed of it (:func:`secscan.delivery.github.token.scrub`). Rate limits: GitHub answers 429, or 403 with
``x-ratelimit-remaining: 0`` (primary limit, ``x-ratelimit-reset``) or a "secondary rate limit"
message, possibly with ``Retry-After``; without a header secscan waits at least 60 s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from secscan import __version__
from secscan.config.github import GithubConfig
from secscan.delivery.github.token import scrub
from secscan.delivery.http import HttpPolicy, HttpResponse, request, retry_after_s
from secscan.delivery.verdicts import Dead, Delivered, Retry, Verdict

SECONDARY_LIMIT_WAIT_S = 60.0
API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 1000  # 100k alerts


def http_policy(config: GithubConfig) -> HttpPolicy:
    """The configured API host is trusted (GitHub Enterprise Server often has a private address)."""
    return HttpPolicy(allow_hosts=frozenset({config.api_host}), timeout_s=config.timeout_s)


def message_of(response: HttpResponse) -> str:
    """GitHub's error ``message`` (or the start of the body), one line."""
    text = response.body[:2000].decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        text = data["message"]
    return " ".join(text.split())[:300]


def is_rate_limited(response: HttpResponse) -> bool:
    if response.status == 429:
        return True
    if response.status != 403:
        return False
    return (
        response.header("x-ratelimit-remaining") == "0"
        or response.header("retry-after") is not None
        or "rate limit" in message_of(response).lower()
    )


def classify(response: HttpResponse, now: datetime, token: SecretStr | None = None) -> Verdict:
    """A delivery verdict for GitHub: rate limits and 5xx are retried, other 4xx are dead letters."""
    if 200 <= response.status < 300:
        return Delivered()
    reason = scrub(f"HTTP {response.status}: {message_of(response) or 'no message'}", token)
    if is_rate_limited(response):
        wait = retry_after_s(response, now)
        after = max(wait, 1.0) if wait is not None else SECONDARY_LIMIT_WAIT_S
        return Retry(f"rate limited ({reason})", after)
    if response.status in (408, 425) or response.status >= 500:
        return Retry(reason, retry_after_s(response, now))
    return Dead(reason)


def json_body(response: HttpResponse) -> Any:
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        return None


@dataclass(frozen=True)
class GithubApi:
    """One repository's code scanning endpoints."""

    config: GithubConfig
    token: SecretStr
    send: Callable[..., HttpResponse] = request  # tests may wrap it

    @property
    def _base(self) -> str:
        owner, name = self.config.owner_repo
        return f"{self.config.api_url}/repos/{quote(owner, safe='')}/{quote(name, safe='')}/code-scanning"

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> HttpResponse:
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token.get_secret_value()}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"secscan/{__version__}",
        }
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        return self.send(
            method, self._base + path, policy=http_policy(self.config), headers=headers, body=data
        )

    def upload_sarif(self, body: Mapping[str, Any]) -> HttpResponse:
        return self._call("POST", "/sarifs", body)

    def sarif_status(self, sarif_id: str) -> HttpResponse:
        return self._call("GET", f"/sarifs/{quote(sarif_id, safe='')}")

    def alerts(self) -> Iterator[tuple[HttpResponse, list[Mapping[str, Any]]]]:
        """Every alert, page by page; stops at the first response that is not a 200."""
        for page in range(1, MAX_PAGES + 1):
            response = self._call("GET", f"/alerts?per_page={PER_PAGE}&page={page}")
            items = json_body(response) if response.status == 200 else None
            if not isinstance(items, list):
                yield response, []
                return
            yield response, [a for a in items if isinstance(a, dict)]
            if len(items) < PER_PAGE:
                return

    def update_alert(self, number: int, body: Mapping[str, Any]) -> HttpResponse:
        return self._call("PATCH", f"/alerts/{int(number)}", body)
