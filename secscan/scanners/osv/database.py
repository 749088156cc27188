"""An in-memory, read-only OSV database: load once, then answer queries from any thread.

Records of any number of ecosystems are indexed by (ecosystem, package name: PEP 503-canonical
for PyPI, as given for npm and the others), by id and by alias. Withdrawn records are skipped at
load. :attr:`OsvDatabase.content_hash` identifies the loaded content (independently of file
layout or JSON/YAML encoding).

The seam: :func:`~secscan.scanners.osv.reader.iter_records` yields decoded records, :class:`OsvDatabase`
indexes them and answers :meth:`~OsvDatabase.query` (the OSV API's view: records) and
:meth:`~OsvDatabase.matches` (a lockfile audit's view: records with the versions that fix
them). :class:`~secscan.scanners.osv.index.CompiledIndex`, the compiled on-disk index, answers the same
methods from an SQLite file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from secscan.scanners.osv.matching import (
    PYPI,
    CompiledRecord,
    Match,
    compile_record,
    match_records,
    package_key,
    package_keys,
)
from secscan.scanners.osv.reader import LoadLimits, iter_records
from secscan.scanners.osv.records import OsvRecord, check_record
from secscan.scanners.osv.versions import Schemes

logger = logging.getLogger(__name__)

_HASH_VERSION = b"secscan-osv-db-1\n"


def _content_hash(records: Iterable[OsvRecord]) -> str:
    digest = hashlib.sha256(_HASH_VERSION)
    for record in records:
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest.update(canonical.encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()


class OsvDatabase:
    """OSV records indexed for :meth:`query`, :meth:`matches` and :meth:`get`. Build it with :meth:`load`.

    Safe to query from several threads. A package's records are compiled into matchers on its
    first query, which keeps loading fast. The records handed out are the loaded objects
    themselves: treat them as read-only.
    """

    def __init__(
        self,
        records: Iterable[OsvRecord],
        *,
        source: str = "<records>",
        packages: Collection[tuple[str, str]] | None = None,
    ) -> None:
        """Index already-decoded ``records`` (each must pass :func:`check_record`).

        ``packages``: keep only the records naming one of these :func:`package_key` keys (a
        lockfile audit needs a few hundred of a database's packages); None keeps every record.
        """
        chosen: dict[str, OsvRecord] = {}
        withdrawn = 0
        ecosystems: Counter[str] = Counter()
        wanted = None if packages is None else frozenset(packages)
        for record in records:
            if record.get("withdrawn") is not None:
                withdrawn += 1
                continue
            keys = package_keys(record)
            ecosystems.update({ecosystem for ecosystem, _ in keys})
            if wanted is not None and wanted.isdisjoint(keys):
                continue
            record_id = str(record["id"])
            previous = chosen.get(record_id)
            if previous is None or str(record["modified"]) > str(previous["modified"]):
                if previous is not None:
                    logger.debug("%s: record %s appears twice; keeping the newer one", source, record_id)
                chosen[record_id] = record
        self._source = source
        self._withdrawn = withdrawn
        self._ecosystems = dict(ecosystems)
        self._by_id = dict(sorted(chosen.items()))
        self._by_alias: dict[str, str] = {}
        by_package: defaultdict[tuple[str, str], list[OsvRecord]] = defaultdict(list)
        for record_id, record in self._by_id.items():
            for alias in record.get("aliases") or ():
                self._by_alias.setdefault(alias, record_id)
            for key in package_keys(record):
                by_package[key].append(record)
        self._by_package = {key: tuple(found) for key, found in by_package.items()}
        self._compiled: dict[tuple[str, str], tuple[CompiledRecord, ...]] = {}
        self._schemes = Schemes()
        self._lock = threading.Lock()

    def _entries(self, key: tuple[str, str]) -> tuple[CompiledRecord, ...]:
        """The compiled records of one package (compiled once, on first use)."""
        entries = self._compiled.get(key)
        if entries is None:
            with self._lock:
                entries = self._compiled.get(key)
                if entries is None:
                    entries = tuple(
                        CompiledRecord(record, compile_record(record, self._schemes))
                        for record in self._by_package.get(key, ())
                    )
                    self._compiled[key] = entries
        return entries

    @classmethod
    def load(
        cls,
        path: Path,
        limits: LoadLimits | None = None,
        *,
        packages: Collection[tuple[str, str]] | None = None,
    ) -> OsvDatabase:
        """Load the records under ``path``: a folder (recursive) or a ``.zip``, JSON or YAML records.

        ``packages`` (see :meth:`__init__`) also lets the loader skip, undecoded, the files that
        cannot name one of their ecosystems. Raises InputError naming the file when a record is
        malformed or a size cap is exceeded.
        """
        started = time.perf_counter()
        ecosystems = None if packages is None else {ecosystem for ecosystem, _ in packages}
        records = iter_records(path, limits or LoadLimits(), ecosystems)
        database = cls(records, source=str(path), packages=packages)
        logger.debug(
            "loaded %d OSV records (%d withdrawn skipped) from %s in %.2fs",
            len(database),
            database.withdrawn,
            path,
            time.perf_counter() - started,
        )
        return database

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], source: str = "<records>") -> OsvDatabase:
        """Index records given in memory (tests, fakes); they are checked like loaded files."""
        return cls(
            (check_record(dict(record), f"{source}[{index}]") for index, record in enumerate(records)),
            source=source,
        )

    @property
    def source(self) -> str:
        """Where the records came from (a path, or a label for in-memory records)."""
        return self._source

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 over the indexed records in canonical JSON, sorted by id; stable across loads."""
        return _content_hash(self._by_id.values())

    @property
    def withdrawn(self) -> int:
        """How many withdrawn records were skipped."""
        return self._withdrawn

    def advisories(self, ecosystem: str) -> int:
        """How many (not withdrawn) records read name a package of ``ecosystem``, kept or not."""
        return self._ecosystems.get(ecosystem, 0)

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        return f"OsvDatabase(source={self._source!r}, records={len(self)})"

    def records(self) -> Iterator[OsvRecord]:
        """Every indexed record, sorted by id."""
        return iter(self._by_id.values())

    def get(self, vuln_id: str) -> OsvRecord | None:
        """The record with this id, else the first record (by id) that lists it as an alias."""
        record = self._by_id.get(vuln_id)
        if record is None and vuln_id in self._by_alias:
            record = self._by_id[self._by_alias[vuln_id]]
        return record

    def query(self, name: str, version: str | None, ecosystem: str = PYPI) -> list[OsvRecord]:
        """Records affecting ``version`` of ``name`` (every record naming the package when None)."""
        key = package_key(ecosystem, name)
        if version is None:
            return list(self._by_package.get(key, ()))
        return [match.record for match in self.matches(ecosystem, name, version)]

    def matches(self, ecosystem: str, name: str, version: str) -> list[Match]:
        """The records affecting ``version`` of ``name`` in ``ecosystem``, each with its fixes."""
        key = package_key(ecosystem, name)
        return match_records(self._entries(key), key, version)
