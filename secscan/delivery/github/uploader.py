"""The ``github-sarif`` outbox handler: one queued SARIF file -> POST, poll, a verdict.

The handler POSTs the file, stores the returned SARIF id on the receipt at once (so a restart
polls instead of posting again), then polls ``GET .../sarifs/{id}`` for up to
``wait_for_processing_s``, doubling the interval up to :data:`MAX_POLL_INTERVAL_S`; a file still
processing is retried later (it is only polled again). ``complete`` and ``failed`` end the
delivery; ``failed`` tells ``on_failed`` (the composition root raises an ``upload-failed`` alert).
A file GitHub has not finished for :data:`PROCESSING_LIMIT` (``pending``, a status the API does
not document, or a SARIF id it does not know) is a dead letter: polling it for ever would keep
it in the outbox for ever. The time of the first such poll is kept in the item's last error.
Token values are scrubbed from every error kept or logged.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from secscan.config.github import GithubConfig
from secscan.config.settings import Settings
from secscan.core.errors import ConfigError, SecscanError
from secscan.core.ports.outbox import OutboxItem
from secscan.core.ports.store import Store
from secscan.core.ports.uploads import UploadReceipt, UploadStatus
from secscan.delivery.github.api import GithubApi, classify, json_body
from secscan.delivery.github.token import resolve_token, scrub
from secscan.delivery.http import HttpBlocked, HttpError
from secscan.delivery.verdicts import Dead, Delivered, Retry, Verdict, config_fault

log = logging.getLogger(__name__)

MAX_POLL_INTERVAL_S = 30.0
PROCESSING_LIMIT = timedelta(hours=24)
"""How long an accepted file may stay unfinished (``pending``, an unknown status, 404) before it
is a dead letter (documented in README, "GitHub code scanning")."""
_SINCE = re.compile(r".* since (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(sarif id ([^()\s]*)\)$")


UploadFailed = Callable[["Store", str, str, str, "Settings", datetime], object]
"""``(store, target, category, detail, settings, now)``: told when GitHub could not process an upload."""


class Uploader:
    """The ``github-sarif`` handler: one queued file -> a verdict, receipts updated on the way."""

    def __init__(
        self,
        settings: Settings,
        config: GithubConfig,
        store: Store,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        env: Mapping[str, str] | None,
        on_failed: UploadFailed | None = None,
        deadline: datetime | None = None,
    ) -> None:
        self.settings, self.config, self.store = settings, config, store
        self.clock, self.sleep, self.env = clock, sleep, env
        self.on_failed = on_failed
        self.deadline = deadline  # a one-shot command's wait: no poll starts after it
        self._api: GithubApi | None = None

    def api(self) -> GithubApi:
        if self._api is None:
            self._api = GithubApi(self.config, resolve_token(self.config, self.env))
        return self._api

    @property
    def token(self) -> SecretStr | None:
        return self._api.token if self._api is not None else None

    def __call__(self, item: OutboxItem) -> Verdict:
        verdict: Verdict
        try:
            return self._deliver(item)
        except ConfigError as exc:  # no token: waits only while a token file may still appear
            verdict = config_fault(exc, item, self.clock())
        except HttpBlocked as exc:  # the address was refused (SSRF guard): waiting cannot help
            verdict = Dead(scrub(str(exc), self.token))
        except HttpError as exc:  # DNS, connect, TLS, timeout: transient
            verdict = Retry(scrub(str(exc), self.token))
        key = str(item.payload["receipt"]["key"])
        found = self.store.uploads(key=key, limit=1)
        if found:
            status = UploadStatus.DEAD if isinstance(verdict, Dead) else found[0].status
            self.store.update_upload(key, self.clock(), status, errors=(verdict.error,))
        return verdict

    def _deliver(self, item: OutboxItem) -> Verdict:
        meta = item.payload["receipt"]
        key = str(meta["key"])
        api = self.api()
        self.store.save_upload(receipt_from(meta), self.clock())  # no-op unless lost in a crash
        found = self.store.uploads(key=key, limit=1)
        receipt = found[0] if found else None
        if receipt is not None and receipt.status in (UploadStatus.COMPLETE, UploadStatus.FAILED):
            return Delivered()
        sarif_id = receipt.sarif_id if receipt is not None else None
        if sarif_id is None:
            response = api.upload_sarif(item.payload["body"])
            data = json_body(response)
            if response.status == 202 and isinstance(data, dict) and isinstance(data.get("id"), str):
                sarif_id = data["id"]
                pending = UploadStatus.PENDING
                self.store.update_upload(key, self.clock(), pending, sarif_id=sarif_id, errors=())
                log.info("%s uploaded (sarif id %s); waiting for processing", meta["category"], sarif_id)
            else:
                verdict = classify(response, self.clock(), api.token)
                if isinstance(verdict, Delivered):  # a 2xx without an id: cannot poll it
                    verdict = Dead(f"HTTP {response.status} without a SARIF id")
                status = UploadStatus.DEAD if isinstance(verdict, Dead) else UploadStatus.QUEUED
                error = verdict.error if isinstance(verdict, Dead | Retry) else ""
                self.store.update_upload(key, self.clock(), status, errors=(error,))
                return verdict
        return self._poll(key, sarif_id, meta, item.last_error)

    def _poll(self, key: str, sarif_id: str, meta: Mapping[str, Any], last_error: str | None) -> Verdict:
        api = self.api()
        deadline = time.monotonic() + self.config.wait_for_processing_s
        interval = self.config.poll_interval_s
        state = "not visible yet (HTTP 404)"
        while True:
            response = api.sarif_status(sarif_id)
            data = json_body(response)
            if response.status == 200 and isinstance(data, dict):
                status = data.get("processing_status")
                state = "pending" if status == "pending" else f"status {scrub(repr(status)[:40], api.token)}"
                listed = data.get("errors")  # a list of strings or null; anything else is not read
                errors = tuple(scrub(str(e), api.token) for e in (listed if isinstance(listed, list) else ()))
                url = data.get("analyses_url") if isinstance(data.get("analyses_url"), str) else None
                if status == "complete":
                    self.store.update_upload(key, self.clock(), UploadStatus.COMPLETE, analyses_url=url,
                                             errors=errors)  # fmt: skip
                    return Delivered()
                if status == "failed":
                    self.store.update_upload(key, self.clock(), UploadStatus.FAILED, analyses_url=url,
                                             errors=errors)  # fmt: skip
                    self._alert(meta, errors)
                    return Delivered()
            elif response.status != 404:  # 404: accepted moments ago, not visible yet
                verdict = classify(response, self.clock(), api.token)
                if not isinstance(verdict, Delivered):
                    return verdict
            late = self.deadline is not None and self.clock() + timedelta(seconds=interval) > self.deadline
            if late or time.monotonic() + interval > deadline:
                return self._unfinished(key, sarif_id, state, last_error, str(meta["run_id"]))
            self.sleep(interval)
            interval = min(interval * 2, MAX_POLL_INTERVAL_S)

    def _unfinished(self, key: str, sarif_id: str, state: str, last: str | None, run_id: str) -> Verdict:
        """A retry while GitHub has not finished the file; a dead letter after PROCESSING_LIMIT."""
        now = self.clock()
        found = _SINCE.match(last or "")  # the last " since" (a status text cannot stand in for it)
        since = now
        if found and found.group(2) == sarif_id:
            try:
                since = min(now, datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))
            except ValueError:  # not a date after all: the wait starts again
                since = now
        if now - since < PROCESSING_LIMIT:
            stamp = f"{since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
            error = f"processing {state} since {stamp} (sarif id {sarif_id})"
            return Retry(error, self.config.poll_interval_s)
        hours = PROCESSING_LIMIT.total_seconds() / 3600
        error = (
            f"GitHub did not finish processing sarif id {sarif_id} in {hours:.0f} h (last: {state}); "
            f"check its analyses on GitHub; `secscan upload --run {run_id}` polls it again"
        )
        self.store.update_upload(key, now, UploadStatus.DEAD, errors=(error,))
        return Dead(error)

    def _alert(self, meta: Mapping[str, Any], errors: tuple[str, ...]) -> None:
        detail = f"{meta['category']} at {str(meta['commit_sha'])[:12]}: " + ("; ".join(errors) or "failed")
        log.error("GitHub could not process the upload of %s", detail)
        if self.on_failed is None:
            return
        target, category = str(meta["target"]), str(meta["category"])
        try:
            self.on_failed(self.store, target, category, detail, self.settings, self.clock())
        except SecscanError as exc:
            log.error("the upload-failed alert could not be queued: %s", exc)


def receipt_from(meta: Mapping[str, Any]) -> UploadReceipt:
    return UploadReceipt(
        key=str(meta["key"]), run_id=meta["run_id"], target=str(meta["target"]),
        repository=str(meta["repository"]), category=str(meta["category"]),
        commit_sha=str(meta["commit_sha"]), ref=str(meta["ref"]), status=UploadStatus.QUEUED,
        results=int(meta["results"]), dropped_results=int(meta["dropped_results"]),
        dropped_locations=int(meta["dropped_locations"]),
    )  # fmt: skip
