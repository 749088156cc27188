"""What secscan pages about: events from runs, sweeps, missed runs and failed targets, queued as alerts.

Each ``on_*`` function turns what happened into :class:`~secscan.delivery.notify.interface.Event` values,
routes them (:func:`secscan.delivery.notify.policy.route`), drops those whose incident is already open,
and queues the rest in the alerts outbox together with the resolves of incidents that have
nothing left to page about. Queueing is idempotent: each outbox key holds the channel, the action,
the dedup key and the incident's generation, and the outbox items and the incident state are
written in one transaction (:meth:`~secscan.core.ports.store.Store.queue_alerts`). Finding alerts
are level-triggered: every open finding that routing pages about and that has no open incident
gets one, so an alert lost to a crash before queueing is queued by the next run.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from secscan.config.policy import load_sla_policy
from secscan.core.model import ScannerStatus, ScanRun
from secscan.core.ports.alerts import AlertIncident, IncidentMember, IncidentState, IncidentStatus
from secscan.core.ports.store import OPEN_STATES, FindingQuery, RunOutcome, SweepResult, TrackedFinding
from secscan.core.sla import SlaStatus, status
from secscan.delivery.notify.interface import Action, Alert, Event, EventKind, dedup_key
from secscan.delivery.notify.messages import clean, resolve_alert
from secscan.delivery.notify.policy import RoutingPolicy, check_destinations, load_routing, route
from secscan.delivery.notify.secrets import config_path
from secscan.delivery.notify.sla_events import breaches, due_text

if TYPE_CHECKING:
    from secscan.config.settings import Settings
    from secscan.core.ports.store import Store


_RUN_LEVEL = (EventKind.MISSED_RUN.value, EventKind.SCANNER_FAILED.value)
_EVENT_NAMES = {k: k.value for k in EventKind}
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _gc_paused(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` without cyclic garbage collection: it builds 100k+ short-lived events and
    alerts (none in a reference cycle) beside a run's findings, and the collector would walk
    that growing heap again and again (more than a second per 100k alerts)."""

    @functools.wraps(fn)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


@dataclass(frozen=True)
class Routing:
    """The routing policy and the configured channels (name -> roles) of one settings object."""

    policy: RoutingPolicy
    channels: Mapping[str, tuple[str, ...]]


def routing(settings: Settings) -> Routing | None:
    """The routing of ``settings``; None when no channel is configured. Raises ConfigError."""
    notify = settings.notify
    if not notify.channels:
        return None
    path = config_path(notify.routing, settings)
    policy = load_routing(path)
    channels = {name: c.roles for name, c in notify.channels.items()}
    check_destinations(policy, channels, str(path or "rules/routing.toml"))
    return Routing(policy, channels)


def check(settings: Settings) -> None:
    """Fail fast (ConfigError) on a bad routing policy, before a scan starts."""
    routing(settings)


def finding_event(t: TrackedFinding, state: str | None = None) -> Event:
    return Event(
        EventKind.FINDING, t.target, t.severity, t.tool, t.rule_id, t.path, t.line, t.fingerprint,
        state or t.state.value,
    )  # fmt: skip


@_gc_paused
def on_run(store: Store, run: ScanRun, recorded: RunOutcome, settings: Settings, now: datetime) -> int:
    """Queue the alerts of a recorded run; returns how many outbox items were new.

    Pages open findings without an incident (new, reopened, or open again after triage) and
    breached ones without an SLA incident (:func:`breaches`), failed scanners; resolves
    incidents of fixed or triaged findings, of scanners that ran ``ok`` again, and the target's
    missed-run incident.
    """
    config = routing(settings)
    if config is None:
        return 0
    target = run.target_name
    seen = (*recorded.new, *recorded.reopened, *recorded.unchanged)
    events = [finding_event(t) for t in seen if t.state in OPEN_STATES]
    events += breaches(seen, load_sla_policy(settings.policy.sla), now)
    for s in run.scanners:
        if s.status.is_failure:
            reason = clean(f"{s.status.value}: {s.reason or 'no reason given'}", 300)
            events.append(Event(EventKind.SCANNER_FAILED, target, tool=s.name, detail=reason))
    ok = {s.name for s in run.scanners if s.status is ScannerStatus.OK}
    run_level = store.alert_incidents(target=target, open_only=True, events=_RUN_LEVEL)
    resolves = [
        i
        for i in run_level
        if i.event == EventKind.MISSED_RUN or (i.event == EventKind.SCANNER_FAILED and i.tool in ok)
    ]
    stale = store.alert_stale_incidents(target)
    return dispatch(store, config, events, (*resolves, *stale), now, store.alert_states(target))


