"""One run's use of the result cache: the only part of ``secscan.scanners.cache`` the pipeline calls.

``prepare`` looks up a scanner's files before it runs and hands back the scanner to run (a
:class:`~secscan.scanners.cache.wrap.CachedScanner` that only scans the misses, or a tree-local
:class:`~secscan.scanners.cache.tree.TreeScanner` answered by its remembered output) and its job; ``commit``
stores what the run found, once it is over: only for scanners that finished ``ok``, never for
an interrupted run, only for files whose content did not change while they were scanned, and
with free texts passed through the run's redactor. The cache never fails a scan: a file that
cannot be opened or written turns into a warning and a cold run.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan.config.cache import CacheConfig
from secscan.core.model import ScannerResult, ScannerStatus, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.core.redact import Redactor
from secscan.scanners.cache.audit import AuditEntries, source_of
from secscan.scanners.cache.codec import decode_file
from secscan.scanners.cache.db import ResultCache
from secscan.scanners.cache.files import Files, entry_keys
from secscan.scanners.cache.identities import IdentityEntries
from secscan.scanners.cache.keys import policy_digest, scanner_key
from secscan.scanners.cache.paths import osv_index_folder
from secscan.scanners.cache.stamps import FileHashes
from secscan.scanners.cache.state import StateEntry
from secscan.scanners.cache.tree import Tree, TreeScanner
from secscan.scanners.cache.whole import decode_whole, slot_key, whole_digest
from secscan.scanners.cache.wrap import CachedScanner
from secscan.scanners.interface import FileOutput, ScanJob, Scanner, ScanOutput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheUse:
    """How a run used the cache: lookups answered and not (files per scanner, pinned packages)."""

    enabled: bool = False
    hits: int = 0
    misses: int = 0


class CacheSession:
    """The cache for one run. Build it with :meth:`open`."""

    def __init__(self, cache: ResultCache, config: CacheConfig) -> None:
        self._cache = cache
        self._config = config
        self._now = int(time.time())
        self._hashes: dict[tuple[Path, str], bytes | None] = {}
        self._stamps = FileHashes(cache)
        self._files: list[Files] = []
        self._trees: list[Tree] = []
        self._audits: list[tuple[Scanner, AuditEntries]] = []
        self._states: list[tuple[Scanner, StateEntry]] = []
        self._policy: dict[int, str] = {}
        self._sources: dict[str, str | None] = {}

    @classmethod
    def open(cls, path: Path, config: CacheConfig) -> CacheSession | None:
        """The session, or None (with a warning) when the cache file cannot be used."""
        try:
            return cls(ResultCache(path, config.max_bytes), config)
        except (OSError, sqlite3.Error) as exc:
            log.warning("result cache %s cannot be used (%s); this run is a cold run", path, exc)
            return None

    def close(self) -> None:
        self._cache.close()

    def identities(self, scope: str) -> IdentityEntries:
        """The identity memo of the target at ``scope``, in this cache and over the stamps this
        session has read (issue 18): a run opens its result cache and reads its stamps once."""
        return IdentityEntries(self._cache, scope, self._stamps)

    def __enter__(self) -> CacheSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _content(self, root: Path, paths: Sequence[str]) -> dict[str, bytes]:
        todo = [p for p in paths if (root, p) not in self._hashes]
        found = self._stamps.hashes(root, todo)  # unchanged files are not read (issue 18)
        for p in todo:
            self._hashes[(root, p)] = found.get(p)
        return {p: h for p in paths if (h := self._hashes[(root, p)]) is not None}

    def _policy_digest(self, policy: SeverityPolicy) -> str:
        if id(policy) not in self._policy:
            self._policy[id(policy)] = policy_digest(policy)
        return self._policy[id(policy)]

    def prepare(
        self,
        scanner: Scanner,
        job: ScanJob,
        *,
        excludes: Sequence[str],
        audit_source: tuple[Path | None, str | None] | None = None,
        on_audit_miss: Callable[[], object] | None = None,
    ) -> tuple[Scanner, ScanJob]:
        """The scanner and job to run instead of ``scanner`` and ``job`` (see the module docstring)."""
        try:
            version = scanner.version()
        except Exception as exc:  # the runner reports a missing tool; it is simply not cached
            log.debug("%s: no version, not cached: %s", scanner.name, exc)
            return scanner, job
        if scanner.tree_local:
            return self._prepare_tree(scanner, version, job, excludes)
        if scanner.file_local:
            if audit_source is not None:  # file-local results that also depend on a database
                prepared = self._with_database(scanner, job, audit_source[0])
                if prepared is None:
                    return scanner, job
                job = prepared
            return self._prepare_files(scanner, version, job, excludes)
        if scanner.stateful:
            key = scanner_key(scanner, version, job, excludes, "")
            if key is not None:
                entry = StateEntry(self._cache, key, job.root, self._now)
                self._states.append((scanner, entry))
                return scanner, dataclasses.replace(job, options={**job.options, "scanner_state": entry})
            return scanner, job
        if audit_source is not None:
            key = scanner_key(scanner, version, job, (), "")
            if key is not None:
                source, online = source_of(*audit_source, self._cache, osv_index_folder(self._config))
                max_age = int(self._config.online_ttl_hours * 3600) if online else None
                entries = AuditEntries(self._cache, key, source, self._now, max_age, on_audit_miss)
                self._audits.append((scanner, entries))
                return scanner, dataclasses.replace(job, options={**job.options, "audit_cache": entries})
        return scanner, job

    def _with_database(self, scanner: Scanner, job: ScanJob, database: Path | None) -> ScanJob | None:
        """``job`` with the OSV database's identity in ``options["osv_source"]`` (part of the
        scanner's key), or None when its results are not to be cached: no database, nothing to
        scan (the scanner is skipped, and the database is not even hashed), or a database that
        cannot be hashed."""
        if database is None or not scanner.scannable(job.files):
            return None
        key = str(database)
        if key not in self._sources:
            self._sources[key] = source_of(database, None, self._cache, osv_index_folder(self._config))[0]()
        source = self._sources[key]
        if source is None:
            log.info("%s: the OSV database cannot be hashed; its results are not cached", scanner.name)
            return None
        return dataclasses.replace(job, options={**job.options, "osv_source": source})

    def _prepare_files(
        self, scanner: Scanner, version: str, job: ScanJob, excludes: Sequence[str]
    ) -> tuple[Scanner, ScanJob]:
        scannable = scanner.scannable(job.files)
        if not scannable:  # nothing to look up or store (the scanner skips): no key to compute
            return CachedScanner(scanner, version, {}), job
        key = scanner_key(scanner, version, job, excludes, self._policy_digest(job.policy))
        if key is None:
            return scanner, job
        hashes = self._content(job.root, scannable)
        profiles = {path: scanner.path_profile(job, path) for path in hashes}
        whole = None
        if len(hashes) == len(scannable):  # every file can have an entry: so can their merge
            whole = (slot_key(key, job.root), whole_digest(key, hashes, profiles))
            output = self._whole(scanner, whole, lambda: entry_keys(key, hashes, profiles).values())
            if output is not None:
                wrapper = CachedScanner(scanner, version, {}, output)
                run_job = dataclasses.replace(job, files=tuple(f for f in job.files if f not in hashes))
                self._files.append(Files(wrapper, run_job, key, hashes, len(hashes), 0, None))
                return wrapper, run_job
        wanted = entry_keys(key, hashes, profiles)
        values = self._cache.get_many([k for ks in wanted.values() for k in ks], self._now)
        hits: dict[str, FileOutput] = {}
        damaged: list[bytes] = []
        for path, keys in wanted.items():
            for k in keys:
                if k not in values:
                    continue
                try:
                    hits[path] = decode_file(values[k], ToolName(scanner.name), path)
                    break
                except ValueError as exc:
                    log.warning("%s: ignoring a damaged cache entry for %s (%s)", scanner.name, path, exc)
                    damaged.append(k)
        self._cache.drop(damaged)
        wrapper = CachedScanner(scanner, version, hits)
        run_job = dataclasses.replace(job, files=tuple(f for f in job.files if f not in hits))
        misses = len(scannable) - len(hits)
        self._files.append(Files(wrapper, run_job, key, hashes, len(hits), misses, whole))
        return wrapper, run_job

    def _prepare_tree(
        self, scanner: Scanner, version: str, job: ScanJob, excludes: Sequence[str]
    ) -> tuple[Scanner, ScanJob]:
        """A tree-local scanner answered by its remembered output, or wrapped so that its fresh
        output can be remembered (see secscan.scanners.cache.tree). A tree with a file that
        cannot be hashed is neither answered nor remembered."""
        scannable = scanner.scannable(job.files)
        if not scannable:
            return scanner, job
        key = scanner_key(scanner, version, job, excludes, self._policy_digest(job.policy))
        if key is None:
            return scanner, job
        hashes = self._content(job.root, scannable)
        if len(hashes) != len(scannable):
            return scanner, job
        whole = (slot_key(key, job.root), whole_digest(key, hashes, dict.fromkeys(hashes)))
        wrapper = TreeScanner(scanner, version, self._whole(scanner, whole, lambda: ()))
        self._trees.append(Tree(wrapper, job.root, hashes, *whole))
        return wrapper, job

    def _whole(
        self, scanner: Scanner, whole: tuple[bytes, bytes], members: Callable[[], Iterable[list[bytes]]]
    ) -> ScanOutput | None:
        """The remembered merged output of ``scanner``'s files (see secscan.scanners.cache.whole);
        ``members``: each file's entry keys, which it stands for."""
        slot, digest = whole
        value = self._cache.get_many(
            [slot], self._now, touch_with=lambda: [k for ks in members() for k in ks]
        ).get(slot)
        if value is None:
            return None
        try:
            return decode_whole(value, digest, ToolName(scanner.name))
        except ValueError as exc:
            log.warning("%s: ignoring a damaged remembered output (%s)", scanner.name, exc)
            self._cache.drop([slot])
            return None

    @property
    def usage(self) -> CacheUse:
        hits = sum(f.hits for f in self._files) + sum(a.hits for _, a in self._audits)
        misses = sum(f.misses for f in self._files) + sum(a.misses for _, a in self._audits)
        hits += sum(len(t.hashes) for t in self._trees if t.wrapper.remembered is not None)
        misses += sum(len(t.hashes) for t in self._trees if t.wrapper.remembered is None)
        hits += sum(s.hits for _, s in self._states)
        misses += sum(s.misses for _, s in self._states)
        return CacheUse(enabled=True, hits=hits, misses=misses)

    def commit(
        self, finished: Sequence[tuple[Scanner, ScannerResult]], redactor: Redactor, interrupted: bool
    ) -> None:
        """Store the fresh results of the scanners that finished ``ok`` (nothing if interrupted)."""
        usage = self.usage
        self._cache.count(usage.hits, usage.misses)
        ok = {id(s) for s, r in finished if r.status is ScannerStatus.OK}
        entries: list[tuple[bytes, bytes]] = []
        if not interrupted:  # before the stamps are saved: a file read again here is stamped again
            trees = [t for t in self._trees if id(t.wrapper) in ok]
            entries += [e for t in trees for e in t.entries(self._stamps, redactor)]
        self._stamps.save()  # what the files' stamps say holds whatever the scanners did
        if interrupted:
            log.info("run interrupted: nothing is added to the result cache")
            return
        for files in self._files:
            if id(files.wrapper) in ok:
                entries += files.entries(redactor)
        for scanner, audit in self._audits:
            if id(scanner) in ok:
                entries += audit.entries()
        for scanner, state in self._states:
            if id(scanner) in ok:
                entries += state.entries()
        self._cache.put_many(entries, self._now)
