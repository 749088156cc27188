"""Cached dependency audits: pip-audit's answer per (package, version, vulnerability source).

The source is the offline OSV database's content hash (worked out on first use, so a run with
nothing to audit never reads the database; recorded by the build of its compiled index, so a
new result cache does not hash the database again), or an online service's address, whose answers are
reused for the configured TTL only. New advisories are therefore seen as soon as the database
changes, or the next night for an online service.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.fs.digest import tree_digest
from secscan.scanners.cache.codec import decode_vulns, encode_vulns
from secscan.scanners.cache.db import ResultCache
from secscan.scanners.cache.keys import audit_key
from secscan.scanners.osv.dataset_path import check_dataset_path
from secscan.scanners.osv.signature import CONTENT_LIMIT, SignatureError, dataset_signature

if TYPE_CHECKING:
    from secscan.scanners.osv.deferred import DeferredDatabase
    from secscan.scanners.osv.records import OsvRecord

log = logging.getLogger(__name__)


class LazyDatabase:
    """The offline OSV database, opened in the background only once something asks for it.

    With every pin's answer in the cache, nothing does, and the run neither opens its compiled
    index nor (when the dataset changed) compiles it. ``index_folder``: where the compiled
    indexes live (None: load the dataset into memory, as without an index).
    """

    def __init__(self, path: Path, index_folder: Path | None = None) -> None:
        check_dataset_path(path, "--osv-db or [scanners.pip-audit] osv_db")  # before any scanner starts
        self._path = path
        self._index_folder = index_folder
        self._db: DeferredDatabase | None = None
        self._lock = threading.Lock()

    def start(self) -> DeferredDatabase:
        from secscan.scanners.osv.deferred import (
            DeferredDatabase,  # SQLite, PyYAML, the loaders: only when used
        )

        with self._lock:
            if self._db is None:
                self._db = DeferredDatabase(self._path, self._index_folder)
            return self._db

    @property
    def started(self) -> bool:
        return self._db is not None

    def get(self, vuln_id: str) -> OsvRecord | None:
        return self.start().get(vuln_id)

    def query(self, name: str, version: str | None, ecosystem: str = "PyPI") -> list[OsvRecord]:
        return self.start().query(name, version, ecosystem)

    def advisories(self, ecosystem: str) -> int:
        """How many advisories the database holds for ``ecosystem`` (opens it)."""
        return self.start().wait().advisories(ecosystem)

    def wait(self) -> None:
        """Raise the open's error, if it was opened and that failed."""
        if self._db is not None:
            self._db.wait()

    def close(self) -> None:
        """Release the compiled index, if one was opened."""
        if self._db is not None:
            self._db.close()


def source_of(
    database: Path | None, url: str | None, cache: ResultCache, index_folder: Path | None = None
) -> tuple[Callable[[], str | None], bool]:
    """How to name the vulnerability source lazily, and whether it is online (TTL-bound).

    The offline database's content hash is remembered with its signature (every entry's inode,
    size, ``mtime`` and ``ctime``: :func:`~secscan.scanners.osv.signature.dataset_signature`), so an
    unchanged database is not read again, and a changed one always is, even when the change kept
    the old sizes and dates; a database changed in the last seconds is hashed and not remembered.
    Where the result cache does not remember it yet, the hash the build of the dataset's compiled
    index in ``index_folder`` recorded for that signature is taken
    (:func:`~secscan.scanners.osv.index_store.recorded_content`: the same hash, not read again).
    """
    if database is not None:
        path = database

        def offline() -> str | None:
            name = f"osv-db:{path.resolve()}"
            try:
                found = dataset_signature(path)
            except SignatureError:
                found = None
            signature = bytes.fromhex(found.digest) if found is not None and found.settled else None
            remembered = cache.memo_get(name, signature) if signature else None
            if remembered is not None:
                return f"osv-db:{remembered}"
            digest = None
            if found is not None and signature and index_folder is not None:
                from secscan.scanners.osv.index_stamp import recorded_content  # only when not remembered

                digest = recorded_content(found, index_folder)
            if digest is None:
                digest = tree_digest(path, CONTENT_LIMIT)
            if digest and signature:
                cache.memo_put(name, signature, digest)
            return f"osv-db:{digest}" if digest else None

        return offline, False
    return (lambda: f"online:{url or 'pip-audit default service'}"), True


class AuditEntries:
    """pip-audit's ``AuditCache`` over the result cache, for one run (thread-safe)."""

    def __init__(
        self,
        cache: ResultCache,
        scanner: bytes,
        source: Callable[[], str | None],
        now: int,
        max_age_s: int | None,
        on_miss: Callable[[], object] | None = None,
    ) -> None:
        self._cache = cache
        self._scanner = scanner
        self._source_fn = source
        self._source: str | None = None
        self._resolved = False
        self._now = now
        self._max_age_s = max_age_s
        self._on_miss = on_miss
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str], list[Mapping[str, Any]] | None] = {}
        self.staged: dict[tuple[str, str], list[Mapping[str, Any]]] = {}

    def _key(self, name: str, version: str) -> bytes | None:
        if not self._resolved:
            self._source = self._source_fn()
            self._resolved = True
            if self._source is None:
                log.info("vulnerability database cannot be hashed; dependency audits are not cached")
        return None if self._source is None else audit_key(self._scanner, self._source, name, version)

    def get(self, name: str, version: str) -> Sequence[Mapping[str, Any]] | None:
        with self._lock:
            if (name, version) in self._answers:
                return self._answers[(name, version)]
            key = self._key(name, version)
            answer: list[Mapping[str, Any]] | None = None
            if key is not None:
                value = self._cache.get_many([key], self._now, self._max_age_s).get(key)
                if value is not None:
                    try:
                        answer = decode_vulns(value)
                    except ValueError:
                        self._cache.drop([key])
            self._answers[(name, version)] = answer
        if answer is None and self._on_miss is not None:
            self._on_miss()  # pip-audit will run: start loading what it will query
        return answer

    def put(self, name: str, version: str, vulns: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            self.staged[(name, version)] = list(vulns)

    @property
    def hits(self) -> int:
        return sum(1 for a in self._answers.values() if a is not None)

    @property
    def misses(self) -> int:
        return sum(1 for a in self._answers.values() if a is None)

    def entries(self) -> list[tuple[bytes, bytes]]:
        """The staged answers as cache entries (after the run completed)."""
        out = []
        for (name, version), vulns in self.staged.items():
            key = self._key(name, version)
            if key is not None:
                out.append((key, encode_vulns(vulns)))
        return out
