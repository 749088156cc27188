"""One scan of one target: inventory -> scanners (concurrently) -> redaction -> identity.

``run_scan`` composes the seams and returns a :class:`ScanOutcome`; it prints nothing and
exits nothing. Failures of single scanners are recorded on their results, never raised;
only a bad target or configuration raises (a :class:`~secscan.core.errors.SecscanError`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from secscan.app.coverage import coverage_map, scanner_views
from secscan.app.kinds import run_kinds
from secscan.app.redaction import redact_result, redacting_logs
from secscan.app.scan_options import audit_source, check_databases, scanner_options, vulnerability_service
from secscan.config.policy import load_policy
from secscan.config.settings import (
    PipAuditConfig,
    Settings,
)
from secscan.core.identity import assign_identities
from secscan.core.model import Notification, RunId, ScannerResult, ScannerStatus, ScanRun, new_run_id
from secscan.core.policy import SeverityPolicy
from secscan.core.redact import Redactor
from secscan.fs.exclusions import Skips, build_skips
from secscan.fs.inventory import Inventory, build_inventory, check_target, is_excluded
from secscan.fs.source_reader import source_reader
from secscan.scanners._audit_cache import audit_cache
from secscan.scanners.cache.identities import IdentityEntries
from secscan.scanners.cache.session import CacheSession, CacheUse
from secscan.scanners.git_history import in_git_work_tree
from secscan.scanners.interface import ScanJob, Scanner
from secscan.scanners.recover import secret_values as _secret_values
from secscan.scanners.registry import BUILTIN, select_scanners
from secscan.scanners.runner import run_all
from secscan.scanners.scratch import run_folder
from secscan.scanners.semgrep import SemgrepScanner

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ScanHooks:
    """Optional observers of a scan (progress display); they must not raise."""

    on_start: Callable[[Sequence[str]], None] | None = None
    on_done: Callable[[ScannerResult], None] | None = None


@dataclass(frozen=True)
class ScanOutcome:
    run: ScanRun
    redactor: Redactor
    policy: SeverityPolicy
    cache: CacheUse = CacheUse()  # noqa: RUF009 - frozen, so one shared default is safe


def _with_deleted(
    result: ScannerResult,
    root: Path,
    tracked: Collection[str],
    excludes: Sequence[str],
    skips: Skips,
    *,
    empty_tree: bool = False,
) -> ScannerResult:
    """Count deleted files as covered by a scanner that finished ok and would have scanned them.

    A deleted file is never in a scanner's file list, so without this its findings could never
    be closed. Paths the scanner would not have seen (excluded globally or for this scanner)
    stay outside its scope: excluding a folder must not look like fixing it. secscan's own
    files are not part of the target: findings once reported in them are closed. A result that
    closes nothing (git-history with part of the history unread) is left as it is.

    A scanner skipped with nothing of its kind left to scan (the last Python file, requirement
    file or lockfile deleted) covers the deleted files too, or their findings would stay open
    forever; unless the whole tree is empty (``empty_tree``): a checkout that is not there is
    not a fix.
    """
    if not result.closes or result.closes_nothing:
        return result
    if result.status is ScannerStatus.SKIPPED and empty_tree:
        return result
    deleted = {
        p
        for p in tracked
        if p not in result.scope
        and (
            skips.is_output(p)
            or (not is_excluded(p, excludes) and _gone(root / p))
        )
    }
    return dataclasses.replace(result, scope=result.scope | deleted) if deleted else result


def _gone(path: Path) -> bool:
    """Whether nothing is at ``path`` (not even a dangling link). A path that cannot be looked
    up (too long for the system, a folder without permission) is not known to be gone."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _with_identities(
    results: Sequence[ScannerResult], root: Path, memo: IdentityEntries | None = None
) -> list[ScannerResult]:
    read = source_reader(root)
    digests = memo.text_digests(read.base, read.in_place) if memo is not None else None
    return [
        dataclasses.replace(r, findings=assign_identities(r.findings, read, memo=memo, digests=digests))
        for r in results
    ]


