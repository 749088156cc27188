"""The daemon's jobs: the nightly scan of every target, the SLA sweep, delivery and upkeep.

Each job opens the store for its own duration (jobs run on scheduler threads) and takes a
:class:`JobContext`: the settings in force (replaced on SIGHUP), the database, the stop event.
The nightly job claims its slot in the ledger first, so a slot is scanned once however it was
triggered; a stop interrupts it (scanners killed, the run recorded ``interrupted``) and the
next start retries it within the catch-up grace.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from secscan import app
from secscan.daemon import integrations
from secscan.daemon.cancel import RunInterrupted
from secscan.daemon.config import TargetConfig
from secscan.daemon.gitupdate import update_checkout
from secscan.daemon.metrics import OUTBOXES, DaemonMetrics
from secscan.daemon.recovery import NIGHTLY
from secscan.daemon.schedule import cron_trigger, previous_fire
from secscan.errors import SecscanError
from secscan.locks import database_path
from secscan.pipeline import Clock
from secscan.settings import Settings, load_settings
from secscan.sla import load_sla_policy
from secscan.store import open_store
from secscan.store.interface import Store
from secscan.store.ledger import SlotStatus, SlotTrigger

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class JobContext:
    settings: Settings
    db: str | None
    cancel: threading.Event
    clock: Clock
    started_at: datetime  # this daemon process's start: earlier slots are catch-ups
    metrics: DaemonMetrics

    @property
    def sarif_dir(self) -> Path:
        configured = self.settings.daemon.state_dir
        return configured if configured is not None else database_path(self.db).parent / "sarif"


def scan_target(ctx: JobContext, target: TargetConfig) -> app.RunResult:
    """Update the checkout (if configured) and run ``secscan run`` on one target."""
    settings = load_settings(target.config) if target.config is not None else ctx.settings
    if target.remote is not None and target.branch is not None:
        try:
            update_checkout(target.path, target.remote, target.branch)
        except SecscanError as exc:  # scan what is there; the failure is visible in logs and Sentry
            log.error("cannot update target %s, scanning the current checkout: %s", target.target_name, exc)
    upload = target.upload
    if upload is None:
        upload = settings.github is not None and settings.github.upload_on_nightly
    ctx.sarif_dir.mkdir(parents=True, exist_ok=True)
    request = app.RunRequest(
        target=target.path,
        settings=settings,
        sarif_path=ctx.sarif_dir / f"{target.target_name}.sarif",
        only=target.scanners,
        db=ctx.db,
        target_name=target.target_name,
        upload=upload,
        notify=True,
        lock_wait_s=ctx.settings.daemon.lock_wait,
        cancel=ctx.cancel,
    )
    result = app.run(request)
    ctx.metrics.observe_run(result.run)
    log.info(
        "nightly run %s of %s: %s, %d findings",
        result.run.run_id,
        target.target_name,
        "complete" if result.run.complete else "partial",
        len(result.run.findings),
    )
    return result


def _scan_all(ctx: JobContext) -> tuple[list[str], bool]:
    """Scan every target in turn; returns the names of those that failed, and whether every
    target was attempted (False when a stop came first)."""
    failed: list[str] = []
    for target in ctx.settings.daemon.targets:
        if ctx.cancel.is_set():
            return failed, False
        try:
            scan_target(ctx, target)
        except RunInterrupted as exc:
            log.warning("%s", exc)
            return failed, False
        except SecscanError as exc:
            log.error("nightly scan of %s failed: %s", target.target_name, exc)
            failed.append(target.target_name)
        except Exception:
            log.exception("nightly scan of %s crashed", target.target_name)
            failed.append(target.target_name)
    return failed, True


def nightly(ctx: JobContext) -> SlotStatus | None:
    """Run the current nightly slot once: claim it, scan every target, record how it ended.

    Returns the slot's final status, or None when the slot was already taken.
    """
    daemon = ctx.settings.daemon
    now = ctx.clock()
    slot = previous_fire(cron_trigger(daemon.nightly, daemon.timezone), now) or now
    kind = SlotTrigger.SCHEDULED if slot >= ctx.started_at else SlotTrigger.CATCH_UP
    with open_store(ctx.db) as store:
        claimed = store.claim_slot(NIGHTLY, slot, now, kind, daemon.max_attempts)
    if claimed is None:
        log.info("nightly slot %s already ran (or was given up); nothing to do", slot.isoformat())
        return None
    log.info(
        "nightly slot %s (%s, attempt %d): %d target(s)",
        slot.isoformat(),
        claimed.trigger.value,
        claimed.attempts,
        len(daemon.targets),
    )
    failed, finished = _scan_all(ctx)
    status = SlotStatus.DONE if finished else SlotStatus.INTERRUPTED  # a stop after the last run is done
    detail = f"failed: {', '.join(failed)}" if failed else None
    with open_store(ctx.db) as store:
        store.finish_slot(NIGHTLY, slot, ctx.clock(), status, detail)
        if status is SlotStatus.DONE:
            _after_nightly(ctx, store)
    return status


def _after_nightly(ctx: JobContext, store: Store) -> None:
    """Dismissal sync and the dashboard report; each failure is logged, never fatal."""
    now = ctx.clock()
    for name, step in (
        ("dismissal sync", lambda: integrations.sync_dismissals(store, ctx.settings, now)),
        ("report", lambda: integrations.write_report(store, ctx.settings, now)),
    ):
        try:
            step()
        except Exception:
            log.exception("%s after the nightly run failed", name)


def sla_sweep(ctx: JobContext) -> int:
    """Sweep SLA statuses and queue the alerts; returns the number of changes."""
    now = ctx.clock()
    policy = load_sla_policy(ctx.settings.policy.sla)
    with open_store(ctx.db) as store:
        result = store.sla_sweep(now, policy)
        integrations.on_sweep(store, result, ctx.settings, now)
    if result.changes or result.expired:
        log.info(
            "SLA sweep: %d status change(s), %d expired decision(s)", len(result.changes), len(result.expired)
        )
    return len(result.changes)


def deliver(ctx: JobContext) -> None:
    """Deliver the due items of both outboxes."""
    with open_store(ctx.db) as store:
        integrations.deliver_all(store, ctx.settings, ctx.clock)


def maintenance(ctx: JobContext) -> None:
    """Retention (old runs and slots, delivered outbox rows), ``PRAGMA optimize``, WAL checkpoint."""
    daemon = ctx.settings.daemon
    now = ctx.clock()
    with open_store(ctx.db) as store:
        pruned = store.prune(now - timedelta(days=daemon.keep_runs_days))
        delivered = sum(
            store.outbox(name).prune(now - timedelta(days=daemon.keep_delivered_days)) for name in OUTBOXES
        )
        store.optimize()
    log.info(
        "maintenance: %d run(s), %d slot(s), %d delivered outbox item(s) pruned; database optimised",
        pruned.runs,
        pruned.slots,
        delivered,
    )
