"""The SQLite implementation of :class:`~secscan.core.ports.store.Store`.

Every method, and every write session (:mod:`secscan.core.ports.sessions`), is one transaction
(``BEGIN IMMEDIATE`` for writes), so a run is stored entirely or not at all. The sessions live in
``_recording`` (a run, a finding edit) and ``_sla`` (SLA upkeep); bulk rows go through ``_bulk``
(``executemany`` with tuples); runs through ``_runs``; conversions through ``_rows``; connections
through ``_db``. The methods of the daemon, uploads, alerts and the report are inherited from
``_sqlite_features``. Nothing here reconciles, triages or evaluates an SLA: the pure core does,
driven by :mod:`secscan.app.tracking`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from secscan.core import sla
from secscan.core.errors import StoreError
from secscan.core.model import RunId, Severity
from secscan.core.ports.outbox import Outbox, OutboxName
from secscan.core.ports.sessions import FindingEdit, RunRecording, SlaUpkeep
from secscan.core.ports.store import FindingQuery, HistoryEntry, RunSummary, Store, TrackedFinding
from secscan.fs.paths import database_file
from secscan.store.dialect import dialect_of
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite import runs as _runs
from secscan.store.sqlite import sla as _sla
from secscan.store.sqlite.db import Connection, Database, create_private, failure_message, scalar
from secscan.store.sqlite.migrate import ensure_schema
from secscan.store.sqlite.outbox import SqliteOutbox
from secscan.store.sqlite.recording import SqliteFindingEdit, SqliteRecording
from secscan.store.sqlite.rows import ID, finding_from_row, to_ts
from secscan.store.sqlite.sla import SqliteSlaUpkeep
from secscan.store.sqlite.sqlite_features import SqliteFeatures
from secscan.store.sqlite.texts import prefix_bounds

logger = logging.getLogger(__name__)

_RANK = "CASE f.severity " + " ".join(f"WHEN '{s.value}' THEN {s.rank}" for s in Severity) + " ELSE -1 END"

def open_store(url_or_path: str | Path | None = None) -> SqliteStore:
    """Open (creating or migrating) the store at a file path or ``sqlite:///`` URL.

    ``None`` means the XDG default (:func:`secscan.fs.paths.default_db_path`).
    Raises StoreError, also for a database newer than this secscan.
    """
    path = database_file(url_or_path)
    create_private(path)
    db = Database(path)
    try:
        revision = ensure_schema(db)
    except BaseException:
        db.close()
        raise
    return SqliteStore(db, revision)


def _ambiguous(ref: str, rows: Sequence[Any]) -> str:
    """What to type when a finding id matches several findings: ``--target`` when they are one
    finding tracked in several targets (a full id), more digits when they are different ones."""
    targets = ", ".join(sorted({str(r[-1]) for r in rows}))
    if len({r[0] for r in rows}) == 1:
        return f"finding id {ref!r} is tracked in several targets ({targets}); give --target NAME"
    hint = "more digits" if len({r[-1] for r in rows}) == 1 else "more digits or --target NAME"
    return f"finding id {ref!r} matches more than one finding (in {targets}); give {hint}"


class SqliteStore(SqliteFeatures, Store):
    """Store over one SQLite file. Build it with :func:`open_store`."""

    def __init__(self, db: Database, revision: str) -> None:
        self._db = db
        self._revision = revision

    @property
    def database(self) -> Database:
        """The connection pool (for tests)."""
        return self._db

    @property
    def schema_revision(self) -> str:
        return self._revision

    @contextmanager
    def _tx(self, write: bool) -> Iterator[Connection]:
        try:
            with self._db.transaction(write) as conn:
                yield conn
        except sqlite3.Error as exc:
            raise StoreError(failure_message(self._db.path, exc)) from exc

    def close(self) -> None:
        self._db.close()

    # -- runs ---------------------------------------------------------------------------------

    def begin_run(self, run_id: RunId, target: str, target_name: str, started_at: datetime) -> None:
        with self._tx(write=True) as conn:
            tid = _runs.ensure_target(conn, target_name, target, to_ts(started_at))
            _runs.upsert_run(conn, run_id, tid, "running", to_ts(started_at), None)

    def mark_interrupted(self, now: datetime) -> tuple[RunId, ...]:
        with self._tx(write=True) as conn:
            return _runs.mark_interrupted(conn, to_ts(now))

    def previous_complete_run(self, target: str) -> RunSummary | None:
        with self._tx(write=False) as conn:
            found = _runs.load_runs(conn, target, 1, complete_only=True)
        return found[0] if found else None

    def runs(self, target: str | None = None, limit: int = 20) -> tuple[RunSummary, ...]:
        with self._tx(write=False) as conn:
            return _runs.load_runs(conn, target, limit, complete_only=False)

    @contextmanager
    def recording(self, target_name: str) -> Iterator[RunRecording]:
        with _bulk.gc_paused(), self._tx(write=True) as conn:
            yield SqliteRecording(conn, target_name)

    def sla_policy(self) -> sla.SlaPolicy | None:
        with self._tx(write=False) as conn:
            return _sla.stored_policy(conn)

    # -- findings -----------------------------------------------------------------------------

    def list_findings(self, query: FindingQuery | None = None) -> tuple[TrackedFinding, ...]:
        query = query or FindingQuery()
        where, params = ["1 = 1"], []
        if query.target is not None:
            where.append("t.name = ?")
            params.append(query.target)
        if query.states:
            states = sorted(s.value for s in query.states)
            where.append(f"f.state IN ({', '.join('?' * len(states))})")
            params += states
        if query.min_severity is not None:
            where.append(f"{_RANK} >= {query.min_severity.rank:d}")
        if query.tool is not None:
            where.append(f"{_bulk.TOOL} = ?")
            params.append(query.tool)
        sql = " AND ".join(where) + f" ORDER BY {_RANK} DESC, f.first_seen, f.fingerprint"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit):d}"
        with self._tx(write=False) as conn:
            return tuple(finding_from_row(r, r[-1]) for r in _bulk.select_findings(conn, sql, tuple(params)))

    def _find(self, conn: Connection, ref: str, target: str | None) -> Any:
        key = ref.strip().lower()
        if len(key) < 4 or any(c not in "0123456789abcdef" for c in key):
            raise StoreError(
                f"finding id {ref!r} must be at least 4 hex digits; copy it from `secscan findings`"
            )
        # 64-hex fingerprints are stored as 32 bytes (a byte range), any other as text
        where = "(f.fingerprint >= ? AND f.fingerprint < ?"
        params: tuple[str | bytes, ...] = (key, key + "\U0010ffff")
        bounds = prefix_bounds(key) if dialect_of(conn).binary_fingerprints else None
        if bounds is not None:
            where, params = where + " OR f.fingerprint BETWEEN ? AND ?", (*params, *bounds)
        where += ")"
        if target is not None:
            where, params = where + " AND t.name = ?", (*params, target)
        found = _bulk.select_findings(conn, where + " LIMIT 2", params)
        if not found:
            raise StoreError(f"no finding with id {ref!r}; list them with `secscan findings`")
        if len(found) > 1:
            raise StoreError(_ambiguous(ref, _bulk.select_findings(conn, where + " LIMIT 6", params)))
        return found[0]

    def get_finding(self, ref: str, target: str | None = None) -> TrackedFinding:
        with self._tx(write=False) as conn:
            row = self._find(conn, ref, target)
        return finding_from_row(row, row[-1])

    def history(self, ref: str, target: str | None = None) -> tuple[HistoryEntry, ...]:
        with self._tx(write=False) as conn:
            row = self._find(conn, ref, target)
            return _runs.load_history(conn, row[ID], row[0])

    @contextmanager
    def edit_finding(self, ref: str, target: str | None = None) -> Iterator[FindingEdit]:
        with self._tx(write=True) as conn:
            row = self._find(conn, ref, target)
            yield SqliteFindingEdit(conn, row, _sla.stored_policy(conn))

    def set_introduced(self, target: str, introduced: Mapping[str, datetime]) -> int:
        if not introduced:
            return 0
        with self._tx(write=True) as conn:
            return self._set_introduced(conn, target, introduced)

    @staticmethod
    def _set_introduced(conn: Connection, target: str, introduced: Mapping[str, datetime]) -> int:
        tid = scalar(conn, "SELECT id FROM targets WHERE name = ?", (target,))
        if tid is None:
            return 0
        encode = dialect_of(conn).encode_fingerprint
        rows = [(to_ts(at), tid, encode(fp)) for fp, at in introduced.items()]
        result = conn.executemany(
            "UPDATE findings SET introduced_at = ? "
            "WHERE target_id = ? AND fingerprint = ? AND introduced_at IS NULL",
            rows,
        )
        return int(result.rowcount)

    @contextmanager
    def sla_upkeep(self, now: datetime) -> Iterator[SlaUpkeep]:
        with _bulk.gc_paused(), self._tx(write=True) as conn:
            yield SqliteSlaUpkeep(conn, to_ts(now))

    def outbox(self, name: OutboxName) -> Outbox:
        return SqliteOutbox(name, self._tx)