@_gc_paused
def on_sweep(store: Store, result: SweepResult, settings: Settings, now: datetime) -> int:
    """Queue the alerts of an SLA sweep: breaches (incidents), due-soon notices, findings whose
    accepted risk expired (and their breach, if their SLA ran out before or while it held);
    resolves incidents whose finding was fixed or triaged meanwhile (``secscan triage`` between
    runs)."""
    config = routing(settings)
    if config is None:
        return 0
    events: list[Event] = []
    for c in result.changes:
        if c.paused or c.current not in (SlaStatus.BREACHED, SlaStatus.DUE_SOON):
            continue  # a finding fixed or triaged before the sweep saw its breach pages nobody
        due = due_text(c.due_at)
        kind = EventKind.SLA_BREACHED if c.current is SlaStatus.BREACHED else EventKind.SLA_DUE_SOON
        key = dedup_key(kind.value, c.target, c.fingerprint, due) if kind is EventKind.SLA_DUE_SOON else ""
        where = (c.tool, c.rule_id, c.path, c.line, c.fingerprint)
        events.append(Event(kind, c.target, c.severity, *where, None, due, key))
    events += [finding_event(t, "reopened") for t in result.expired if t.state in OPEN_STATES]
    swept = {(e.target, e.fingerprint) for e in events if e.kind is EventKind.SLA_BREACHED}
    again = breaches(result.expired, load_sla_policy(settings.policy.sla), now)
    events += [e for e in again if (e.target, e.fingerprint) not in swept]
    return dispatch(store, config, events, store.alert_stale_incidents(), now, store.alert_states())


def on_missed_run(store: Store, target: str, expected_at: datetime, settings: Settings, now: datetime) -> int:
    """The dead man's switch: a scheduled run of ``target`` did not happen. One incident until
    the target's next recorded run resolves it."""
    config = routing(settings)
    if config is None:
        return 0
    detail = f"expected at {expected_at:%Y-%m-%d %H:%M} UTC"
    event = Event(EventKind.MISSED_RUN, target, detail=detail)
    return dispatch(store, config, [event], (), now, store.alert_states(target))


def on_target_failed(store: Store, target: str, reason: str, settings: Settings, now: datetime) -> int:
    """The daemon could not scan ``target`` (its path is missing, the scan raised) or update its
    checkout: one incident per target until :func:`on_target_ok` resolves it."""
    config = routing(settings)
    if config is None:
        return 0
    event = Event(EventKind.TARGET_FAILED, target, detail=clean(reason, 300))
    return dispatch(store, config, [event], (), now, store.alert_states(target))


def on_target_ok(store: Store, target: str, settings: Settings, now: datetime) -> int:
    """The daemon scanned ``target`` (with its checkout updated): resolve its target-failed incident."""
    config = routing(settings)
    if config is None:
        return 0
    failed = (EventKind.TARGET_FAILED.value,)
    incidents = store.alert_incidents(target=target, open_only=True, events=failed)
    return dispatch(store, config, [], incidents, now, {}) if incidents else 0


def on_upload_failed(
    store: Store, target: str, category: str, error: str, settings: Settings, now: datetime
) -> int:
    """A SARIF upload of ``target`` (its ``category``) to GitHub code scanning failed for good
    (a dead letter, or GitHub could not process it): one notice, routed as ``upload-failed``.
    Called by :mod:`secscan.delivery.github`; the same failure reported twice is queued once."""
    config = routing(settings)
    if config is None:
        return 0
    detail = clean(f"{category}: {error}", 500)
    digest = hashlib.sha256(f"{target}\0{category}\0{error}".encode()).hexdigest()[:16]
    event = Event(
        EventKind.UPLOAD_FAILED, target, tool=category, detail=detail,
        dedup=dedup_key("upload-failed", target, category, digest),
    )  # fmt: skip
    return dispatch(store, config, [event], (), now, {})


