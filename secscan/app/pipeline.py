"""One scan of one target: inventory -> scanners (concurrently) -> redaction -> identity.

``run_scan`` composes the seams and returns a :class:`ScanOutcome`; it prints nothing and
exits nothing. Failures of single scanners are recorded on their results, never raised;
only a bad target or configuration raises (a :class:`~secscan.core.errors.SecscanError`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secscan.app.coverage import coverage_map, scanner_views
from secscan.app.kinds import run_kinds
from secscan.config.policy import load_policy
from secscan.config.settings import (
    BanditConfig,
    DetectSecretsConfig,
    GitHistoryConfig,
    LockfileAuditConfig,
    PipAuditConfig,
    PostureConfig,
    ScannerConfig,
    Settings,
)
from secscan.core.errors import InputError
from secscan.core.identity import assign_identities
from secscan.core.model import Notification, Rule, RunId, ScannerResult, ScannerStatus, ScanRun, new_run_id
from secscan.core.policy import SeverityPolicy
from secscan.core.redact import Redactor, SecretFilter
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


def _options(
    config: ScannerConfig,
    advisory_lookup: Callable[[str], Any] | None,
    settings: Settings,
    osv_db: Path | None,
    osv_index: Path | None = None,
) -> dict[str, object]:
    if isinstance(config, LockfileAuditConfig):
        database = settings.osv_db("lockfile-audit", osv_db)
        options: dict[str, object] = {"max_file_size": settings.scan.max_file_size}
        options |= {"osv_index": osv_index} if osv_index is not None else {}
        return options | ({"osv_db": database} if database is not None else {})
    if isinstance(config, GitHistoryConfig):
        return {
            "detect_secrets_args": tree.args if (tree := settings.scanners.get("detect-secrets")) else (),
            "all_branches": config.all_branches,
            "max_commits": config.max_commits,
            "since": config.since,
            "max_commit_bytes": config.max_commit_bytes,
            "processes": config.processes,
            "timeout_s": config.timeout,
            "max_file_bytes": settings.scan.max_file_size,
            "excludes": (*settings.scan.excludes, *config.exclude),
        }
    if isinstance(config, PostureConfig):
        return {"binary_paths": config.binary_paths, "disable": config.disable}
    if isinstance(config, BanditConfig):
        return {"shards": config.shards} if config.shards else {}
    if isinstance(config, DetectSecretsConfig):
        return {"processes": config.processes} if config.processes else {}
    if isinstance(config, PipAuditConfig):
        options = {}
        if config.requirements is not None:
            options["requirements"] = config.requirements
        if advisory_lookup is not None:
            options["advisory_lookup"] = advisory_lookup
        return options
    return config.scanner_options()


def _audit_source(
    config: ScannerConfig, settings: Settings, osv_db: Path | None
) -> tuple[Path | None, str | None] | None:
    """A dependency scanner's vulnerability source (offline database, online service URL) for the cache."""
    if isinstance(config, LockfileAuditConfig):
        return (settings.osv_db("lockfile-audit", osv_db), None)
    if not isinstance(config, PipAuditConfig):
        return None
    return (osv_db or config.osv_db, config.osv_url)


def _check_databases(
    selected: Sequence[tuple[Scanner, ScannerConfig]], settings: Settings, osv_db: Path | None
) -> None:
    """Refuse a configured OSV database that does not exist, before any scanner starts."""
    for _, config in selected:
        if isinstance(config, LockfileAuditConfig):
            database = settings.osv_db("lockfile-audit", osv_db)
            if database is not None and not database.exists():
                raise InputError(
                    f"OSV database {database} does not exist; "
                    "check --osv-db or [scanners.lockfile-audit] osv_db"
                )


@contextlib.contextmanager
def _vulnerability_service(
    selected: Sequence[tuple[Scanner, ScannerConfig]],
    osv_db: Path | None,
    lazy: bool = False,
    osv_index: Path | None = None,
) -> Iterator[tuple[str | None, Callable[[str], Any] | None, Callable[[], object] | None]]:
    """Serve the offline OSV database on loopback while pip-audit runs (if configured).

    Yields the query URL, the record lookup, and (``lazy``: with the result cache, which may
    answer for every pin) instead of the URL the function that starts opening and serving the
    database and returns the URL (pip-audit's ``options["osv_service"]``); otherwise it opens at
    once, while the scanners start. A run whose every pin is cached binds no port (issue 18).
    The database is its compiled index in ``osv_index`` (None: loaded into memory).
    """
    config = next((c for s, c in selected if isinstance(c, PipAuditConfig)), None)
    if config is None:
        yield None, None, None
        return
    db_path = osv_db or config.osv_db
    if db_path is None:
        yield config.osv_url, None, None
        return
    from secscan.scanners.cache.audit import LazyDatabase
    from secscan.scanners.osv.service import OsvService

    db = LazyDatabase(db_path, osv_index)
    service = OsvService(db)
    try:
        yield (None if lazy else service.url()), db.get, (service.url if lazy else None)
    finally:
        service.close()
        db.close()
    db.wait()  # a broken database is an input error, even if pip-audit only saw a 500


