"""Uploads through the durable outbox: queue a run's per-tool SARIF files, deliver, poll, record.

A run's log is prepared (:mod:`secscan.delivery.github.prepare`) into one file per tool category and
each is queued in the uploads outbox under the idempotency key
``github-sarif/<repository>/<ref>/<commit>/<category>``: one analysis per (commit, category),
however often the run is repeated or the delivery retried. A receipt per file is kept on the run.

The handler POSTs the file, stores the returned SARIF id on the receipt at once (so a restart
polls instead of posting again), then polls ``GET .../sarifs/{id}`` for up to
``wait_for_processing_s``; a file still processing is retried later (it is only polled again).
``complete`` and ``failed`` end the delivery; ``failed`` raises an ``upload-failed`` alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from secscan.config.github import GithubConfig
from secscan.config.settings import Settings
from secscan.core.errors import ConfigError, SecscanError
from secscan.core.model import ScannerStatus, ScanRun
from secscan.core.ports.outbox import OutboxItem
from secscan.core.ports.store import Store
from secscan.core.ports.uploads import UploadReceipt, UploadStatus
from secscan.delivery.github import gitref
from secscan.delivery.github.api import GithubApi, classify, json_body
from secscan.delivery.github.prepare import PreparedUpload, prepare, started_at
from secscan.delivery.github.token import resolve_token, scrub
from secscan.delivery.http import HttpBlocked, HttpError
from secscan.delivery.loop import DeliveryReport, deliver_due
from secscan.delivery.verdicts import Dead, Delivered, Handler, Retry, Verdict, config_fault

log = logging.getLogger(__name__)

KIND = "github-sarif"
MAX_POLL_INTERVAL_S = 30.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def config_of(settings: Settings) -> GithubConfig:
    if settings.github is None:
        raise ConfigError('uploading needs a [github] section (repository = "owner/name") in --config')
    return settings.github


def check_upload(settings: Settings, target: Path) -> None:
    """Fail fast (before a scan) when an upload could not be queued. Raises ConfigError."""
    config = config_of(settings)
    resolve_token(config)
    gitref.detect(target, config)


def upload_key(repository: str, ref: str, commit_sha: str, category: str) -> str:
    return f"{KIND}/{repository}/{ref}/{commit_sha}/{category}"


def _queue(
    store: Store,
    config: GithubConfig,
    run: ScanRun,
    prepared: tuple[PreparedUpload, ...],
    checkout: gitref.Checkout,
    now: datetime,
) -> dict[str, bool]:
    """Queue each prepared file; returns its key -> whether it was new (False: queued before)."""
    queued: dict[str, bool] = {}
    for upload in prepared:
        key = upload_key(config.repository, checkout.ref, checkout.commit_sha, upload.category)
        body = {
            "commit_sha": checkout.commit_sha,
            "ref": checkout.ref,
            "sarif": upload.sarif,
            "checkout_uri": config.checkout_uri or checkout.root.as_uri().rstrip("/") + "/",
            "started_at": started_at(run.started_at),
            "tool_name": upload.tool,
        }
        receipt = UploadReceipt(
            key=key, run_id=run.run_id, target=run.target_name, repository=config.repository,
            category=upload.category, commit_sha=checkout.commit_sha, ref=checkout.ref,
            status=UploadStatus.QUEUED, results=upload.results, dropped_results=upload.dropped_results,
            dropped_locations=upload.dropped_locations,
        )  # fmt: skip
        payload = {"receipt": _receipt_payload(receipt), "body": body}
        queued[key] = store.outbox("uploads").enqueue(KIND, key, payload, now)
        if queued[key]:
            store.save_upload(receipt, now)
        else:
            log.info("%s at %s was queued before: one analysis per commit and category", upload.category,
                     checkout.commit_sha[:12])  # fmt: skip
    return queued


def _receipt_payload(r: UploadReceipt) -> dict[str, Any]:
    return {
        "key": r.key, "run_id": r.run_id, "target": r.target, "repository": r.repository,
        "category": r.category, "commit_sha": r.commit_sha, "ref": r.ref, "results": r.results,
        "dropped_results": r.dropped_results, "dropped_locations": r.dropped_locations,
    }  # fmt: skip


def queue_run(
    store: Store, run: ScanRun, sarif: Mapping[str, Any], settings: Settings, now: datetime
) -> dict[str, bool]:
    """Queue one upload per tool that finished ok in ``run``; returns each upload's outbox key
    -> whether it was new (an analysis of the same commit and category queued before is not
    queued again: its item is this run's upload)."""
    config = config_of(settings)
    checkout = gitref.detect(Path(run.target), config)
    ok = {s.name for s in run.scanners if s.status is ScannerStatus.OK}
    root_uri = config.checkout_uri or checkout.root.as_uri().rstrip("/") + "/"
    prepared = prepare(sarif, ok, subdir=checkout.subdir, root_uri=root_uri)
    return _queue(store, config, run, prepared, checkout, now)


def enqueue_run(
    store: Store, run: ScanRun, sarif: Mapping[str, Any], settings: Settings, now: datetime
) -> int:
    """Queue one upload per tool that finished ok in ``run``; returns how many were new."""
    return sum(queue_run(store, run, sarif, settings, now).values())


def enqueue_tools(
    store: Store,
    run: ScanRun,
    sarif: Mapping[str, Any],
    ok_tools: Collection[str],
    settings: Settings,
    now: datetime,
) -> int:
    """Like :func:`enqueue_run` for a stored run, whose scanner statuses come from the store."""
    config = config_of(settings)
    checkout = gitref.detect(Path(run.target), config)
    root_uri = config.checkout_uri or checkout.root.as_uri().rstrip("/") + "/"
    prepared = prepare(sarif, ok_tools, subdir=checkout.subdir, root_uri=root_uri)
    return sum(_queue(store, config, run, prepared, checkout, now).values())


UploadFailed = Callable[["Store", str, str, str, "Settings", datetime], object]
"""``(store, target, category, detail, settings, now)``: told when GitHub could not process an upload."""


class _Uploader:
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
    ) -> None:
        self.settings, self.config, self.store = settings, config, store
        self.clock, self.sleep, self.env = clock, sleep, env
        self.on_failed = on_failed
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
        self.store.save_upload(_receipt_from(meta), self.clock())  # no-op unless lost in a crash
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
        return self._poll(key, sarif_id, meta)

    def _poll(self, key: str, sarif_id: str, meta: Mapping[str, Any]) -> Verdict:
        api = self.api()
        deadline = time.monotonic() + self.config.wait_for_processing_s
        interval = self.config.poll_interval_s
        while True:
            response = api.sarif_status(sarif_id)
            data = json_body(response)
            if response.status == 200 and isinstance(data, dict):
                status = data.get("processing_status")
                errors = tuple(scrub(str(e), api.token) for e in data.get("errors") or ())
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
            if time.monotonic() + interval > deadline:
                return Retry(f"processing pending (sarif id {sarif_id})", self.config.poll_interval_s)
            self.sleep(interval)
            interval = min(interval * 2, MAX_POLL_INTERVAL_S)

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


