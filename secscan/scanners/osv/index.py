"""The compiled OSV index: an SQLite file answering :class:`~secscan.scanners.osv.database.OsvDatabase`'s
queries without loading the dataset.

:mod:`secscan.scanners.osv.compile` writes it once per dataset signature;
:mod:`secscan.scanners.osv.index_store`
decides when it is fresh and whole. Each record is stored once as compact JSON (the decoded
record, so answers are the records a direct load gives, key order included), with its rows in
``packages`` (by :func:`~secscan.scanners.osv.matching.package_key`) and ``aliases``. A query reads the
records of one package and compiles them on first use, exactly as ``OsvDatabase`` does, so both
give the same answers (tests compare them over every fixture). Text keys are stored as UTF-8
BLOBs (lone surrogates kept): SQLite orders BLOBs bytewise, which is code point order, Python's.

An open index is read-only (``mode=ro&immutable=1``: no locks, no journal) and safe to query
from several threads. A damaged file that slips past the checks at open raises
:class:`IndexDamagedError` from the query that meets it: never a wrong or empty answer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.core.errors import SecscanError
from secscan.scanners.osv.index_stamp import FORMAT
from secscan.scanners.osv.matching import (
    PYPI,
    CompiledRecord,
    Match,
    compile_record,
    match_records,
    package_key,
)
from secscan.scanners.osv.versions import Schemes

if TYPE_CHECKING:
    from secscan.scanners.osv.records import OsvRecord  # PyYAML: only to read a dataset

APPLICATION_ID = 0x53534F58  # "SSOX": a secscan OSV index (the SQLite header's application_id)

SCHEMA = f"""
PRAGMA page_size = 16384;
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {FORMAT};
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (rowid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, modified BLOB NOT NULL,
                      body BLOB NOT NULL);
CREATE TABLE packages (ecosystem BLOB, name BLOB, record INTEGER,
                       PRIMARY KEY (ecosystem, name, record)) WITHOUT ROWID;
