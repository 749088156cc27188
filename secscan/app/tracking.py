"""The use cases that change tracked findings: record a run, triage a finding, sweep the SLAs.

Each is the same three steps in one store write session (:mod:`secscan.core.ports.sessions`): the store
loads what the pure core needs, the core computes a changeset from it (:mod:`secscan.core.reconcile`,
:mod:`secscan.core.sla_upkeep`: no I/O, ``now`` given), the store applies it. The session holds its
target (or, for SLA upkeep, the whole store) from the load to the commit, so the changeset is
written over exactly what it was computed from. ``now`` is cut to whole seconds first, as the
store keeps it, so what the core computes is what is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from secscan.app.redaction import redact_suppressions
from secscan.config.policy import load_sla_policy
from secscan.core.changeset import whole_seconds
from secscan.core.errors import StoreError
from secscan.core.model import ScanRun
from secscan.core.ports.sessions import SlaUpkeep
from secscan.core.ports.store import Store
from secscan.core.reconcile import reconcile_run, triage_change
from secscan.core.records import RunOutcome, Suppression, SweepResult, TrackedFinding, TriageStatus
from secscan.core.redact import Redactor
from secscan.core.sla import SlaPolicy
from secscan.core.sla_upkeep import expire, plan_sweep, reprice

logger = logging.getLogger(__name__)


def _reprice_if_changed(upkeep: SlaUpkeep, policy: SlaPolicy, now: datetime) -> None:
    """Recompute every due time when the SLA policy changed since the stored ones were computed."""
    if upkeep.policy != policy:
        upkeep.reprice(reprice(upkeep.groups(), policy, now))


def record_run(
    store: Store,
    run: ScanRun,
    now: datetime,
    policy: SlaPolicy,
    suppressions: Sequence[Suppression] | None = None,
    redactor: Redactor | None = None,
) -> RunOutcome:
    """Reconcile ``run`` against its target's tracked findings and store it atomically.

    ``suppressions`` is the target's whole suppressions file: ``()`` when it is empty or absent
    (every decision it made is lifted), ``None`` when it was not read (the decisions it made so
    far stand as they are). Their reasons come from the scanned repository and are stored as the
    decisions' reasons: they are redacted first, with ``redactor`` (the run's: the values its
    scanners found) or the token formats. A change of SLA policy is applied first, in a
    transaction of its own.
    """
    now = whole_seconds(now)
    if suppressions is not None:
        suppressions = redact_suppressions(suppressions, redactor or Redactor())
    if store.sla_policy() != policy:
        with store.sla_upkeep(now) as upkeep:
            _reprice_if_changed(upkeep, policy, now)
    with store.recording(run.target_name) as recording:
        reconciled = reconcile_run(recording.snapshot(), run, now, policy, suppressions)
        summary = recording.apply(reconciled.changeset)
    logger.info("run %s of %s recorded: %s", run.run_id, run.target_name, dict(reconciled.changeset.counts))
    return reconciled.outcome(summary)


def triage(
    store: Store,
    ref: str,
    status: TriageStatus,
    reason: str,
    until: datetime | None,
    actor: str,
    now: datetime,
    target: str | None = None,
) -> TrackedFinding:
    """Record a triage decision on one finding (paused or resumed SLA clock, history entry).

    ``until`` must be in the future; ``open`` lifts a decision. Raises StoreError (also when the
    finding is unknown or ambiguous).
    """
    now = whole_seconds(now)
    if not reason.strip():
        raise StoreError(f"triage of {ref}: a reason is required; say why with --reason")
    if until is not None and whole_seconds(until) <= now:
        raise StoreError(
            f"triage of {ref}: until {until.isoformat()} is not in the future; give a later date"
        )
    with store.edit_finding(ref, target) as edit:
        policy = edit.policy or load_sla_policy()
        change = triage_change(edit.stored, status, reason.strip(), until, actor, now, policy)
        edit.apply(change)
    return change.finding


def sla_sweep(store: Store, now: datetime, policy: SlaPolicy) -> SweepResult:
    """Expire triage decisions whose ``until`` passed, then report and record every SLA status
    that changed (each change once), in one transaction."""
    now = whole_seconds(now)
    with store.sla_upkeep(now) as upkeep:
        _reprice_if_changed(upkeep, policy, now)
        expired = expire(upkeep.expiring(), policy, now)
        upkeep.apply_changes(expired)
        changes = upkeep.apply_sweep(plan_sweep(upkeep.due(), policy, now))
    return SweepResult(changes, tuple(c.finding for c in expired))