def _receipt_from(meta: Mapping[str, Any]) -> UploadReceipt:
    return UploadReceipt(
        key=str(meta["key"]), run_id=meta["run_id"], target=str(meta["target"]),
        repository=str(meta["repository"]), category=str(meta["category"]),
        commit_sha=str(meta["commit_sha"]), ref=str(meta["ref"]), status=UploadStatus.QUEUED,
        results=int(meta["results"]), dropped_results=int(meta["dropped_results"]),
        dropped_locations=int(meta["dropped_locations"]),
    )  # fmt: skip


def handlers(
    settings: Settings,
    store: Store,
    *,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    env: Mapping[str, str] | None = None,
    on_failed: UploadFailed | None = None,
) -> Mapping[str, Handler]:
    """Outbox kind -> handler; none when ``[github]`` is not configured (items wait).

    ``on_failed`` is called when GitHub could not process an upload (the composition root,
    :mod:`secscan.app.deliver`, passes the paging feature's alert; this package imports no channel).
    """
    if settings.github is None:
        return {}
    return {KIND: _Uploader(settings, settings.github, store, clock, sleep, env, on_failed)}


def deliver(
    store: Store,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    env: Mapping[str, str] | None = None,
    on_failed: UploadFailed | None = None,
) -> DeliveryReport:
    """Deliver every due upload now."""
    return deliver_due(
        store.outbox("uploads"),
        handlers(settings, store, clock=clock, sleep=sleep, env=env, on_failed=on_failed),
        clock,
    )