CREATE TABLE aliases (alias BLOB, id BLOB, PRIMARY KEY (alias, id)) WITHOUT ROWID;
"""


class IndexDamagedError(SecscanError):
    """The index file is not a whole index of this format (it is rebuilt by the next open)."""


def text_key(text: str) -> bytes:
    """A text as stored in a key column."""
    return text.encode("utf-8", "surrogatepass")


class CompiledIndex:
    """A compiled index opened read-only: :meth:`get`, :meth:`query`, :meth:`matches`,
    :meth:`advisories`, like :class:`~secscan.scanners.osv.database.OsvDatabase`.
    Build it with :meth:`open`."""

    def __init__(self, connection: sqlite3.Connection, path: Path, meta: dict[str, Any]) -> None:
        self._db = connection
        self._path = path
        self._meta = meta
        self._ecosystems: dict[str, int] = meta["ecosystems"]
        self._compiled: dict[tuple[str, str], tuple[CompiledRecord, ...]] = {}
        self._schemes = Schemes()
        self._lock = threading.Lock()
        self._closed = False
        self.on_damage: Callable[[], object] | None = None
        """Called when a query finds the file damaged (the store deletes it, so the next open rebuilds)."""
        self.built = False
        """Whether the process compiled this index (rather than finding it ready)."""

    @classmethod
    def open(cls, path: Path) -> CompiledIndex:
        """Open the index file ``path``. Raises IndexDamagedError when it is not a whole index of
        this format (FileNotFoundError when it does not exist)."""
        if not path.is_file():
            raise FileNotFoundError(path)
        uri = f"{path.absolute().as_uri()}?mode=ro&immutable=1"
        try:
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise IndexDamagedError(f"OSV index {path} cannot be opened ({exc})") from None
        try:
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if (application_id, version) != (APPLICATION_ID, FORMAT):
                raise IndexDamagedError(f"OSV index {path} is not a secscan OSV index of format {FORMAT}")
            rows = connection.execute("SELECT key, value FROM meta").fetchall()
            meta = {key: json.loads(value) for key, value in rows}
            if meta.get("format") != FORMAT or not isinstance(meta.get("ecosystems"), dict):
                raise IndexDamagedError(f"OSV index {path} was not completed")
        except (sqlite3.Error, ValueError) as exc:
            connection.close()
            raise IndexDamagedError(f"OSV index {path} is damaged ({exc})") from None
        except IndexDamagedError:
            connection.close()
            raise
        return cls(connection, path, meta)

    def close(self) -> None:
        """Close the file; a later query raises RuntimeError (it says nothing of the file)."""
        with self._lock:
            self._closed = True
            self._db.close()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def signature(self) -> str:
        """The digest of the dataset signature the index was compiled from."""
        return str(self._meta.get("signature", ""))

    @property
    def source(self) -> str:
        """The dataset the index was compiled from."""
        return str(self._meta.get("source", ""))

    @property
    def withdrawn(self) -> int:
        """How many withdrawn records were skipped."""
        return int(self._meta.get("withdrawn", 0))

    def advisories(self, ecosystem: str) -> int:
        """How many (not withdrawn) records read name a package of ``ecosystem``."""
        return self._ecosystems.get(ecosystem, 0)

    def __len__(self) -> int:
        return int(self._meta.get("records", 0))

    def __repr__(self) -> str:
        return f"CompiledIndex(source={self.source!r}, records={len(self)})"

    def _damaged(self, problem: object) -> IndexDamagedError:
        if self.on_damage is not None:
            self.on_damage()
        return IndexDamagedError(f"OSV index {self._path} is damaged ({problem}); the next run rebuilds it")

    def _rows(self, sql: str, parameters: tuple[object, ...]) -> list[Any]:
        with self._lock:
            if self._closed:  # a late query (a server thread after the run): not damage
                raise RuntimeError(f"OSV index {self._path} is closed")
            try:
                return self._db.execute(sql, parameters).fetchall()
            except sqlite3.Error as exc:
                problem = exc
        raise self._damaged(problem)

    def _decode(self, body: bytes) -> OsvRecord:
        try:
            record = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise self._damaged(f"a record is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise self._damaged("a record is not a JSON object")
        return record

    def records(self) -> Iterator[OsvRecord]:
        """Every indexed record, sorted by id."""
        for (body,) in self._rows("SELECT body FROM records ORDER BY id", ()):
            yield self._decode(body)

    def get(self, vuln_id: str) -> OsvRecord | None:
        """The record with this id, else the first record (by id) that lists it as an alias."""
        key = text_key(vuln_id)
        rows = self._rows("SELECT body FROM records WHERE id = ?", (key,))
        if not rows:
            rows = self._rows(
                "SELECT body FROM records WHERE id = (SELECT min(id) FROM aliases WHERE alias = ?)", (key,)
            )
        return self._decode(rows[0][0]) if rows else None

    def _records(self, key: tuple[str, str]) -> list[OsvRecord]:
        """The records naming one package, by id."""
        rows = self._rows(
            "SELECT r.body FROM packages p JOIN records r ON r.rowid = p.record"
            " WHERE p.ecosystem = ? AND p.name = ? ORDER BY r.id",
            (text_key(key[0]), text_key(key[1])),
        )
        return [self._decode(body) for (body,) in rows]

    def _entries(self, key: tuple[str, str]) -> tuple[CompiledRecord, ...]:
        """The compiled records of one package, by id (compiled once, on first use)."""
        entries = self._compiled.get(key)
        if entries is None:
            compiled = tuple(CompiledRecord(r, compile_record(r, self._schemes)) for r in self._records(key))
            with self._lock:
                entries = self._compiled.setdefault(key, compiled)
        return entries

    def query(self, name: str, version: str | None, ecosystem: str = PYPI) -> list[OsvRecord]:
        """Records affecting ``version`` of ``name`` (every record naming the package when None)."""
        key = package_key(ecosystem, name)
        if version is None:
            entries = self._compiled.get(key)
            return [e.record for e in entries] if entries is not None else self._records(key)
        return [match.record for match in match_records(self._entries(key), key, version)]

    def matches(self, ecosystem: str, name: str, version: str) -> list[Match]:
        """The records affecting ``version`` of ``name`` in ``ecosystem``, each with its fixes."""
        key = package_key(ecosystem, name)
        return match_records(self._entries(key), key, version)
