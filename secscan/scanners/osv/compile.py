"""Compile an OSV dataset into an index file (:mod:`secscan.scanners.osv.index`): one pass, streamed.

Each record is read and decoded once (:func:`~secscan.scanners.osv.reader.iter_records`, with the same
caps and errors as a direct load) and written straight to SQLite, so memory stays flat whatever
the dataset's size. The choices a direct load makes are made here the same way: withdrawn
records are skipped and counted, every other record counts for the ecosystems it names, and of
two records with one id the one with the later ``modified`` is kept (the first one on a tie).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secscan.scanners.osv.index import SCHEMA, text_key
from secscan.scanners.osv.index_stamp import FORMAT
from secscan.scanners.osv.matching import package_keys
from secscan.scanners.osv.reader import LoadLimits, iter_records

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Compiled:
    """What a compilation wrote."""

    records: int
    withdrawn: int
    seconds: float


def _aliases(record: Mapping[str, Any]) -> list[str]:
    return list(record.get("aliases") or ())


class _Writer:
    """Inserts records into an open, empty index, replacing an older record of the same id."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._kept: dict[str, tuple[int, str]] = {}  # id -> (rowid, modified)
        self.withdrawn = 0
        self.ecosystems: Counter[str] = Counter()

    def add(self, record: Mapping[str, Any]) -> None:
        if record.get("withdrawn") is not None:
            self.withdrawn += 1
            return
        keys = package_keys(record)
        self.ecosystems.update({ecosystem for ecosystem, _ in keys})
        record_id, modified = str(record["id"]), str(record["modified"])
        body = json.dumps(record, separators=(",", ":")).encode("ascii")  # surrogates escaped
        kept = self._kept.get(record_id)
        if kept is None:
            cursor = self._db.execute(
                "INSERT INTO records (id, modified, body) VALUES (?, ?, ?)",
                (text_key(record_id), text_key(modified), body),
            )
            rowid = int(cursor.lastrowid or 0)
        elif modified > kept[1]:
            logger.debug("record %s appears twice; keeping the newer one", record_id)
            rowid = kept[0]
            self._forget(rowid, record_id)
            self._db.execute(
                "UPDATE records SET modified = ?, body = ? WHERE rowid = ?", (text_key(modified), body, rowid)
            )
        else:
            logger.debug("record %s appears twice; keeping the newer one", record_id)
            return
        self._kept[record_id] = (rowid, modified)
        self._db.executemany(
            "INSERT OR IGNORE INTO packages VALUES (?, ?, ?)",
            [(text_key(ecosystem), text_key(name), rowid) for ecosystem, name in keys],
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO aliases VALUES (?, ?)",
            [(text_key(alias), text_key(record_id)) for alias in _aliases(record)],
        )

    def _forget(self, rowid: int, record_id: str) -> None:
        """Delete the package and alias rows of the record being replaced."""
        (body,) = self._db.execute("SELECT body FROM records WHERE rowid = ?", (rowid,)).fetchone()
        old = json.loads(body)
        self._db.executemany(
            "DELETE FROM packages WHERE ecosystem = ? AND name = ? AND record = ?",
            [(text_key(ecosystem), text_key(name), rowid) for ecosystem, name in package_keys(old)],
        )
        self._db.executemany(
            "DELETE FROM aliases WHERE alias = ? AND id = ?",
            [(text_key(alias), text_key(record_id)) for alias in _aliases(old)],
        )

    @property
    def records(self) -> int:
        return len(self._kept)


def compile_index(dataset: Path, target: Path, signature: str, limits: LoadLimits | None = None) -> Compiled:
    """Write the index of ``dataset`` (a folder or a zip) to the new file ``target``.

    Raises InputError (from the reader) when a record is malformed or a cap is exceeded, and
    sqlite3.Error or OSError when ``target`` cannot be written; ``target`` is then incomplete
    (the caller removes it: a file whose ``meta`` table is not written is never opened).
    """
    started = time.perf_counter()
    db = sqlite3.connect(target, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a new file: a failed build is discarded whole
        db.execute("PRAGMA synchronous = OFF")  # the caller syncs the finished file once
        db.executescript(SCHEMA)
        db.execute("BEGIN")
        writer = _Writer(db)
        for record in iter_records(dataset, limits or LoadLimits()):
            writer.add(record)
        meta = {
            "signature": signature,
            "source": str(dataset),
            "records": writer.records,
            "withdrawn": writer.withdrawn,
            "ecosystems": dict(sorted(writer.ecosystems.items())),
            "format": FORMAT,
        }
        db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
        db.execute("COMMIT")
    finally:
        db.close()
    compiled = Compiled(writer.records, writer.withdrawn, time.perf_counter() - started)
    logger.info(
        "compiled the OSV index of %s: %d records (%d withdrawn skipped) in %.2f s",
        dataset,
        compiled.records,
        compiled.withdrawn,
        compiled.seconds,
    )
    return compiled
