"""Changesets from the pure core: a run reconciled against a snapshot, a triage decision.

No I/O: every function takes ``now`` and the policies and returns what the store writes
(:mod:`secscan.core.changeset`). The rules of reconciliation are :func:`secscan.core.triage.reconcile`'s;
this module turns its result into the store's changeset: which findings are new (with their SLA
columns), which were only seen again (state and last-seen time), which are rewritten (with or
without new SLA columns), the history entries and the decisions the suppressions file made. It
also runs the re-scan fast path (:mod:`secscan.core.seen_again`) first, so that findings seen again
exactly as stored never become :class:`~secscan.core.records.TrackedFinding` values twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from secscan.core import seen_again
from secscan.core.changeset import (
    BASELINE_SIG,
    INTRODUCED,
    SEVERITIES,
    SLA_STATUS,
    STATES,
    FindingChange,
    Rewrite,
    RunChangeset,
    Snapshot,
    Stored,
    from_ts,
    opt_dt,
    stored_clock,
    tracked_from_row,
)
from secscan.core.decisions import apply_triage, expire_triage
from secscan.core.model import FindingState, ScanRun
from secscan.core.records import (
    BaselineState,
    HistoryEvent,
    RunOutcome,
    RunSummary,
    Suppression,
    TrackedFinding,
    TriageDecision,
    TriageStatus,
)
from secscan.core.sla import SlaPolicy
from secscan.core.sla_upkeep import SlaMemo, finding_sla
from secscan.core.triage import reconcile

_FIXED = FindingState.FIXED
_UNCHANGED = FindingState.UNCHANGED
_TRIAGED_EVENT = HistoryEvent.TRIAGED


@dataclass(frozen=True)
class RunReconciliation:
    """A reconciled run: the ``changeset`` to write, and what the run's outcome reports."""

    changeset: RunChangeset
    new: tuple[TrackedFinding, ...]
    unchanged: tuple[TrackedFinding, ...]
    reopened: tuple[TrackedFinding, ...]
    fixed: tuple[TrackedFinding, ...]
    baseline: Mapping[str, BaselineState] = field(default_factory=dict)
    absent: tuple[TrackedFinding, ...] = ()

    def outcome(self, summary: RunSummary) -> RunOutcome:
        """The :class:`RunOutcome` once the store has written the changeset as ``summary``."""
        return RunOutcome(
            summary, self.new, self.unchanged, self.reopened, self.fixed, self.baseline, self.absent
        )


def _tracked(
    rows: Sequence[Sequence[Any]], target: str, texts: Mapping[Any, str]
) -> tuple[dict[str, TrackedFinding], dict[str, Sequence[Any]]]:
    """The tracked findings of snapshot rows, and the rows, by fingerprint.

    The bulk path of every run that is not only seen again (100k rows for a first run over an
    old target): the values of :func:`~secscan.core.changeset.tracked_from_row`, built in one loop.
    """
    tracked: dict[str, TrackedFinding] = {}
    by_fp: dict[str, Sequence[Any]] = {}
    new, adopt, severities, states = object.__new__, object.__setattr__, SEVERITIES, STATES
    sig_at, introduced_at = BASELINE_SIG, INTRODUCED  # locals: read per row
    for row in rows:
        (fp, tool, rule, path, line, message, severity, state, first, last, fixed, started, paused_at,
         paused_s, t_status) = row[:15]  # fmt: skip
        if type(fp) is bytes:
            fp = fp.hex()
        by_fp[fp] = row
        if t_status is not None:  # rare: most findings are not triaged
            tracked[fp] = tracked_from_row(row, target, texts)
            continue
        t = new(TrackedFinding)
        adopt(t, "__dict__", {
            "fingerprint": fp, "target": target, "tool": texts[tool], "rule_id": texts[rule],
            "path": texts[path], "line": line, "message": texts[message],
            "severity": severities[severity], "state": states[state],
            "first_seen": from_ts(first), "last_seen": from_ts(last),
            "sla": stored_clock(started, paused_at, paused_s),
            "fixed_at": None if fixed is None else from_ts(fixed), "triage": None,
            "baseline_sig": row[sig_at], "introduced_at": opt_dt(row[introduced_at]),
        })  # fmt: skip
        tracked[fp] = t
    return tracked, by_fp


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
    """True if ``a`` and ``b`` have the same SLA columns (so a rewrite may leave them alone)."""
    fixed = _FIXED
    return a.sla == b.sla and a.severity is b.severity and (a.state is fixed) is (b.state is fixed)


