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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from secscan.app import run as app
from secscan.app import tracking
from secscan.app.cancel import RunInterrupted
from secscan.app.pipeline import Clock
from secscan.config.daemon import TargetConfig
from secscan.config.policy import load_sla_policy
from secscan.config.schedule import NIGHTLY, cron_trigger, previous_fire
from secscan.config.settings import Settings
from secscan.core.errors import SecscanError
from secscan.core.model import ScannerStatus
from secscan.core.ports.ledger import SlotRecord, SlotStatus, SlotTrigger
from secscan.core.ports.outbox import OUTBOXES
from secscan.core.ports.store import Store
from secscan.core.redact import Redactor
from secscan.daemon import integrations, preflight
from secscan.daemon.gitupdate import update_checkout
from secscan.daemon.metrics import DaemonMetrics
from secscan.store import open_store

log = logging.getLogger(__name__)

_FINE = (ScannerStatus.OK, ScannerStatus.SKIPPED)
_REDACT = Redactor()  # failure reasons go to /healthz and alerts: no credential of a remote URL


class TargetsFailedError(SecscanError):
    """Some targets of the nightly run failed (the job counts as failed; /healthz is degraded)."""

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
        return preflight.sarif_folder(self.settings, self.db)


@dataclass(frozen=True)
class TargetOutcome:
    """How one target's nightly scan went. ``problem`` says why it counts as failed (None: it
    did not); ``alert`` whether that is paged as ``target-failed`` (a failed scanner pages as
    ``scanner-failed`` already)."""

    problem: str | None = None
    alert: bool = False


@dataclass(frozen=True)
class NightlyOutcome:
    """The nightly slot's final status and the outcome of every target it attempted."""

    status: SlotStatus
    targets: Mapping[str, TargetOutcome]

    @property
    def failed(self) -> dict[str, str]:
        return {name: t.problem for name, t in self.targets.items() if t.problem is not None}


def guarded(what: str, body: Callable[[JobContext], object], ctx: JobContext) -> str:
    """Run a scheduled job's body: its failure is logged, never raised (the next tick retries).

    Returns the outcome label of the jobs metric, ``ok`` or ``failed``; ``what`` names the job in
    the log line ("job nightly", "fleet task delivery").
    """
    try:
        body(ctx)
    except SecscanError as exc:
        log.error("%s failed: %s", what, exc)
        return "failed"
    except Exception:
        log.exception("%s crashed", what)
        return "failed"
    return "ok"


def scan_target(ctx: JobContext, target: TargetConfig) -> TargetOutcome:
    """Update the checkout (if configured) and run ``secscan run`` on one target.

    Raises what ``app.run`` raises (a missing path is a TargetError, a stop RunInterrupted).
    """
    settings = preflight.target_settings(target, ctx.settings)
    fetch_error = None
    if target.remote is not None and target.branch is not None:
        try:
            update_checkout(target.path, target.remote, target.branch)
        except SecscanError as exc:  # scan what is there; the target still counts as failed
            log.error("cannot update target %s, scanning the current checkout: %s", target.target_name, exc)
            fetch_error = f"cannot update the checkout: {exc}"
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
    if fetch_error is not None:
        return TargetOutcome(_REDACT.text(fetch_error), alert=True)
    if not result.run.complete:
        bad = [f"{s.name} {s.status.value}" for s in result.run.scanners if s.status not in _FINE]
        return TargetOutcome("scanner failed: " + ", ".join(bad))
    return TargetOutcome()


def _attempt(ctx: JobContext, target: TargetConfig) -> TargetOutcome:
    """One target's scan; every failure but a stop becomes its outcome (logged, and alerted)."""
    name = target.target_name
    try:
        outcome = scan_target(ctx, target)
    except RunInterrupted:
        raise
    except SecscanError as exc:
        log.error("nightly scan of %s failed: %s", name, exc)
        outcome = TargetOutcome(_REDACT.text(str(exc)), alert=True)
    except Exception as exc:
        log.exception("nightly scan of %s crashed", name)
        outcome = TargetOutcome(f"internal error ({type(exc).__name__}); see the daemon log", alert=True)
    try:
        with open_store(ctx.db) as store:
            if outcome.alert and outcome.problem is not None:
                integrations.on_target_failed(store, name, outcome.problem, ctx.settings, ctx.clock())
            elif not outcome.alert:
                integrations.on_target_ok(store, name, ctx.settings, ctx.clock())
    except Exception:  # paging must not stop the other targets; the error is logged (and sent)
        log.exception("could not queue the alert of target %s", name)
    return outcome


def _scan_all(ctx: JobContext) -> tuple[dict[str, TargetOutcome], bool]:
    """Scan every target in turn; returns the outcome of each attempted target, and whether every
    target was attempted (False when a stop came first)."""
    outcomes: dict[str, TargetOutcome] = {}
    for target in ctx.settings.daemon.targets:
        if ctx.cancel.is_set():
            return outcomes, False
        try:
            outcomes[target.target_name] = _attempt(ctx, target)
        except RunInterrupted as exc:
            log.warning("%s", exc)
            return outcomes, False
    return outcomes, True


def nightly(ctx: JobContext) -> NightlyOutcome | None:
    """Run the current nightly slot once: claim it, scan every target, record how it ended.

    Returns the slot's final status and the targets' outcomes, or None when the slot was
    already taken.
    """
    daemon = ctx.settings.daemon
    now = ctx.clock()
    slot = previous_fire(cron_trigger(daemon.nightly, daemon.timezone), now) or now
    kind = SlotTrigger.SCHEDULED if slot >= ctx.started_at else SlotTrigger.CATCH_UP
    # the slot's lock, from before the claim until it is finished: a daemon starting on another
    # host sharing the database takes a slot whose lock is free for one a crash left running
    with open_store(ctx.db) as store, store.slot_lock(NIGHTLY, slot) as held:
        claimed = store.claim_slot(NIGHTLY, slot, now, kind, daemon.max_attempts) if held else None
        if claimed is None:
            log.info("nightly slot %s already ran, runs in another daemon or was given up; nothing to do",
                     slot.isoformat())  # fmt: skip
            return None
        return _run_slot(ctx, store, slot, claimed)


def _run_slot(ctx: JobContext, store: Store, slot: datetime, claimed: SlotRecord) -> NightlyOutcome:
    """Scan every target for the ``claimed`` slot, then finish it (and after it: sync, report)."""
    daemon = ctx.settings.daemon
    log.info(
        "nightly slot %s (%s, attempt %d): %d target(s)",
        slot.isoformat(),
        claimed.trigger.value,
        claimed.attempts,
        len(daemon.targets),
    )
    outcomes, finished = _scan_all(ctx)
    status = SlotStatus.DONE if finished else SlotStatus.INTERRUPTED  # a stop after the last run is done
    result = NightlyOutcome(status, outcomes)
    detail = f"failed: {', '.join(result.failed)}" if result.failed else None
    store.finish_slot(NIGHTLY, slot, ctx.clock(), status, detail)
    if status is SlotStatus.DONE:
        _after_nightly(ctx, store)
    return result


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
        result = tracking.sla_sweep(store, now, policy)
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