def run_scan(
    target: Path,
    settings: Settings,
    *,
    only: Sequence[str] = (),
    osv_db: Path | None = None,
    clock: Clock = utcnow,
    hooks: ScanHooks = ScanHooks(),
    cancel: threading.Event | None = None,
    target_name: str | None = None,
    begin: Callable[[RunId, str, str, datetime], None] | None = None,
    tracked_paths: Collection[str] = (),
    cache: Path | None = None,
    outputs: Collection[Path] = (),
    osv_index: Path | None = None,
    policy: SeverityPolicy | None = None,
) -> ScanOutcome:
    """Scan ``target`` with the selected scanners; see the module docstring.

    ``begin(run_id, root, target_name, started_at)`` is called once the run has an id and before
    any scanner starts (the store records the run as running, so a crash leaves a trace).
    ``tracked_paths`` are the files of the target's open findings: the ones deleted since are
    added to the scope of every scanner that finished ok and would have scanned them.
    ``cache`` is the result cache file to use (``None``: a cold run that neither reads nor writes it).
    ``outputs`` are the files this run writes: inside the target they are never scanned
    (:mod:`secscan.fs.exclusions`, which also leaves out what git ignores).
    ``osv_index`` is the folder of compiled data: the OSV indexes and the semgrep rule packs'
    memo (``None``: the OSV database is loaded and the packs are parsed).
    ``policy`` is the severity policy when the caller loaded it already (to refuse a bad policy
    file before it opened anything); ``None`` loads ``settings.policy.severity``.
    """
    root = check_target(target)
    name = target_name or root.name
    policy = policy or load_policy(settings.policy.severity)
    selected = select_scanners(settings, only)
    for scanner, _ in selected:
        if isinstance(scanner, SemgrepScanner):  # issue 18: its rule packs are parsed once, then kept
            scanner.pack_memo = osv_index
    check_databases(selected, settings, osv_db)
    skips, ignored_unknown = build_skips(root, outputs, include_ignored=settings.scan.include_ignored)
    inventory: Inventory = build_inventory(root, settings.scan.excludes, settings.scan.max_file_size, skips)
    started = clock()
    began = time.perf_counter()
    run_id = new_run_id(started)
    if begin is not None:
        begin(run_id, str(root), name, started)
    log.info(
        "scan %s of %s: %d files, scanners %s",
        run_id,
        root,
        len(inventory.files),
        ", ".join(s.name for s, _ in selected),
    )
    session = CacheSession.open(cache, settings.cache) if cache is not None else None
    with contextlib.closing(session) if session else contextlib.nullcontext():  # through the identities
        with (
            vulnerability_service(selected, osv_db, session is not None, osv_index) as (
                osv_url,
                database,
                load,
            ),
            run_folder() as work,  # marked with its owner: a dead run's folder is removed later
        ):
            items: list[tuple[Scanner, ScanJob, float]] = []
            given: list[tuple[str, ...]] = []
            for scanner, config in selected:
                workdir = Path(work) / scanner.name
                workdir.mkdir()
                given.append(inventory.without(config.exclude))
                job = ScanJob(
                    root=root,
                    files=given[-1],
                    workdir=workdir,
                    policy=policy,
                    args=config.args,
                    osv_url=osv_url,
                    options=scanner_options(config, database, settings, osv_db, osv_index),
                )
                if session is not None:  # incremental: only new and changed files are scanned
                    excludes = (*settings.scan.excludes, *config.exclude)
                    source = audit_source(config, settings, osv_db)
                    scanner, job = session.prepare(
                        scanner, job, excludes=excludes, audit_source=source, on_audit_miss=load
                    )
                if (
                    load is not None
                    and isinstance(config, PipAuditConfig)
                    and audit_cache(job.options) is None
                ):
                    load()  # not cached (its key cannot be pinned down): pip-audit will query the server
                if load is not None and isinstance(config, PipAuditConfig):
                    job = dataclasses.replace(job, options={**job.options, "osv_service": load})
                items.append((scanner, job, config.timeout))
            if hooks.on_start:
                hooks.on_start([s.name for s, _ in selected])
            memory_cap = settings.scan.max_memory_mb * 1024 * 1024
            results = run_all(items, on_done=hooks.on_done, cancel=cancel, memory_cap=memory_cap)
            scanned = time.perf_counter()
            values = _secret_values(root, [f for r in results for f in r.findings])
            for (scanner, job, _), result in zip(items, results, strict=True):
                values |= scanner.secret_values(job, result.findings)
            redactor = Redactor(values)
            if session is not None:
                interrupted = cancel is not None and cancel.is_set()
                finished = [(s, r) for (s, _, _), r in zip(items, results, strict=True)]
                session.commit(finished, redactor, interrupted)
                usage = session.usage
        results = [
            _with_deleted(
                r,
                root,
                tracked_paths,
                (*settings.scan.excludes, *config.exclude),
                skips,
                empty_tree=not inventory.files,
            )
            for r, (_, config) in zip(results, selected, strict=True)
        ]
        coverage = coverage_map(
            inventory.files,
            inventory.too_large,
            run_kinds(settings, [s for s, _ in selected], osv_index),
            scanner_views(BUILTIN, [s.name for s, _ in selected], results, given, chosen=bool(only)),
            history=in_git_work_tree(root),
            unreadable=inventory.unreadable,
        )
        with redacting_logs(redactor):
            results = [redact_result(r, redactor) for r in results]
            memo = session.identities(str(root)) if session is not None else None  # issue 18: known answers
            results = _with_identities(results, root, memo)
    log.info(
        "scanners took %.2f s, redaction and identity %.2f s", scanned - began, time.perf_counter() - scanned
    )
    run = ScanRun(
        run_id=run_id,
        target=str(root),
        target_name=name,
        started_at=started,
        finished_at=clock(),
        scanners=tuple(results),
        notifications=tuple(
            Notification(n.level, redactor.text(n.message), n.path, n.line)
            for n in (*inventory.notifications, *skips.notifications(ignored_unknown))
        ),
        coverage=tuple(dataclasses.replace(c, reason=c.reason and redactor.text(c.reason)) for c in coverage),
    )
    return ScanOutcome(run=run, redactor=redactor, policy=policy, cache=usage if session else CacheUse())


__all__ = ["ScanHooks", "ScanOutcome", "run_scan", "utcnow"]
