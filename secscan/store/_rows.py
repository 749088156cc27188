"""Conversions between the store's compact rows and the domain dataclasses. Pure.

Rows travel as plain tuples in a fixed column order (the bulk path runs 100k of them through
``executemany``). Times are whole UNIX seconds; a naive datetime is taken as UTC.

The ``sla_status`` column is owned by the SLA sweep: writers keep the stored status and only
schedule the sweep through ``sla_next_at`` (set to ``now`` when the status is due to change),
so every SLA status change is seen, recorded and reported in exactly one place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from secscan import sla
from secscan.fsnames import from_db, to_db
from secscan.model import FindingState, Severity
from secscan.store._texts import decode_fingerprint
from secscan.store.interface import (
    HistoryEntry,
    HistoryEvent,
    TrackedFinding,
    TriageDecision,
    TriageStatus,
    construct,
)

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


# The same few instants (a run's ``now``, its first-seen times) recur across 100k rows: memoised.
@lru_cache(maxsize=4096)
def to_ts(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return math.floor(value.timestamp())


def opt_ts(value: datetime | None) -> int | None:
    return None if value is None else to_ts(value)


@lru_cache(maxsize=4096)
def from_ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def opt_dt(value: int | None) -> datetime | None:
    return None if value is None else from_ts(value)


def whole_seconds(value: datetime) -> datetime:
    """``value`` as the store keeps it: aware UTC, whole seconds."""
    return from_ts(to_ts(value))


def policy_to_json(policy: sla.SlaPolicy) -> str:
    """The SLA policy as stored in ``meta`` (to notice a change of policy and to triage with it)."""
    windows = {s.value: None if w is None else w.total_seconds() for s, w in policy.windows.items()}
    data = {"windows": windows, "fraction": policy.due_soon_fraction, "reopen": policy.reopen.value}
    return json.dumps(data, sort_keys=True)


def policy_from_json(text: str) -> sla.SlaPolicy:
    data = json.loads(text)
    windows = {Severity(k): None if v is None else timedelta(seconds=v) for k, v in data["windows"].items()}
    return sla.SlaPolicy(windows, float(data["fraction"]), sla.ReopenPolicy(data["reopen"]))


SEVERITIES = {s.value: s for s in Severity}
_STATES = {s.value: s for s in FindingState}
_FIXED = FindingState.FIXED
# member -> stored text: a dict look-up is several times cheaper than an Enum's ``.value``
# (these run per finding and per history entry on the bulk paths).
VALUES: dict[StrEnum, str] = {m: m.value for e in (Severity, FindingState, HistoryEvent) for m in e}


@lru_cache(maxsize=4096)
def stored_clock(started: int, paused_at: int | None, paused_s: int) -> sla.SlaClock:
    """A (frozen, shared) clock: most findings of a run share one."""
    return sla.SlaClock(from_ts(started), opt_dt(paused_at), timedelta(seconds=paused_s))


def finding_from_row(
    row: Sequence[Any], target: str, texts: Mapping[int, str] | None = None
) -> TrackedFinding:
    """A :class:`TrackedFinding` from a row whose first columns are :data:`READ_COLUMNS`.

    With ``texts`` the row is in stored form (``_bulk.select_stored``): tool, rule id, path and
    message are ``texts`` ids and the fingerprint may be raw bytes.
    """
    (fp, tool, rule, path, line, message, severity, state, first, last, fixed, started, paused_at,
     paused_s, t_status, t_reason, t_actor, t_at, t_until, sig) = row[:20]  # fmt: skip
    if texts is not None:
        fp = decode_fingerprint(fp)
        tool, rule, path, message = texts[tool], texts[rule], texts[path], texts[message]
    elif bytes in (type(path), type(message), type(rule), type(tool)):  # joined texts: a BLOB is
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
        state=_STATES[state],
        first_seen=from_ts(first),
        last_seen=from_ts(last),
        sla=stored_clock(started, paused_at, paused_s),
        fixed_at=opt_dt(fixed),
        triage=triage,
        baseline_sig=sig,
        introduced_at=opt_dt(row[INTRODUCED]),
    )


def tracked_by_fingerprint(
    rows: Sequence[Sequence[Any]], target: str, texts: Mapping[int, str]
) -> tuple[dict[str, TrackedFinding], dict[str, Sequence[Any]]]:
    """:func:`finding_from_row` over the stored rows of one target (``_bulk.select_stored``).

    Returns the tracked findings and the rows, both by fingerprint. The bulk path of every run
    (100k rows for a large target): the same values as :func:`finding_from_row`, built in one
    loop without a call per row.
    """
    tracked: dict[str, TrackedFinding] = {}
    by_fp: dict[str, Sequence[Any]] = {}
    new, adopt, severities, states = object.__new__, object.__setattr__, SEVERITIES, _STATES
    for row in rows:
        (fp, tool, rule, path, line, message, severity, state, first, last, fixed, started, paused_at,
         paused_s, t_status) = row[:15]  # fmt: skip
        if type(fp) is bytes:
            fp = fp.hex()
        if t_status is not None:  # rare: most findings are not triaged
            tracked[fp] = finding_from_row(row, target, texts)
            by_fp[fp] = row
            continue
        t = new(TrackedFinding)
        adopt(t, "__dict__", {
            "fingerprint": fp, "target": target, "tool": texts[tool], "rule_id": texts[rule],
            "path": texts[path], "line": line, "message": texts[message],
            "severity": severities[severity], "state": states[state],
            "first_seen": from_ts(first), "last_seen": from_ts(last),
            "sla": stored_clock(started, paused_at, paused_s),
            "fixed_at": None if fixed is None else from_ts(fixed), "triage": None,
            "baseline_sig": row[19], "introduced_at": opt_dt(row[INTRODUCED]),
        })  # fmt: skip
        tracked[fp] = t
        by_fp[fp] = row
    return tracked, by_fp


def sla_values(
    t: TrackedFinding, policy: sla.SlaPolicy, now: datetime, stored: str | None
) -> tuple[Any, ...]:
    """``(due_at, sla_status, sla_next_at)`` for ``t``; ``stored`` is the status on disk."""
    return clock_sla_values(t.sla, t.severity, t.state is _FIXED, policy, now, stored)


def clock_sla_values(
    clock: sla.SlaClock,
    severity: Severity,
    fixed: bool,
    policy: sla.SlaPolicy,
    now: datetime,
    stored: str | None,
) -> tuple[Any, ...]:
    """:func:`sla_values` from the three things it depends on (the sweep has no TrackedFinding)."""
    current = sla.status(clock, severity, policy, now, fixed=fixed).value
    nxt = sla.next_change_at(clock, severity, policy, now, fixed=fixed)
    next_at = None if nxt is None else math.ceil(nxt.timestamp())
    status = current if stored is None else stored
    if status != current:
        next_at = to_ts(now)  # the sweep records this change
    return opt_ts(sla.due_at(clock, severity, policy)), status, next_at


class SlaMemo:
    """:func:`sla_values` at one ``now`` under one policy, computed once per distinct clock.

    The findings of one run share a handful of clocks (every new finding starts at ``now``).
    """

    def __init__(self, policy: sla.SlaPolicy, now: datetime) -> None:
        self.policy, self.now = policy, now
        self._cache: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def values(self, t: TrackedFinding, stored: str | None) -> tuple[Any, ...]:
        key = (t.sla, t.severity, t.state is _FIXED, stored)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = sla_values(t, self.policy, self.now, stored)
        return hit


def only_seen_again(old: TrackedFinding, new: TrackedFinding) -> bool:
    """True if ``new`` differs from ``old`` at most by ``last_seen`` and ``state`` (re-ingest)."""
    # Runs per finding of every re-scan: shared values are compared by identity first (a
    # dataclass ``==`` is a Python call), then by value.
    return (
        old.line == new.line
        and old.path == new.path
        and old.message == new.message
        and old.baseline_sig == new.baseline_sig
        and old.severity is new.severity
        and old.rule_id == new.rule_id
        and old.tool == new.tool
        and (old.sla is new.sla or old.sla == new.sla)
        and (old.triage is new.triage or old.triage == new.triage)
        and old.fixed_at == new.fixed_at
        and old.first_seen == new.first_seen
    )


def same_sla(a: TrackedFinding, b: TrackedFinding) -> bool:
    """True if ``a`` and ``b`` have the same SLA columns (so an update may leave them alone)."""
    fixed = _FIXED
    return a.sla == b.sla and a.severity is b.severity and (a.state is fixed) is (b.state is fixed)


def finding_values(
    t: TrackedFinding,
    policy: sla.SlaPolicy | None,
    now: datetime,
    stored: str | None,
    memo: SlaMemo | None = None,
) -> tuple[Any, ...]:
    """The :data:`WRITE_COLUMNS` of ``t``; without a policy only the first 20 (no SLA columns).

    ``memo`` (for ``policy`` at ``now``) shares the SLA work between findings with the same clock.
    """
    triage, clock = t.triage, t.sla
    if policy is None:
        derived: tuple[Any, ...] = ()
    else:
        derived = sla_values(t, policy, now, stored) if memo is None else memo.values(t, stored)
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
        *derived,
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
        to_db(entry.reason),  # it may quote a path that is not UTF-8 (secscan.fsnames)
        run_pk,
    )
