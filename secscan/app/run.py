"""Application functions: what each CLI command does, as plain functions that tests call.

The CLI only parses arguments, calls one of these and maps errors to exit codes.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.app import tracking
from secscan.app.cancel import RunGuard, held_across_hosts, interrupt_orphaned_runs, stop_if_cancelled
from secscan.app.document import json_document, scrub
from secscan.app.gate import NewFindingsGate, gating, new_since_baseline
from secscan.app.introduced import introduced_times
from secscan.app.pipeline import ScanHooks, ScanOutcome, run_scan, utcnow
from secscan.app.scan_options import check_databases
from secscan.config.policy import load_policy, load_sla_policy
from secscan.config.settings import Settings, fail_threshold
from secscan.config.suppressions import read_suppressions
from secscan.core.errors import ExitCode, TargetError
from secscan.core.model import Finding, FindingState, Location, ScanRun, Severity
from secscan.core.ports.store import OPEN_STATES, FindingQuery, RunOutcome, TrackedFinding
from secscan.core.printable import printable
from secscan.core.records import BaselineState
from secscan.fs.inventory import check_target
from secscan.fs.locks import target_lock
from secscan.fs.names import has_surrogates
from secscan.report.sarif import build_sarif
from secscan.report.sinks.file import FileSink, check_writable
from secscan.scanners.cache.paths import cache_for_run, osv_index_folder
from secscan.scanners.registry import select_scanners
from secscan.store import open_store

if TYPE_CHECKING:
    from secscan.app.deliver import Undelivered
    from secscan.app.delivery_wait import DeliveryWait

DEFAULT_SARIF = Path("secscan.sarif")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRequest:
    """Everything ``secscan run`` was asked to do."""

    target: Path
    settings: Settings
    sarif_path: Path | None = DEFAULT_SARIF  # None: no file (the SARIF log goes to stdout)
    only: Sequence[str] = ()
    osv_db: Path | None = None
    db: str | None = None  # file path or SQLAlchemy URL; None: the XDG state directory
    target_name: str | None = None
    upload: bool = False  # queue and deliver this run's SARIF to GitHub code scanning
    notify: bool = True  # deliver queued alerts at the end of the run (they are queued anyway)
    use_cache: bool = True  # False: a cold run that neither reads nor writes the result cache
    lock_wait_s: float = 10.0  # how long to wait for another run of the same target (daemon, issue 4)
    cancel: threading.Event | None = None  # set: stop the scanners, record the run as interrupted
    # issue 13: a one-shot run waits this long for its uploads and alerts (None: the daemon's
    # runs deliver once and leave the rest to the daemon's delivery job)
    delivery_wait: DeliveryWait | None = None
    # issue 19: the exit code counts only findings new since the last complete run of the target,
    # or of ``baseline_target`` (a pull request's run compared with its target branch's)
    new_only: bool = False
    baseline_target: str | None = None


@dataclass(frozen=True)
class RunResult:
    outcome: ScanOutcome
    sarif_path: Path | None
    document: Mapping[str, Any]
    exit_code: ExitCode
    undelivered: tuple[Undelivered, ...] = ()  # issue 13: uploads and alerts not delivered
    sarif: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # the SARIF log as written
    gate: NewFindingsGate | None = None  # with ``new_only``

    @property
    def run(self) -> ScanRun:
        return self.outcome.run


def exit_code_for(run: ScanRun, threshold: Severity | None, new: Collection[str] | None = None) -> ExitCode:
    """3 when a scanner failed, timed out or is incomplete (it wins: the scan is incomplete), else
    1 when an untriaged finding (one of the ``new`` fingerprints, when given) is at or above the
    threshold, else 0."""
    if any(s.status.is_failure for s in run.scanners):
        return ExitCode.SCANNER_FAILED
    if gating(run, threshold, new):
        return ExitCode.FINDINGS
    return ExitCode.OK


def _as_finding(t: TrackedFinding, state: FindingState) -> Finding:
    return Finding(
        tool=t.tool,
        rule_id=t.rule_id,
        message=t.message,
        location=Location(t.path, max(t.line, 1)),
        severity=t.severity,
        fingerprint=t.fingerprint,
        state=state,
    )


def with_lifecycle(run: ScanRun, recorded: RunOutcome) -> ScanRun:
    """The run with each finding's lifecycle state and the findings this run fixed."""
    states = {t.fingerprint: t.state for t in (*recorded.new, *recorded.unchanged, *recorded.reopened)}
    scanners = tuple(
        dataclasses.replace(
            s,
            findings=tuple(
                dataclasses.replace(f, state=states.get(f.fingerprint, f.state)) for f in s.findings
            ),
        )
        for s in run.scanners
    )
    fixed = tuple(_as_finding(t, FindingState.FIXED) for t in recorded.fixed)
    return dataclasses.replace(run, scanners=scanners, fixed=fixed)


def own_outputs(request: RunRequest, cache: Path | None) -> list[Path]:
    """The files a run writes: its SARIF log, the database (its ``-wal``, ``-shm`` and lock
    folder go with it), the result cache, the compiled OSV indexes' folder and the report. None
    of them is ever scanned."""
    from secscan.fs.locks import database_path

    outputs = [database_path(request.db)]
    index = osv_index_folder(request.settings.cache)
    outputs += [p for p in (request.sarif_path, cache, index, request.settings.report.path) if p is not None]
    return outputs


