"""What each scanner of a run is given: its options from the settings, its vulnerability source
for the result cache, and the offline OSV database served on loopback while pip-audit runs
(split from :mod:`secscan.app.pipeline`, which composes them)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
from secscan.scanners.interface import Scanner
from secscan.scanners.osv.dataset_path import check_dataset_path

if TYPE_CHECKING:
    from secscan.scanners.cache.audit import LazyDatabase


def scanner_options(
    config: ScannerConfig,
    database: LazyDatabase | None,
    settings: Settings,
    osv_db: Path | None,
    osv_index: Path | None = None,
) -> dict[str, object]:
    if isinstance(config, LockfileAuditConfig):
        dataset = settings.osv_db("lockfile-audit", osv_db)
        options: dict[str, object] = {"max_file_size": settings.scan.max_file_size}
        options |= {"osv_index": osv_index} if osv_index is not None else {}
        return options | ({"osv_db": dataset} if dataset is not None else {})
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
        if database is not None:  # the offline database: full records, and whether it has PyPI's
            options["advisory_lookup"] = database.get
            options["advisory_count"] = database.advisories
        return options
    return config.scanner_options()


def audit_source(
    config: ScannerConfig, settings: Settings, osv_db: Path | None
) -> tuple[Path | None, str | None] | None:
    """A dependency scanner's vulnerability source (offline database, online service URL) for the cache."""
    if isinstance(config, LockfileAuditConfig):
        return (settings.osv_db("lockfile-audit", osv_db), None)
    if not isinstance(config, PipAuditConfig):
        return None
    return (osv_db or config.osv_db, config.osv_url)


def check_databases(
    selected: Sequence[tuple[Scanner, ScannerConfig]], settings: Settings, osv_db: Path | None
) -> None:
    """Refuse a configured OSV database that does not exist or is neither a folder nor a
    ``.zip`` file, before any scanner starts."""
    for _, config in selected:
        if isinstance(config, LockfileAuditConfig):
            database = settings.osv_db("lockfile-audit", osv_db)
            if database is not None:
                check_dataset_path(database, "--osv-db or [scanners.lockfile-audit] osv_db")
        if isinstance(config, PipAuditConfig) and (database := osv_db or config.osv_db) is not None:
            check_dataset_path(database, "--osv-db or [scanners.pip-audit] osv_db")


@contextlib.contextmanager
def vulnerability_service(
    selected: Sequence[tuple[Scanner, ScannerConfig]],
    osv_db: Path | None,
    lazy: bool = False,
    osv_index: Path | None = None,
) -> Iterator[tuple[str | None, LazyDatabase | None, Callable[[], object] | None]]:
    """Serve the offline OSV database on loopback while pip-audit runs (if configured).

    Yields the query URL, the offline database (its records and counts), and (``lazy``: with the
    result cache, which may answer for every pin) instead of the URL the function that starts
    opening and serving the database and returns the URL (pip-audit's ``options["osv_service"]``);
    otherwise it opens at once, while the scanners start. A run whose every pin is cached binds
    no port (issue 18). The database is its compiled index in ``osv_index`` (None: loaded into
    memory).
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
        yield (None if lazy else service.url()), db, (service.url if lazy else None)
    finally:
        service.close()
        db.close()
    db.wait()  # a broken database is an input error, even if pip-audit only saw a 500


__all__ = ["audit_source", "check_databases", "scanner_options", "vulnerability_service"]