def on_digest(store: Store, settings: Settings, now: datetime) -> int:
    """The daily digest (one per UTC day and channel): open findings by severity and SLA
    breaches, per target."""
    config = routing(settings)
    if config is None:
        return 0
    policy = load_sla_policy(settings.policy.sla)
    counts: dict[str, Counter[str]] = {}
    for t in store.list_findings(FindingQuery(states=OPEN_STATES)):
        c = counts.setdefault(t.target, Counter())
        c[t.severity.value] += 1
        if status(t.sla, t.severity, policy, now) is SlaStatus.BREACHED:
            c["SLA breached"] += 1
    lines = [
        f"{t}: " + ", ".join(f"{n} {k}" for k, n in sorted(c.items())) for t, c in sorted(counts.items())
    ]
    detail = "; ".join(lines) if lines else "no open findings"
    day = f"{now:%Y-%m-%d}"
    event = Event(EventKind.DIGEST, "all targets", detail=f"{day}: {detail}", dedup=dedup_key("digest", day))
    return dispatch(store, config, [event], (), now, {})


def dispatch(
    store: Store,
    config: Routing,
    events: Iterable[Event],
    resolves: Iterable[AlertIncident],
    now: datetime,
    known: Mapping[tuple[str, str], IncidentState],
) -> int:
    """Route ``events``, skip alerts whose incident is open (``known``: the incidents of their
    target by channel and dedup key), queue the rest and ``resolves`` together with the new
    incident state, in one transaction. Event-only calls (notices) pass no incidents."""
    triggered = IncidentStatus.TRIGGERED
    open_keys = {k for k, state in known.items() if state.status is triggered}
    routed = route(events, config.policy, config.channels, now, open_keys=open_keys)
    items: list[tuple[str, str, Mapping[str, Any]]] = []
    changed: list[AlertIncident] = []
    members: list[IncidentMember] = []  # a storm's findings, and later ones joining it (issue 13)
    for a in routed.alerts:
        if a.action is Action.NOTICE:
            items.append((a.channel, f"{a.channel}|notice|{a.dedup_key}", a.to_payload()))
            continue
        group = routed.members.get((a.channel, a.dedup_key), ())
        members.extend([IncidentMember(a.target, a.dedup_key, a.channel, fp) for fp in group])
        before = known.get((a.channel, a.dedup_key))
        if before is not None and before.status is triggered:
            continue
        generation = (before.generation if before else 0) + 1
        after = resolve_key(a.channel, a.dedup_key, generation - 1) if before else None
        items.append((a.channel, trigger_key(a.channel, a.dedup_key, generation), _payload(a, after)))
        changed.append(_incident(a, generation, now))
    # a grouped incident that findings join in this batch stays open, even if its earlier
    # members were all closed (it is theirs now)
    done: set[tuple[str, str]] = {(m.dedup_key, m.channel) for m in members}
    for i in resolves:
        if (i.dedup_key, i.channel) in done or i.channel not in config.channels:
            continue
        done.add((i.dedup_key, i.channel))
        after = trigger_key(i.channel, i.dedup_key, i.generation)
        payload = _payload(resolve_alert(i, now), after)
        items.append((i.channel, resolve_key(i.channel, i.dedup_key, i.generation), payload))
        changed.append(dataclasses.replace(i, status=IncidentStatus.RESOLVED, resolved_at=now))
    return store.queue_alerts(items, changed, now, members)


def trigger_key(channel: str, key: str, generation: int) -> str:
    return f"{channel}|trigger|{generation}|{key}"


def resolve_key(channel: str, key: str, generation: int) -> str:
    return f"{channel}|resolve|{generation}|{key}"


def _payload(alert: Alert, after: str | None) -> dict[str, Any]:
    """The outbox payload; ``after`` is the key of the item that must be delivered first (the
    trigger before its resolve, a resolve before the next trigger of the same key)."""
    payload = alert.to_payload()
    if after is not None:
        payload["after"] = after
    return payload


def _incident(a: Alert, generation: int, now: datetime) -> AlertIncident:
    """The open incident of trigger ``a`` (called once per alert: positional and lean)."""
    d = a.details
    grouped = bool(d.get("grouped"))
    fingerprint, tool, rule = None if grouped else d.get("fingerprint"), d.get("tool"), d.get("rule")
    return AlertIncident(
        a.dedup_key, a.channel, _EVENT_NAMES[a.event], a.target, IncidentStatus.TRIGGERED, generation,
        now, None, None if fingerprint is None else str(fingerprint), None if tool is None else str(tool),
        None if rule is None else str(rule), grouped,
    )  # fmt: skip