def run(request: RunRequest, hooks: ScanHooks = ScanHooks()) -> RunResult:  # noqa: B008
    """``secscan run``: scan, record the run in the lifecycle store, write the SARIF log, and
    work out the exit code. Bad input (target, config, suppressions, database) fails before any
    scanner starts."""
    root = check_target(request.target)
    if request.sarif_path is not None:  # issue 13: a bad output path fails before the scan
        check_writable(request.sarif_path, "SARIF log")
    # an unknown --scanner or a missing OSV database: refused before a database or lock is made
    check_databases(select_scanners(request.settings, request.only), request.settings, request.osv_db)
    suppressions = read_suppressions(root)
    severity_policy = load_policy(request.settings.policy.severity)  # a bad file: exit 2, nothing opened
    sla_policy = load_sla_policy(request.settings.policy.sla)
    if request.upload:  # issue 5: no token, [github] or commit -> exit 2 before any scanner starts
        from secscan.delivery.github.outbox import check_upload

        check_upload(request.settings, root)
    # issue 18: without a channel no alert is routed, queued or delivered, and without --upload
    # too the run delivers nothing: it leaves the paging and delivery code unloaded
    paging = bool(request.settings.notify.channels)
    delivers = request.upload or paging
    if paging:  # issue 6: a bad routing policy fails here
        from secscan.delivery.notify import events as notify_events

        notify_events.check(request.settings)
    if delivers:
        from secscan.app import deliver as run_delivery
    if paging and request.delivery_wait is not None:  # issue 13: a one-shot run checks its channels
        run_delivery.check(request.settings, notify=request.notify)
    name = request.target_name or root.name
    if has_surrogates(name):  # a name is an identifier in the store, keys and alerts: text only
        raise TargetError(f"target name {printable(name)} is not UTF-8; give the target a name with --target")
    with (
        open_store(request.db) as store,  # first: a --db that is no database leaves no <db>.locks/ behind
        target_lock(request.db, name, wait_s=request.lock_wait_s, cancel=request.cancel),
        held_across_hosts(store, name, request.lock_wait_s, request.cancel),  # PostgreSQL: other hosts
        RunGuard(store, utcnow) as guard,  # an error before the run is recorded ends it: never left running
    ):
        interrupt_orphaned_runs(store, request.db, utcnow(), held=name)  # runs of processes that died
        baseline = request.baseline_target or name
        known = new_since_baseline(store, baseline) if baseline != name and request.new_only else None
        # every finding that can still be closed: open and triaged ones
        closable = FindingQuery(target=name, states=OPEN_STATES | {FindingState.TRIAGED})
        tracked = {t.path for t in store.list_findings(closable)}
        cache = cache_for_run(request.settings.cache, request.db, request.use_cache)  # issue 7
        outcome = run_scan(
            request.target,
            request.settings,
            only=request.only,
            osv_db=request.osv_db,
            hooks=hooks,
            target_name=name,
            begin=guard.begin,
            tracked_paths=tracked,
            cancel=request.cancel,
            cache=cache,
            outputs=own_outputs(request, cache),
            osv_index=osv_index_folder(request.settings.cache),  # issue 18
            policy=severity_policy,
        )
        stop_if_cancelled(store, outcome.run, request.cancel, utcnow())
        recorded = tracking.record_run(
            store, outcome.run, utcnow(), sla_policy, suppressions, redactor=outcome.redactor
        )
        introduced = introduced_times(Path(outcome.run.target), recorded.new)
        if introduced:
            store.set_introduced(name, introduced)
        # -- after the run is recorded: alerts are queued here (paging) --
        mark = run_delivery.alerts_mark(store) if delivers else 0  # issue 13: later alerts are this run's
        if paging:
            notify_events.on_run(store, outcome.run, recorded, request.settings, utcnow())  # issue 6
        scan = with_lifecycle(outcome.run, recorded)
        outcome = dataclasses.replace(outcome, run=scan)
        absent = [_as_finding(t, FindingState.FIXED) for t in recorded.absent]
        began = time.perf_counter()
        sarif = scrub(build_sarif(scan, outcome.policy, recorded.baseline, absent), outcome.redactor)
        if request.sarif_path is not None:
            FileSink(request.sarif_path).deliver(outcome.run, sarif)
        log.info("SARIF built and written in %.2f s", time.perf_counter() - began)
        # -- after the SARIF is written: uploads are queued here, then both outboxes delivered --
        # (issues 5, 6; issue 13: a one-shot run retries them within delivery_wait, then names
        # what did not go out; the daemon delivers the rest on its schedule)
        undelivered: tuple[Undelivered, ...] = ()
        if delivers:
            undelivered = run_delivery.deliver_run(
                store, outcome.run, sarif, request.settings, upload=request.upload, notify=request.notify,
                alerts_after=mark, wait=request.delivery_wait,
            )  # fmt: skip
    document = scrub(json_document(outcome.run, request.sarif_path), outcome.redactor)
    document["cache"] = dataclasses.asdict(outcome.cache)  # issue 7: {enabled, hits, misses}
    document["undelivered"] = [u.document() for u in undelivered]  # issue 13
    threshold, gate = fail_threshold(request.settings), None
    new: Collection[str] | None = None
    if request.new_only:  # issue 19: only what is new since the baseline's last complete run
        if known is None:
            new = {fp for fp, state in recorded.baseline.items() if state is BaselineState.NEW}
        else:
            new = {f.fingerprint for f in outcome.run.findings} - known
        gate = NewFindingsGate(baseline, threshold, tuple(gating(outcome.run, threshold, new)))
    code = exit_code_for(outcome.run, threshold, new)
    if undelivered:  # issue 13: an upload or page lost with the database must not look like success
        code = ExitCode.SCANNER_FAILED
    return RunResult(
        outcome=outcome, sarif_path=request.sarif_path, document=document, exit_code=code,
        undelivered=undelivered, sarif=sarif, gate=gate,
    )  # fmt: skip