def reconcile_run(
    snapshot: Snapshot,
    run: ScanRun,
    now: datetime,
    policy: SlaPolicy,
    suppressions: Sequence[Suppression] | None = None,
) -> RunReconciliation:
    """Reconcile ``run`` with its target's ``snapshot`` at ``now`` (whole seconds, as stored).

    ``suppressions`` is the target's whole suppressions file (``()``: empty or absent), or
    ``None`` when it was not read (its standing decisions are then left alone).
    """
    again = seen_again.split(snapshot.rows, snapshot.texts, run, now, suppressions)
    previous, rows = _tracked(again.rest_rows, run.target_name, snapshot.texts)
    rec = reconcile(previous.values(), again.rest_run, now, policy, suppressions)
    memo = SlaMemo(policy, now)
    seen = rec.baseline  # every fingerprint this run saw has its baseline state
    touched: dict[FindingState, list[Sequence[Any]]] = {}
    rewrites: list[Rewrite] = []
    for t in rec.changed:
        fp = t.fingerprint
        old = previous.get(fp)
        if old is None:  # new: inserted below
            continue
        row, is_seen = rows[fp], fp in seen
        if is_seen and only_seen_again(old, t):
            touched.setdefault(t.state, []).append(row)
        elif same_sla(old, t):
            rewrites.append(Rewrite(t, None, is_seen, row))
        else:
            rewrites.append(Rewrite(t, memo.columns(t, row[SLA_STATUS]), is_seen, row))
    if again.rows:
        touched.setdefault(_UNCHANGED, []).extend(again.rows)
    decisions: tuple[tuple[str, TriageDecision], ...] = ()
    triaged = [e.fingerprint for e in rec.history if e.event is _TRIAGED_EVENT]
    if triaged:  # by the suppressions file
        changed = {t.fingerprint: t.triage for t in rec.changed}
        decisions = tuple((fp, decision) for fp in triaged if (decision := changed[fp]) is not None)
    unchanged = again.unchanged(rec.unchanged)
    counts = {"new": len(rec.new), "unchanged": len(unchanged), "reopened": len(rec.reopened)}
    counts["fixed"] = len(rec.fixed)
    changeset = RunChangeset(
        run=run,
        now=now,
        counts=counts,
        inserts=rec.new,
        insert_sla=tuple(memo.columns(t, None) for t in rec.new),
        seen_again={state: tuple(found) for state, found in touched.items()},
        rewrites=tuple(rewrites),
        history=rec.history,
        decisions=decisions,
    )
    baseline = again.all_baseline(rec.baseline)
    return RunReconciliation(changeset, rec.new, unchanged, rec.reopened, rec.fixed, baseline, rec.absent)


def triage_change(
    stored: Stored,
    status: TriageStatus,
    reason: str,
    until: datetime | None,
    actor: str,
    now: datetime,
    policy: SlaPolicy,
) -> FindingChange:
    """A manual triage decision on a stored finding: its new value, SLA columns, history entry and
    the decision for the log (``open`` lifts a decision; see :func:`secscan.core.decisions.apply_triage`)."""
    # a decision that ran out (no sweep or run lifted it yet) ends first: its clock resumed at
    # its ``until``, so the time since then is not paused time under the new decision
    current, lifted = expire_triage(stored.finding, now)
    after, entry = apply_triage(current, status, reason, until, actor, now)
    columns = finding_sla(after, policy, now, stored.sla_status)
    return FindingChange(after, columns, (*lifted, entry), TriageDecision(status, reason, actor, now, until))
