"""Conversions between the store's rows and the domain dataclasses. Pure mapping, no rules.

Rows travel as plain tuples in a fixed column order (the bulk path runs 100k of them through
``executemany``). Times are whole UNIX seconds (the units of :mod:`secscan.core.changeset`, whose
converters are re-exported here for the store's modules). The derived SLA columns are never
computed here: the pure core hands them over (:mod:`secscan.core.sla_upkeep`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from secscan.core import sla
from secscan.core.changeset import (
    SEVERITIES,
    STATES,
    VALUES,
    SlaColumns,
    from_ts,
    opt_dt,
    opt_ts,
    stored_clock,
    to_ts,
    whole_seconds,
)
from secscan.core.model import Severity
from secscan.core.records import HistoryEntry, TrackedFinding, TriageDecision, TriageStatus, construct
from secscan.fs.names import from_db, to_db

__all__ = [
    "HISTORY_COLUMNS",
    "ID",
    "INTRODUCED",
    "LAST_RUN",
    "READ_COLUMNS",
    "SEVERITIES",
    "SLA_COLUMNS",
    "STATUS",
    "VALUES",
    "WRITE_COLUMNS",
    "finding_from_row",
    "finding_values",
    "from_ts",
    "history_values",
    "opt_dt",
    "opt_ts",
    "policy_from_json",
    "policy_to_json",
    "stored_clock",
    "to_ts",
    "whole_seconds",
]

# The columns written from a TrackedFinding, in this order (SLA columns last).
WRITE_COLUMNS: tuple[str, ...] = (
    "fingerprint", "tool", "rule_id", "path", "line", "message", "severity", "state",
    "first_seen", "last_seen", "fixed_at", "sla_started_at", "sla_paused_at", "sla_paused_s",
    "triage_status", "triage_reason", "triage_actor", "triage_at", "triage_until", "baseline_sig",
    "due_at", "sla_status", "sla_next_at",
)  # fmt: skip
SLA_COLUMNS: tuple[str, ...] = ("due_at", "sla_status", "sla_next_at")
# The columns read into a TrackedFinding, in this order; ``ID``/``STATUS``/``LAST_RUN`` index them.
# ``introduced_at`` is read but never written from a TrackedFinding (``Store.set_introduced`` owns it).
READ_COLUMNS: tuple[str, ...] = (*WRITE_COLUMNS[:20], "id", "sla_status", "last_run_id", "introduced_at")
ID, STATUS, LAST_RUN, INTRODUCED = 20, 21, 22, 23
HISTORY_COLUMNS: tuple[str, ...] = (
    "finding_id",
    "at",
    "event",
    "from_state",
    "to_state",
    "actor",
    "reason",
    "run_id",
)


def policy_to_json(policy: sla.SlaPolicy) -> str:
    """The SLA policy as stored in ``meta`` (to notice a change of policy and to triage with it)."""
    windows = {s.value: None if w is None else w.total_seconds() for s, w in policy.windows.items()}
    data = {"windows": windows, "fraction": policy.due_soon_fraction, "reopen": policy.reopen.value}
    return json.dumps(data, sort_keys=True)


def policy_from_json(text: str) -> sla.SlaPolicy:
    data = json.loads(text)
    windows = {Severity(k): None if v is None else timedelta(seconds=v) for k, v in data["windows"].items()}
    return sla.SlaPolicy(windows, float(data["fraction"]), sla.ReopenPolicy(data["reopen"]))


def finding_from_row(row: Sequence[Any], target: str) -> TrackedFinding:
    """A :class:`TrackedFinding` from a row of ``_bulk.select_findings`` (:data:`READ_COLUMNS`)."""
    (fp, tool, rule, path, line, message, severity, state, first, last, fixed, started, paused_at,
     paused_s, t_status, t_reason, t_actor, t_at, t_until, sig) = row[:20]  # fmt: skip
    if bytes in (type(path), type(message), type(rule), type(tool)):  # joined texts: a BLOB is
        tool, rule, path, message = map(from_db, (tool, rule, path, message))  # not UTF-8 (fsnames)
    triage = None
    if t_status is not None:  # rare: most findings are not triaged
        triage = TriageDecision(
            TriageStatus(t_status), t_reason or "", t_actor or "", from_ts(t_at), opt_dt(t_until)
        )
    return construct(  # the bulk path: every tracked finding of a target, per run
        TrackedFinding,
        fingerprint=fp,
        target=target,
        tool=tool,  # already a ToolName as stored
        rule_id=rule,
        path=path,
        line=line,
        message=message,
        severity=SEVERITIES[severity],
        state=STATES[state],
        first_seen=from_ts(first),
        last_seen=from_ts(last),
        sla=stored_clock(started, paused_at, paused_s),
        fixed_at=opt_dt(fixed),
        triage=triage,
        baseline_sig=sig,
        introduced_at=opt_dt(row[INTRODUCED]),
    )


def finding_values(t: TrackedFinding, sla_columns: SlaColumns | tuple[()] = ()) -> tuple[Any, ...]:
    """The :data:`WRITE_COLUMNS` of ``t`` with the core's ``sla_columns``; without them only the
    first 20 (the SLA columns stay as stored)."""
    triage, clock = t.triage, t.sla
    return (
        t.fingerprint, t.tool, t.rule_id, t.path, t.line, t.message, VALUES[t.severity], VALUES[t.state],
        to_ts(t.first_seen), to_ts(t.last_seen), opt_ts(t.fixed_at), to_ts(clock.started_at),
        opt_ts(clock.paused_at), math.floor(clock.paused.total_seconds()),
        None if triage is None else triage.status.value,
        None if triage is None else triage.reason,
        None if triage is None else triage.actor,
        None if triage is None else to_ts(triage.decided_at),
        None if triage is None else opt_ts(triage.until),
        t.baseline_sig,
        *sla_columns,
    )  # fmt: skip


def history_values(entry: HistoryEntry, finding_id: int, run_pk: int | None) -> tuple[Any, ...]:
    """The :data:`HISTORY_COLUMNS` of ``entry``."""
    before = None if entry.from_state is None else VALUES[entry.from_state]
    return (
        finding_id,
        to_ts(entry.at),
        VALUES[entry.event],
        before,
        VALUES[entry.to_state],
        entry.actor,
        to_db(entry.reason),  # it may quote a path that is not UTF-8 (secscan.fs.names)
        run_pk,
    )
