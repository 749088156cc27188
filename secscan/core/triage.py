"""Pure reconciliation of a scan run against the tracked findings of its target.

No I/O: every function takes ``now``. Identity is the fingerprint, never the line, so a finding
that only moved keeps its id, first-seen time, SLA clock and triage. The rules
(``docs/data-model.md``):

* seen and unknown -> ``new``; seen and known -> ``unchanged``; seen and fixed -> ``reopened``
  (its SLA clock follows the policy's reopen rule; an active triage decision still holds);
* not seen -> ``fixed`` ONLY when the scanner that reported it finished ``ok`` over a scope
  covering its file (or, with nothing of its kind left to scan, its file was deleted:
  ``ScannerResult.nothing_to_scan``); otherwise it stays as it was (a failed, timed-out, partial
  or absent scanner closes nothing);
* a triage decision whose ``until`` passed is lifted and the SLA clock resumes at ``until``;
* suppressions apply like triage decisions made by the suppressions file; a manual decision wins.
  ``suppressions=None`` means the file was not read: the decisions it made stand as they are;
  ``()`` means it is empty or absent: every decision it made is lifted.

The triage decisions themselves (lifting, the suppressions file's, manual ones) are
:mod:`secscan.core.decisions`'.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from secscan.core.decisions import Recorder, apply_suppressions, lift_expired
from secscan.core.model import Finding, FindingState, ScannerStatus, ScanRun, Severity
from secscan.core.records import (
    SECSCAN_ACTOR,
    SUPPRESSIONS_ACTOR,
    BaselineState,
    HistoryEntry,
    HistoryEvent,
    Suppression,
    TrackedFinding,
    construct,
)
from secscan.core.sla import SlaPolicy, pause, reopen, start
from secscan.core.suppressions import end_of_day, parse_suppressions

__all__ = [
    "SECSCAN_ACTOR",
    "SUPPRESSIONS_ACTOR",
    "Reconciliation",
    "baseline_signature",
    "covers",
    "end_of_day",
    "parse_suppressions",
    "reconcile",
]


# Enum members read once: an attribute look-up on an Enum class is slow, and reconcile runs per finding.
_NEW, _UNCHANGED, _REOPENED, _FIXED, _TRIAGED = (
    FindingState.NEW,
    FindingState.UNCHANGED,
    FindingState.REOPENED,
    FindingState.FIXED,
    FindingState.TRIAGED,
)
_BASELINE_NEW, _BASELINE_UNCHANGED, _BASELINE_UPDATED = (
    BaselineState.NEW,
    BaselineState.UNCHANGED,
    BaselineState.UPDATED,
)
_SEVERITY_TEXT = {s: s.value for s in Severity}
_SIGNATURE = hashlib.blake2b(digest_size=8)  # copied per finding: cheaper than a new hasher
_new, _adopt = object.__new__, object.__setattr__


@dataclass(frozen=True)
class Reconciliation:
    """The result of :func:`reconcile`; ``changed`` is every tracked finding to write."""

    changed: tuple[TrackedFinding, ...]
    new: tuple[TrackedFinding, ...]
    unchanged: tuple[TrackedFinding, ...]
    reopened: tuple[TrackedFinding, ...]
    fixed: tuple[TrackedFinding, ...]
    unconfirmed: tuple[TrackedFinding, ...]  # open, not seen, but nothing proves them fixed
    history: tuple[HistoryEntry, ...]
    baseline: Mapping[str, BaselineState] = field(default_factory=dict)
    absent: tuple[TrackedFinding, ...] = ()


def covers(scope: frozenset[str], path: str) -> bool:
    """True if ``scope`` covers ``path``: the file itself, an ancestor directory, or ``.``."""
    if path in scope or "." in scope:
        return True
    parts = path.split("/")
    parents = ("/".join(parts[:i]) for i in range(1, len(parts)))
    return any(p in scope or f"{p}/" in scope for p in parents)


def baseline_signature(finding: Finding) -> int:
    """A 63-bit signature of what SARIF ``updated`` compares: place, severity and message."""
    loc = finding.location
    text = f"{loc.path}\0{loc.start_line}\0{_SEVERITY_TEXT[finding.severity]}\0{finding.message}"
    hasher = _SIGNATURE.copy()
    hasher.update(text.encode("utf-8", "surrogatepass"))  # a path may hold surrogate escapes
    return int.from_bytes(hasher.digest(), "big") >> 1


def _dedupe(run: ScanRun) -> dict[str, Finding]:
    """One finding per fingerprint; duplicates resolve to the smallest location (order-free)."""
    findings = run.findings
    by_fp = {f.fingerprint: f for f in findings}
    if len(by_fp) == len(findings):  # the usual case: no duplicates to resolve
        return by_fp
    by_fp = {}
    for finding in findings:
        current = by_fp.get(finding.fingerprint)
        key = (finding.location.path, finding.location.start_line, finding.message)
        if current is None or key < (current.location.path, current.location.start_line, current.message):
            by_fp[finding.fingerprint] = finding
    return by_fp


def _seen(
    old: TrackedFinding | None,
    f: Finding,
    target: str,
    now: datetime,
    policy: SlaPolicy,
    rec: Recorder,
    baseline_sig: int | None,
) -> TrackedFinding:
    """The tracked value of a finding seen in this run (built once: this is the bulk path)."""
    loc = f.location
    if old is None:
        t = construct(
            TrackedFinding,
            fingerprint=f.fingerprint,
            target=target,
            tool=f.tool,
            rule_id=f.rule_id,
            path=loc.path,
            line=loc.start_line,
            message=f.message,
            severity=f.severity,
            state=_NEW,
            first_seen=now,
            last_seen=now,
            sla=start(now),
            baseline_sig=baseline_sig,
        )
        rec.add(None, t, HistoryEvent.OPENED, f"first seen by {f.tool}")
        return t
    state = old.state
    if state is not _FIXED:  # seen again: the bulk path of every re-scan, built from ``old``
        t = _new(TrackedFinding)
        _adopt(t, "__dict__", {
            **old.__dict__, "tool": f.tool, "rule_id": f.rule_id, "path": loc.path,
            "line": loc.start_line, "message": f.message, "severity": f.severity,
            "state": state if state is _TRIAGED else _UNCHANGED, "last_seen": now,
            "baseline_sig": baseline_sig,
        })  # fmt: skip
        if old.severity is not f.severity:
            rec.add(old, t, HistoryEvent.SEVERITY_CHANGED, f"{old.severity.value} -> {f.severity.value}")
        return t
    # fixed, and seen again: reopened (still triaged if its decision holds)
    triaged = old.triage is not None and old.triage.active(now)
    clock = reopen(old.sla, now, policy)
    clock = pause(clock, now) if triaged else clock
    t = construct(
        TrackedFinding,
        fingerprint=old.fingerprint,
        target=old.target,
        tool=f.tool,
        rule_id=f.rule_id,
        path=loc.path,
        line=loc.start_line,
        message=f.message,
        severity=f.severity,
        state=_TRIAGED if triaged else _REOPENED,
        first_seen=old.first_seen,
        last_seen=now,
        sla=clock,
        fixed_at=None,
        triage=old.triage,
        baseline_sig=baseline_sig,
        introduced_at=old.introduced_at,
    )
    if old.severity is not f.severity:
        rec.add(old, t, HistoryEvent.SEVERITY_CHANGED, f"{old.severity.value} -> {f.severity.value}")
    rec.add(old, t, HistoryEvent.REOPENED, f"seen again by {f.tool} (clock: {policy.reopen.value})")
    return t


def reconcile(
    previous: Iterable[TrackedFinding],
    run: ScanRun,
    now: datetime,
    policy: SlaPolicy,
    suppressions: Sequence[Suppression] | None = None,
) -> Reconciliation:
    """Reconcile ``run`` with the ``previous`` tracked findings of its target (see module doc).

    ``suppressions`` is the whole suppressions file (``()``: empty or absent), or ``None`` when
    it was not read (its standing decisions are then left alone).
    """
    prev = {t.fingerprint: t for t in previous}
    seen = _dedupe(run)
    scopes = {s.name: s.scope for s in run.scanners if s.closes}
    emptied = {s.name for s in run.scanners if s.closes and s.status is not ScannerStatus.OK}
    rec = Recorder(run, now)
    new: list[TrackedFinding] = []
    unchanged: list[TrackedFinding] = []
    reopened: list[TrackedFinding] = []
    fixed: list[TrackedFinding] = []
    unconfirmed: list[TrackedFinding] = []
    changed: list[TrackedFinding] = []
    baseline: dict[str, BaselineState] = {}
    absent: list[TrackedFinding] = []

    complete = run.complete
    target = run.target_name
    for fp in sorted(seen):
        f, old = seen[fp], prev.get(fp)
        sig = baseline_signature(f)
        kept = None if old is None else old.baseline_sig
        t = _seen(old, f, target, now, policy, rec, sig if complete else kept)
        if t.triage is not None:
            t = lift_expired(t, now, rec)
        if suppressions or (suppressions is not None and t.triage is not None):  # else a no-op
            t = apply_suppressions(t, suppressions, now, rec)
        if old is None:
            new.append(t)
        elif old.state is _FIXED:
            reopened.append(t)
        else:
            unchanged.append(t)
        if kept is None:
            baseline[fp] = _BASELINE_NEW
        else:
            baseline[fp] = _BASELINE_UNCHANGED if kept == sig else _BASELINE_UPDATED
        changed.append(t)

    for fp in sorted(prev.keys() - seen.keys()):
        old = prev[fp]
        closable = old.tool in scopes and covers(scopes[old.tool], old.path)
        t = lift_expired(old, now, rec)
        if closable and t.state is not _FIXED:
            after = replace(t, state=_FIXED, fixed_at=now, sla=pause(t.sla, now))
            why = (
                f"{old.tool} had nothing of its kind left to scan; {old.path} was deleted"
                if old.tool in emptied
                else f"{old.tool} finished ok over {old.path} without it"
            )
            rec.add(t, after, HistoryEvent.FIXED, why)
            t = after
            fixed.append(t)
        t = apply_suppressions(t, suppressions, now, rec)
        if closable and old.baseline_sig is not None:
            absent.append(t)
            if complete:
                t = replace(t, baseline_sig=None)
        if t.is_open and not closable:
            unconfirmed.append(t)
        if t != old:
            changed.append(t)

    return Reconciliation(
        changed=tuple(changed),
        new=tuple(new),
        unchanged=tuple(unchanged),
        reopened=tuple(reopened),
        fixed=tuple(fixed),
        unconfirmed=tuple(unconfirmed),
        history=tuple(rec.entries),
        baseline=baseline,
        absent=tuple(absent),
    )
