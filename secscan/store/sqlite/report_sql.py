"""SQL expressions of the report queries: SLA status, due time and trend buckets per finding row.

:func:`secscan.core.sla.status` is evaluated in SQL in integer microseconds. The policy's windows and
due-soon offsets are computed in Python exactly as ``timedelta`` arithmetic does and inlined as
integer literals (a join to a policy table costs more than the rest of a scan); severities and
states are the fixed enum values. Nothing from input is ever formatted into a statement: the
only variables are integers formatted with ``:d``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from secscan.core import sla
from secscan.core.model import FindingState, Severity
from secscan.core.ports.store import OPEN_STATES
from secscan.store.dialect import SQLITE, Dialect

US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SEVERITY_ORDER = tuple(Severity)
STATE_ORDER = tuple(FindingState)
TRIAGE_ORDER = (None, "false-positive", "accepted-risk")
STATUS_ORDER = (
    sla.SlaStatus.NONE,
    sla.SlaStatus.WITHIN,
    sla.SlaStatus.DUE_SOON,
    sla.SlaStatus.BREACHED,
    sla.SlaStatus.MET,
)
OPEN = "('" + "', '".join(sorted(s.value for s in OPEN_STATES)) + "')"
START = "((f.sla_started_at + f.sla_paused_s) * 1000000)"
RANK = "CASE f.severity " + " ".join(f"WHEN '{s.value}' THEN {s.rank:d}" for s in Severity) + " END"


def micros(value: datetime) -> int:
    """``value`` as integer microseconds since the epoch (exact)."""
    return (value - _EPOCH) // US


def from_micros(value: int) -> datetime:
    return _EPOCH + value * US


def _index(column: str, values: tuple[object, ...]) -> str:
    whens = " ".join(f"WHEN '{v}' THEN {i:d}" for i, v in enumerate(values) if v is not None)
    return f"(CASE {column} {whens} ELSE 0 END)"


SEVERITY_INDEX = _index("f.severity", tuple(s.value for s in SEVERITY_ORDER))
STATE_INDEX = _index("f.state", tuple(s.value for s in STATE_ORDER))
TRIAGE_INDEX = _index("f.triage_status", TRIAGE_ORDER)


_FIXED = STATE_ORDER.index(FindingState.FIXED)
_OPEN_INDEXES = ", ".join(str(STATE_ORDER.index(s)) for s in sorted(OPEN_STATES))
IS_OPEN = f"(st IN ({_OPEN_INDEXES}))"
"""Over :meth:`Exprs.rows`: the finding is open."""


@dataclass(frozen=True)
class Exprs:
    """Per-row expressions at one ``now`` under one policy.

    :meth:`rows` computes every input once per finding (a sub-select that SQLite runs as a
    co-routine: it is not flattened, so a window is not re-evaluated in every expression that
    uses it); the other expressions read its columns: ``sev``, ``st`` and ``tr`` (indexes into
    the ``*_ORDER`` tuples), ``fs`` (first seen), ``s0`` (clock start plus pauses), ``pa``
    (pause instant), ``win`` and ``soon`` (microseconds).
    """

    now: int  # microseconds
    window: str  # NULL without a window
    soon: str
    dialect: Dialect = field(default=SQLITE)

    def rows(self, where: str, extra: str = "") -> str:
        return (
            f"SELECT f.id AS id, f.target_id AS tid, {SEVERITY_INDEX} AS sev, {STATE_INDEX} AS st, "
            f"{TRIAGE_INDEX} AS tr, f.first_seen * 1000000 AS fs, {START} AS s0, "
            f"f.sla_paused_at * 1000000 AS pa, {self.window} AS win, {self.soon} AS soon{extra} "
            f"FROM findings f WHERE {where} {self.dialect.no_flatten}"
        )

    @property
    def status(self) -> str:
        """The index in :data:`STATUS_ORDER` of the finding's SLA status at ``now``."""
        at = f"coalesce(pa, {self.now:d})"
        return (
            f"(CASE WHEN win IS NULL THEN 0 WHEN {at} > s0 + win THEN 3 WHEN st = {_FIXED:d} THEN 4 "
            f"WHEN {at} >= s0 + soon THEN 2 ELSE 1 END)"
        )

    def age(self, limits: tuple[timedelta, ...]) -> str:
        """Open findings: the index of their age bucket; others 0."""
        whens = " ".join(f"WHEN {self.now:d} - fs < {lim // US:d} THEN {i:d}" for i, lim in enumerate(limits))
        return f"(CASE WHEN {IS_OPEN} THEN (CASE {whens} ELSE {len(limits):d} END) ELSE 0 END)"

    @property
    def _counted(self) -> str:
        return f"(win IS NOT NULL AND tr != 1 AND fs <= {self.now:d})"

    def counted_from(self, n: int, step: int) -> str:
        """Trend point from which a finding counts for SLA compliance; -1 when it never does."""
        first = self.dialect.greatest("0", f"{n:d} - ({self.now:d} - fs) / {step:d}")
        return f"(CASE WHEN {self._counted} THEN {first} ELSE -1 END)"

    def breached_from(self, n: int, step: int) -> str:
        """Trend point from which a counted finding is breached (current clock); -1: not by now."""
        late = f"({self.now:d} - (s0 + win))"
        first = self.dialect.greatest("0", f"{n:d} - ({late} + {step:d} - 1) / {step:d} + 1")
        return (
            f"(CASE WHEN {self._counted} AND {self.now:d} > s0 + win AND (pa IS NULL OR pa > s0 + win) "
            f"THEN {first} ELSE -1 END)"
        )


def exprs(policy: sla.SlaPolicy, now: datetime, dialect: Dialect = SQLITE) -> Exprs:
    """The expressions of ``policy`` at ``now`` in ``dialect``."""
    windows = {s: policy.window(s) for s in Severity}
    known = [(s, w) for s, w in windows.items() if w is not None]
    if not known:
        return Exprs(micros(now), "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)", dialect)
    window = "(CASE f.severity " + " ".join(f"WHEN '{s.value}' THEN {w // US:d}" for s, w in known) + " END)"
    soon = (
        "(CASE f.severity "
        + " ".join(f"WHEN '{s.value}' THEN {(w * policy.due_soon_fraction) // US:d}" for s, w in known)
        + " END)"
    )
    return Exprs(micros(now), window, soon, dialect)
