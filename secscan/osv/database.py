"""An in-memory, read-only OSV database: load once, then answer queries from any thread.

Records are indexed by (ecosystem, package name; PEP 503-canonical for PyPI), by id and by
alias. Withdrawn records are skipped at load. :attr:`OsvDatabase.content_hash` identifies the
loaded content (independently of file layout or JSON/YAML encoding) for cache invalidation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secscan.osv.matching import (
    PYPI,
    AffectedPackage,
    QueryVersion,
    VersionParser,
    compile_record,
    package_key,
    package_keys,
)
from secscan.osv.reader import LoadLimits, read_record_files
from secscan.osv.records import OsvRecord, check_record, parse_record

logger = logging.getLogger(__name__)

_HASH_VERSION = b"secscan-osv-db-1\n"


@dataclass(frozen=True)
class _Entry:
    """A record with its compiled ``affected[]`` matchers."""

    record: OsvRecord
    affected: tuple[AffectedPackage, ...]


def _content_hash(records: Iterable[OsvRecord]) -> str:
    digest = hashlib.sha256(_HASH_VERSION)
    for record in records:
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest.update(canonical.encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()


class OsvDatabase:
    """OSV records indexed for :meth:`query` and :meth:`get`. Build it with :meth:`load`.

    Safe to query from several threads. A package's records are compiled into matchers on its
    first query, which keeps loading fast. The records handed out are the loaded objects
    themselves: treat them as read-only.
    """

    def __init__(self, records: Iterable[OsvRecord], *, source: str = "<records>") -> None:
        """Index already-decoded ``records`` (each must pass :func:`check_record`)."""
        chosen: dict[str, OsvRecord] = {}
        withdrawn = 0
        for record in records:
            if record.get("withdrawn") is not None:
                withdrawn += 1
                continue
            record_id = str(record["id"])
            previous = chosen.get(record_id)
            if previous is None or str(record["modified"]) > str(previous["modified"]):
                if previous is not None:
                    logger.debug("%s: record %s appears twice; keeping the newer one", source, record_id)
                chosen[record_id] = record
        self._source = source
        self._withdrawn = withdrawn
        self._by_id = dict(sorted(chosen.items()))
        self._by_alias: dict[str, str] = {}
        by_package: defaultdict[tuple[str, str], list[OsvRecord]] = defaultdict(list)
        for record_id, record in self._by_id.items():
            for alias in record.get("aliases") or ():
                self._by_alias.setdefault(alias, record_id)
            for key in package_keys(record):
                by_package[key].append(record)
        self._by_package = {key: tuple(found) for key, found in by_package.items()}
        self._content_hash = _content_hash(self._by_id.values())
        self._compiled: dict[tuple[str, str], tuple[_Entry, ...]] = {}
        self._parser = VersionParser()
        self._lock = threading.Lock()

    def _entries(self, key: tuple[str, str]) -> tuple[_Entry, ...]:
        """The compiled records of one package (compiled once, on first use)."""
        entries = self._compiled.get(key)
        if entries is None:
            with self._lock:
                entries = self._compiled.get(key)
                if entries is None:
                    entries = tuple(
                        _Entry(record, compile_record(record, self._parser))
                        for record in self._by_package.get(key, ())
                    )
                    self._compiled[key] = entries
        return entries

    @classmethod
    def load(cls, path: Path, limits: LoadLimits | None = None) -> OsvDatabase:
        """Load every record under ``path``: a folder (recursive) or a ``.zip``, JSON or YAML records.

        Raises InputError naming the file when a record is malformed or a size cap is exceeded.
        """
        started = time.perf_counter()
        records = (
            parse_record(raw.where, raw.data) for raw in read_record_files(path, limits or LoadLimits())
        )
        database = cls(records, source=str(path))
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

    @property
    def content_hash(self) -> str:
        """SHA-256 over the indexed records in canonical JSON, sorted by id; stable across loads."""
        return self._content_hash

    @property
    def withdrawn(self) -> int:
        """How many withdrawn records were skipped."""
        return self._withdrawn

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
        wanted = QueryVersion.of(version)
        return [
            entry.record
            for entry in self._entries(key)
            if any((a.ecosystem, a.name) == key and a.affects(wanted) for a in entry.affected)
        ]
