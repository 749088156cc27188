"""The SQLite store's SLA upkeep session: the stored policy, groups of SLA inputs, set-based writes.

The rules (due times, what a status change means, which history entry it makes) are the pure
core's (:mod:`secscan.core.sla_upkeep`); this session reads the findings grouped by what their SLA
columns depend on (:data:`~secscan.core.changeset.SlaInput`: a burst of 170k due findings is a handful
of groups), and writes each group's decision with one statement per distinct value.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from secscan.core import sla
from secscan.core.changeset import FindingChange, Repricing, SlaDecision, SlaInput, Stored
from secscan.core.ports.sessions import SlaUpkeep
from secscan.core.records import SlaChange
from secscan.store.dialect import dialect_of
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite.db import Connection, scalar
from secscan.store.sqlite.recording import write_changes
from secscan.store.sqlite.rows import ID, STATUS, finding_from_row, policy_from_json, policy_to_json

logger = logging.getLogger(__name__)

POLICY_KEY = "sla_policy"


def stored_policy(conn: Connection) -> sla.SlaPolicy | None:
    """The SLA policy the stored due times were computed with."""
    text = scalar(conn, "SELECT value FROM meta WHERE key = ?", (POLICY_KEY,))
    return None if text is None else policy_from_json(str(text))


# Columns 1-6 of both are a finding's SlaInput (reported status, severity, state, clock).
_ALL = (
    "SELECT f.id, s.sla_status, f.severity, f.state, f.sla_started_at, f.sla_paused_at, f.sla_paused_s "
    "FROM findings f LEFT JOIN finding_sla s ON s.finding_id = f.id"
)
# The findings whose status is due to change, found through the covering partial index of
# ``finding_sla`` (due time, stored status), then their finding row by id.
_DUE = (
    "SELECT s.finding_id, s.sla_status, f.severity, f.state, f.sla_started_at, f.sla_paused_at, "
    "f.sla_paused_s, f.fingerprint, f.target_id, f.tool_ref, f.rule_ref, f.path_ref, f.line "
    "FROM finding_sla s JOIN findings f ON f.id = s.finding_id WHERE s.sla_next_at <= ?"
)
_SAVE_POLICY = (
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_HISTORY = (
    "INSERT INTO history (finding_id, at, event, from_state, to_state, actor, reason, run_id) "
    "SELECT value, ?, ?, ?, ?, ?, ?, NULL FROM {rows}"
)


def _grouped(rows: Sequence[Any]) -> dict[SlaInput, list[int]]:
    """The rows' positions by their SlaInput (columns 1-6): a sweep's per-row grouping work."""
    groups: dict[SlaInput, list[int]] = {}
    for at, row in enumerate(rows):
        key: SlaInput = row[1:7]
        group = groups.get(key)
        if group is None:
            group = groups[key] = []
        group.append(at)
    return groups


class SqliteSlaUpkeep(SlaUpkeep):
    """:class:`SlaUpkeep` on an open write transaction, at ``now`` (UNIX seconds)."""

    def __init__(self, conn: Connection, now: int) -> None:
        self._conn, self._now = conn, now
        self._all: tuple[list[Any], dict[SlaInput, list[int]]] = ([], {})
        self._due: tuple[list[Any], dict[SlaInput, list[int]]] = ([], {})
        self._expiring: dict[tuple[str, str], int] = {}

    @property
    def policy(self) -> sla.SlaPolicy | None:
        return stored_policy(self._conn)

    def groups(self) -> Collection[SlaInput]:
        rows = _bulk.read_plain(self._conn, _ALL)
        self._all = rows, _grouped(rows)
        return self._all[1].keys()

    def reprice(self, repricing: Repricing) -> None:
        rows, groups = self._all
        self._all = ([], {})
        if rows:
            logger.info("SLA policy changed: recomputing the due times of %d findings", len(rows))
        updates: dict[tuple[Any, ...], list[int]] = {}
        for key, positions in groups.items():
            updates.setdefault(repricing.columns[key], []).extend(rows[at][0] for at in positions)
        _bulk.set_sla(self._conn, updates, upsert=True)
        self._conn.execute(_SAVE_POLICY, (POLICY_KEY, policy_to_json(repricing.policy)))

    def expiring(self) -> Sequence[Stored]:
        rows = _bulk.select_findings(self._conn, "f.triage_until <= ?", (self._now,))
        stored = [Stored(finding_from_row(row, row[-1]), row[STATUS]) for row in rows]
        keys = [(s.finding.target, s.finding.fingerprint) for s in stored]
        self._expiring = dict(zip(keys, [row[ID] for row in rows], strict=True))
        return stored

    def apply_changes(self, changes: Sequence[FindingChange]) -> None:
        pks = [self._expiring[c.finding.target, c.finding.fingerprint] for c in changes]
        write_changes(self._conn, changes, pks)

    def due(self) -> Collection[SlaInput]:
        rows = _bulk.read_plain(self._conn, _DUE, (self._now,))
        self._due = rows, _grouped(rows)
        return self._due[1].keys()

    def apply_sweep(self, plan: Mapping[SlaInput, SlaDecision]) -> tuple[SlaChange, ...]:
        conn, (rows, groups) = self._conn, self._due
        self._due = ([], {})
        updates: dict[tuple[Any, ...], list[int]] = {}  # columns -> finding ids
        events: dict[tuple[str, str, str, str], list[int]] = {}  # (event, reason, actor, state) -> ids
        for key, positions in groups.items():
            decision = plan[key]
            ids = [rows[at][0] for at in positions]
            updates.setdefault(decision.columns, []).extend(ids)
            if decision.event is not None:
                entry = (decision.event.value, decision.reason, decision.actor, key[2])
                events.setdefault(entry, []).extend(ids)
        texts = _bulk.load_texts(conn, {ref for row in rows for ref in row[9:12]})
        targets = dict(conn.execute("SELECT id, name FROM targets").fetchall())
        # The writes go first; on PostgreSQL the server runs them while the changes are built here.
        with _bulk.pipelined(conn):
            _bulk.set_sla(conn, updates)
            dialect = dialect_of(conn)
            for (event, reason, actor, state), pks in events.items():
                # One set-based statement per kind of change: a burst after downtime is 100k+ entries.
                source, param = dialect.id_rows(sorted(pks))
                values = (self._now, event, state, state, actor, reason, param)
                conn.execute(_HISTORY.format(rows=source), values)
            return tuple(_changes(rows, groups, plan, texts, targets))


def _changes(
    rows: Sequence[Any],
    groups: Mapping[SlaInput, Sequence[int]],
    plan: Mapping[SlaInput, SlaDecision],
    texts: Mapping[int, str],
    targets: Mapping[int, str],
) -> list[SlaChange]:
    """The status changes a sweep reports, in the rows' order (100k+ after downtime)."""
    shared: list[dict[str, Any] | None] = [None] * len(rows)  # each row's SlaChange fields, if any
    for key, positions in groups.items():
        reported = plan[key].change
        if reported is not None:
            transition = reported.__dict__
            for at in positions:
                shared[at] = transition
    changes: list[SlaChange] = []
    new, adopt = object.__new__, object.__setattr__  # construct(SlaChange, ...) inlined: 100k+ of them
    for row, fields in zip(rows, shared, strict=True):
        if fields is None:  # no change reported for this finding
            continue
        fp = row[7]
        change = new(SlaChange)
        adopt(change, "__dict__", {
            **fields, "fingerprint": fp.hex() if type(fp) is bytes else fp, "target": targets[row[8]],
            "tool": texts[row[9]], "rule_id": texts[row[10]], "path": texts[row[11]], "line": row[12],
        })  # fmt: skip
        changes.append(change)
    return changes
