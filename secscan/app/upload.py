"""What ``secscan upload``, ``secscan github sync`` and ``secscan github status`` do, as functions.

``secscan upload`` delivers the uploads waiting in the outbox; with ``--run ID`` it first makes
that run's dead or waiting uploads due again, and with ``--sarif FILE`` (the log a run wrote) it
queues that run's files when they were never queued. Scanner statuses always come from the
store, so a failed scanner's category is never uploaded, even from a file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from secscan.app.deliver import awaiting_upload, deliver_uploads
from secscan.app.github_sync import SyncReport, sync_dismissals
from secscan.app.ingest_log import log_chunks
from secscan.config.settings import Settings
from secscan.core.errors import ConfigError, InputError, StoreError
from secscan.core.model import RunId, ScanRun
from secscan.core.ports.outbox import OutboxItem, OutboxStatus
from secscan.core.ports.store import RunSummary, Store
from secscan.core.ports.uploads import UploadReceipt
from secscan.delivery.github import outbox as github_outbox
from secscan.delivery.github.outbox import KIND, config_of, utcnow
from secscan.delivery.github.prepare import RunTooLargeError
from secscan.delivery.github.sarif_check import SarifShapeError, check
from secscan.delivery.github.token import resolve_token
from secscan.delivery.loop import DeliveryReport, settle
from secscan.store import open_store

MAX_SARIF_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class UploadOutcome:
    queued: int
    requeued: int
    report: DeliveryReport
    receipts: tuple[UploadReceipt, ...]
    pending: tuple[OutboxItem, ...] = ()  # uploads still waiting when the wait ended (issue 13)


@dataclass(frozen=True)
class UploadStatusView:
    """What ``secscan github status`` (and the daemon's status) shows about uploads."""

    receipts: tuple[UploadReceipt, ...]
    dead: tuple[OutboxItem, ...]  # dead letters, with their reason in ``last_error``
    depth: Mapping[OutboxStatus, int]


def _read_sarif(path: Path) -> dict[str, Any]:
    """The log at ``path``, read as ``secscan ingest`` reads one (:func:`~secscan.app.ingest_log.log_chunks`:
    never a FIFO or a device, gzip recognised, at most :data:`MAX_SARIF_BYTES`). Raises InputError."""
    data = bytearray()
    for chunk in log_chunks(path, MAX_SARIF_BYTES):
        data += chunk
    try:  # NaN, Infinity and 1e999 are not JSON (and would be sent on as invalid JSON)
        document = json.loads(data, parse_constant=_not_json, parse_float=_finite)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested past the stack
        raise InputError(f"SARIF file {path} is not JSON; give the log `secscan run` wrote") from None
    runs = document.get("runs") if isinstance(document, dict) else None
    runs_ok = isinstance(runs, list) and all(isinstance(r, dict) for r in runs)
    if not isinstance(document, dict) or not runs_ok:
        raise InputError(f"SARIF file {path} has no runs; give the file `secscan run --sarif` wrote")
    try:
        check(document)
    except SarifShapeError as exc:
        raise InputError(
            f"SARIF file {path}: {exc.where} {exc.problem}; give the log `secscan run --sarif` wrote"
        ) from None
    return document


def _not_json(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


def _sarif_run_id(sarif: Mapping[str, Any]) -> str | None:
    for run in sarif["runs"]:
        details = run.get("automationDetails")
        ident = str(details.get("id") or "") if isinstance(details, dict) else ""
        if "/" in ident:
            return ident.rsplit("/", 1)[1]
    return None


def _sarif_root(sarif: Mapping[str, Any], path: Path) -> str:
    for run in sarif["runs"]:
        bases = run.get("originalUriBaseIds")
        root = bases.get("%SRCROOT%") if isinstance(bases, dict) else None
        uri = root.get("uri") if isinstance(root, dict) else None
        if isinstance(uri, str) and uri.startswith("file://"):
            return unquote(urlsplit(uri).path).rstrip("/") or "/"
    raise InputError(f"SARIF file {path} does not say which folder was scanned (%SRCROOT%)")


def _find_run(store: Store, run_id: str) -> RunSummary:
    for summary in store.runs(limit=100_000):
        if summary.run_id == run_id:
            return summary
    raise StoreError(f"run {run_id} is not in the database; list runs with `secscan runs`")


def _queue_file(store: Store, settings: Settings, path: Path, run_id: str | None, now: datetime) -> int:
    sarif = _read_sarif(path)
    found = _sarif_run_id(sarif)
    if run_id is not None and found is not None and found != run_id:
        raise InputError(f"SARIF file {path} is run {found}, not {run_id}; give the matching --run")
    run_id = run_id or found
    if run_id is None:
        raise InputError(f"SARIF file {path} has no secscan run id; give --run ID")
    summary = _find_run(store, run_id)
    ok = {s.tool for s in summary.scanners if s.status == "ok"}
    run = ScanRun(RunId(run_id), _sarif_root(sarif, path), summary.target, summary.started_at,
                  summary.finished_at or summary.started_at, ())  # fmt: skip
    try:
        return github_outbox.enqueue_tools(store, run, sarif, ok, settings, now)
    except RunTooLargeError as exc:  # raised while preparing, before anything is queued
        raise InputError(f"SARIF file {path}: {exc}; GitHub takes at most 10 MB gzipped per run") from None


def upload(
    db: str | None,
    settings: Settings,
    *,
    run_id: str | None = None,
    sarif: Path | None = None,
    clock: Callable[[], datetime] = utcnow,
    env: Mapping[str, str] | None = None,
    wait_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> UploadOutcome:
    """``secscan upload``: queue (from ``sarif``), make a run's uploads due, deliver everything
    due, and keep retrying what is still waiting for up to ``wait_s`` (issue 13: a one-shot
    command in CI must not leave uploads behind in a database that dies with the runner).
    Raises ConfigError before anything is done when there is no ``[github]`` or no token."""
    resolve_token(config_of(settings), env)
    with open_store(db) as store:
        queued = _queue_file(store, settings, sarif, run_id, clock()) if sarif is not None else 0
        requeued = 0
        if run_id is not None:
            keys = {r.key for r in store.uploads(run_id=run_id, limit=10_000)}
            if not keys and not queued:
                raise ConfigError(
                    f"run {run_id} has no uploads; queue it with --sarif FILE (the log that run wrote)"
                )
            box = store.outbox("uploads")
            waiting = [
                item
                for status in (OutboxStatus.DEAD, OutboxStatus.PENDING)
                for item in box.items(status, limit=10_000)
                if item.kind == KIND and item.key in keys
            ]
            for item in waiting:
                box.requeue(item.id, clock())
            requeued = len(waiting)
        box = store.outbox("uploads")
        settled = settle(
            lambda at: deliver_uploads(store, settings, clock=clock, sleep=sleep, env=env, deadline=at),
            lambda: [
                i
                for i in box.items(OutboxStatus.PENDING, limit=10_000)
                if i.kind == KIND and awaiting_upload(store, i)
            ],
            wait_s, clock, sleep,
        )  # fmt: skip
        receipts = store.uploads(run_id=run_id, limit=50)
    return UploadOutcome(queued, requeued, settled.report, receipts, settled.pending)


def sync(
    db: str | None, settings: Settings, *, now: datetime | None = None, env: Mapping[str, str] | None = None
) -> SyncReport:
    """``secscan github sync``."""
    with open_store(db) as store:
        return sync_dismissals(store, settings, now or utcnow(), env=env)


def upload_status(store: Store, run_id: str | None = None, limit: int = 20) -> UploadStatusView:
    """Recent receipts, the dead letters of the uploads outbox and its depth (for any status view)."""
    box = store.outbox("uploads")
    dead = tuple(i for i in box.items(OutboxStatus.DEAD, limit=limit) if i.kind == KIND)
    return UploadStatusView(store.uploads(run_id=run_id, limit=limit), dead, box.depth())


def status(db: str | None, run_id: str | None = None) -> UploadStatusView:
    """``secscan github status``."""
    with open_store(db) as store:
        return upload_status(store, run_id)
