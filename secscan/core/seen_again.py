"""The re-scan fast path of reconciliation: findings seen again exactly as they are stored.

Most findings of a re-scan are seen again with nothing changed. For such a finding
:func:`secscan.core.triage.reconcile` only sets ``state`` to ``unchanged`` and ``last_seen`` to now: no
history entry, no SLA work, the same baseline signature. This module recognises those findings
on the snapshot's rows (:class:`secscan.core.changeset.Snapshot`), before reconciliation, and builds
their tracked values directly; :func:`secscan.core.reconcile.reconcile_run` reconciles the rest as
usual and merges the two (tests check that the outcome and the database are the same as with
reconciliation alone).

A finding takes this path only when nothing else could change it: its fingerprint occurs once
in the run; its row is open (``new``, ``unchanged`` or ``reopened``) with no triage decision; no
suppression entry is in force (with entries, reconciliation decides for every finding); and tool,
rule, path, line, message, severity and, for a complete run, the baseline signature all equal the
stored ones. Pure: no I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any

from secscan.core.changeset import (
    BASELINE_SIG,
    FIRST_SEEN,
    FIXED_AT,
    INTRODUCED,
    LINE,
    MESSAGE,
    PATH,
    PAUSED_AT,
    PAUSED_S,
    RULE,
    SEVERITY,
    STARTED,
    STATE,
    TOOL,
    TRIAGE_STATUS,
    VALUES,
    from_ts,
    opt_dt,
    stored_clock,
)
from secscan.core.model import Finding, FindingState, ScanRun
from secscan.core.records import BaselineState, Suppression, TrackedFinding
from secscan.core.triage import baseline_signature

_OPEN = frozenset(VALUES[s] for s in (FindingState.NEW, FindingState.UNCHANGED, FindingState.REOPENED))
_UNCHANGED = FindingState.UNCHANGED
_NEW_SIG, _SAME_SIG, _OTHER_SIG = BaselineState.NEW, BaselineState.UNCHANGED, BaselineState.UPDATED
_BY_FINGERPRINT = attrgetter("fingerprint")
_FIRST = itemgetter(0)


@dataclass(frozen=True)
class SeenAgain:
    """The split of a run: the findings seen again unchanged, and what is left to reconcile."""

    tracked: tuple[TrackedFinding, ...]  # their values after the run, in fingerprint order
    baseline: Mapping[str, BaselineState]  # their baseline states, in fingerprint order
    rows: tuple[Any, ...]  # their snapshot rows: only state, last_seen and the last run change
    rest_rows: list[Any]  # the snapshot rows left to reconcile
    rest_run: ScanRun  # the run without these findings

    def unchanged(self, reconciled: Sequence[TrackedFinding]) -> tuple[TrackedFinding, ...]:
        """All unchanged findings, in fingerprint order (as reconciliation lists them)."""
        if not reconciled:
            return self.tracked
        return tuple(heapq.merge(self.tracked, reconciled, key=_BY_FINGERPRINT))

    def all_baseline(self, reconciled: Mapping[str, BaselineState]) -> dict[str, BaselineState]:
        """The baseline states of every finding seen, in fingerprint order."""
        if not reconciled:
            return dict(self.baseline)
        return dict(heapq.merge(self.baseline.items(), reconciled.items()))


def _once(run: ScanRun) -> dict[str, Finding]:
    """The run's findings by fingerprint, without those whose fingerprint occurs twice."""
    by_fp: dict[str, Finding] = {}
    twice: set[str] = set()
    for f in run.findings:
        if f.fingerprint in by_fp:
            twice.add(f.fingerprint)
        by_fp[f.fingerprint] = f
    for fp in twice:
        del by_fp[fp]
    return by_fp


def split(
    stored: Sequence[Sequence[Any]],
    texts: Mapping[Any, str],
    run: ScanRun,
    now: datetime,
    suppressions: Sequence[Suppression] | None,
) -> SeenAgain:
    """Split a :class:`~secscan.core.changeset.Snapshot`'s rows and ``run`` (see module doc)."""
    if suppressions:
        return SeenAgain((), {}, (), list(stored), run)
    findings = _once(run)
    complete, target = run.complete, run.target_name
    severity_text = VALUES
    new, adopt = object.__new__, object.__setattr__
    tracked: list[tuple[str, TrackedFinding, BaselineState, Any]] = []
    rest: list[Any] = []
    # the column positions as locals: read 12 times per row of 100k
    (tool_at, rule_at, path_at, line_at, message_at, severity_at, state_at, first_at, fixed_at,
     started_at, paused_at, paused_s_at, triage_at, sig_at, introduced_at) = (
        TOOL, RULE, PATH, LINE, MESSAGE, SEVERITY, STATE, FIRST_SEEN, FIXED_AT, STARTED, PAUSED_AT,
        PAUSED_S, TRIAGE_STATUS, BASELINE_SIG, INTRODUCED,
    )  # fmt: skip
    for row in stored:
        fp = row[0]  # changeset.FP
        if type(fp) is bytes:
            fp = fp.hex()
        f = findings.get(fp)
        if f is None or row[state_at] not in _OPEN or row[triage_at] is not None:
            rest.append(row)
            continue
        loc = f.location
        if (
            row[line_at] != loc.start_line
            or row[severity_at] != severity_text[f.severity]
            or texts[row[path_at]] != loc.path
            or texts[row[message_at]] != f.message
            or texts[row[rule_at]] != f.rule_id
            or texts[row[tool_at]] != f.tool
        ):
            rest.append(row)
            continue
        kept, sig = row[sig_at], baseline_signature(f)
        if complete and kept != sig:
            rest.append(row)
            continue
        t = new(TrackedFinding)
        adopt(t, "__dict__", {
            "fingerprint": fp, "target": target, "tool": f.tool, "rule_id": f.rule_id,
            "path": loc.path, "line": loc.start_line, "message": f.message, "severity": f.severity,
            "state": _UNCHANGED, "first_seen": from_ts(row[first_at]), "last_seen": now,
            "sla": stored_clock(row[started_at], row[paused_at], row[paused_s_at]),
            "fixed_at": opt_dt(row[fixed_at]), "triage": None, "baseline_sig": kept,
            "introduced_at": opt_dt(row[introduced_at]),
        })  # fmt: skip
        state = _NEW_SIG if kept is None else _SAME_SIG if kept == sig else _OTHER_SIG
        tracked.append((fp, t, state, row))
    if not tracked:
        return SeenAgain((), {}, (), rest, run)
    tracked.sort(key=_FIRST)  # fingerprints are unique
    baseline = {fp: state for fp, _, state, _ in tracked}
    done = baseline.keys()
    rest_run = replace(
        run,
        scanners=tuple(
            replace(s, findings=tuple(f for f in s.findings if f.fingerprint not in done))
            for s in run.scanners
        ),
    )
    return SeenAgain(
        tuple(t for _, t, _, _ in tracked), baseline, tuple(r for *_, r in tracked), rest, rest_run
    )
