"""Uploads through the durable outbox: queue a run's per-tool SARIF files, deliver, poll, record.

A run's log is prepared (:mod:`secscan.delivery.github.prepare`) into one file per tool category and
each is queued in the uploads outbox under the idempotency key
``github-sarif/<repository>/<ref>/<commit>/<category>``: one analysis per (commit, category),
however often the run is repeated or the delivery retried. A receipt per file is kept on the run.

The handler (:mod:`secscan.delivery.github.uploader`) POSTs each file, keeps the returned
SARIF id and polls until GitHub has processed it; ``failed`` raises an ``upload-failed`` alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secscan.config.github import GithubConfig
from secscan.config.settings import Settings
from secscan.core.errors import ConfigError
from secscan.core.model import ScannerStatus, ScanRun
from secscan.core.ports.store import Store
from secscan.core.ports.uploads import UploadReceipt, UploadStatus
from secscan.delivery.github import gitref
from secscan.delivery.github.prepare import PreparedUpload, prepare, started_at
from secscan.delivery.github.token import resolve_token
from secscan.delivery.github.uploader import Uploader, UploadFailed
from secscan.delivery.loop import DeliveryReport, deliver_due
from secscan.delivery.verdicts import Handler

log = logging.getLogger(__name__)

KIND = "github-sarif"


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


def handlers(
    settings: Settings,
    store: Store,
    *,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    env: Mapping[str, str] | None = None,
    on_failed: UploadFailed | None = None,
    deadline: datetime | None = None,
) -> Mapping[str, Handler]:
    """Outbox kind -> handler; none when ``[github]`` is not configured (items wait).

    ``on_failed`` is called when GitHub could not process an upload (the composition root,
    :mod:`secscan.app.deliver`, passes the paging feature's alert; this package imports no channel).
    """
    if settings.github is None:
        return {}
    return {KIND: Uploader(settings, settings.github, store, clock, sleep, env, on_failed, deadline)}


def deliver(
    store: Store,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    env: Mapping[str, str] | None = None,
    on_failed: UploadFailed | None = None,
    deadline: datetime | None = None,
) -> DeliveryReport:
    """Deliver every due upload now (within ``deadline``: :func:`~secscan.delivery.loop.deliver_due`)."""
    return deliver_due(
        store.outbox("uploads"),
        handlers(settings, store, clock=clock, sleep=sleep, env=env, on_failed=on_failed, deadline=deadline),
        clock,
        deadline=deadline,
    )