def _with_deleted(
    result: ScannerResult, root: Path, tracked: Collection[str], excludes: Sequence[str], skips: Skips
) -> ScannerResult:
    """Count deleted files as covered by a scanner that finished ok and would have scanned them.

    A deleted file is never in a scanner's file list, so without this its findings could never
    be closed. Paths the scanner would not have seen (excluded globally or for this scanner)
    stay outside its scope: excluding a folder must not look like fixing it. secscan's own
    files are not part of the target: findings once reported in them are closed. A result that
    closes nothing (git-history with part of the history unread) is left as it is.
    """
    if result.status is not ScannerStatus.OK or result.closes_nothing:
        return result
    deleted = {
        p
        for p in tracked
        if p not in result.scope
        and (
            skips.is_output(p)
            or (not is_excluded(p, excludes) and not (root / p).exists() and not (root / p).is_symlink())
        )
    }
    return dataclasses.replace(result, scope=result.scope | deleted) if deleted else result


@contextlib.contextmanager
def redacting_logs(redactor: Redactor) -> Iterator[None]:
    """Redact the redactor's values from every record the root logger's handlers emit.

    Filters go on handlers: a filter on a logger would miss records of its child loggers.
    """
    secret_filter = SecretFilter(redactor)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(secret_filter)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(secret_filter)


def _redact_result(result: ScannerResult, r: Redactor) -> ScannerResult:
    """``result`` with its free texts redacted; an object whose texts are unchanged is kept as it is
    (copying every finding and rule of a cached re-run cost more than redacting them)."""
    findings = tuple(
        f if (message := r.text(f.message)) == f.message else dataclasses.replace(f, message=message)
        for f in result.findings
    )
    rules = tuple(_redact_rule(rule, r) for rule in result.rules)
    notifications = tuple(
        n if (message := r.text(n.message)) == n.message else dataclasses.replace(n, message=message)
        for n in result.notifications
    )
    return dataclasses.replace(
        result,
        findings=findings,
        rules=rules,
        notifications=notifications,
        reason=r.text(result.reason) if result.reason else None,
    )


def _redact_rule(rule: Rule, r: Redactor) -> Rule:
    short, full, help_text = (r.rule_text(rule.short_description), r.rule_text(rule.full_description),
                              r.rule_text(rule.help_text))  # fmt: skip
    if (short, full, help_text) == (rule.short_description, rule.full_description, rule.help_text):
        return rule
    return dataclasses.replace(rule, short_description=short, full_description=full, help_text=help_text)


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
    """
    root = check_target(target)
    name = target_name or root.name
    policy = load_policy(settings.policy.severity)
    selected = select_scanners(settings, only)
    for scanner, _ in selected:
        if isinstance(scanner, SemgrepScanner):  # issue 18: its rule packs are parsed once, then kept
            scanner.pack_memo = osv_index
    _check_databases(selected, settings, osv_db)
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
            _vulnerability_service(selected, osv_db, session is not None, osv_index) as (
                osv_url,
                lookup,
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
                    options=_options(config, lookup, settings, osv_db, osv_index),
                )
                if session is not None:  # incremental: only new and changed files are scanned
                    excludes = (*settings.scan.excludes, *config.exclude)
                    source = _audit_source(config, settings, osv_db)
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
            results = run_all(items, on_done=hooks.on_done, cancel=cancel)
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
            _with_deleted(r, root, tracked_paths, (*settings.scan.excludes, *config.exclude), skips)
            for r, (_, config) in zip(results, selected, strict=True)
        ]
        coverage = coverage_map(
            inventory.files,
            inventory.too_large,
            run_kinds(settings, [s for s, _ in selected], osv_index),
            scanner_views(BUILTIN, [s.name for s, _ in selected], results, given, chosen=bool(only)),
            history=in_git_work_tree(root),
        )
        with redacting_logs(redactor):
            results = [_redact_result(r, redactor) for r in results]
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
