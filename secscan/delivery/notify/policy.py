"""Routing policy: events -> (channel, action, dedup key). Pure code over the data in ``rules/routing.toml``.

:func:`load_routing` validates the policy file; :func:`route` matches events against routes,
groups alert storms (more than ``storm.threshold`` alerts for one target and rule in one batch
become one grouped alert, and later ones join a grouped incident that is still open) and folds a
channel's notices beyond ``storm.max_notices`` into one summary message. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from secscan.config.policy import read_toml, rules_dir
from secscan.core.errors import ConfigError
from secscan.core.model import FindingState, Severity
from secscan.delivery.notify.interface import Alert, Event, EventKind
from secscan.delivery.notify.messages import event_alerts, group_alert, group_key, notices_summary

_ROUTE_KEYS = frozenset({"event", "to", "severity", "tool", "target", "state"})
_TOP_KEYS = frozenset({"version", "storm", "route"})
_STORM_KEYS = frozenset({"threshold", "max_notices"})
STANDARD_ROLES = ("page", "chat", "email")
_UNCHANGED = FindingState.UNCHANGED.value  # a finding seen before: already a member of its open storm


@dataclass(frozen=True)
class Route:
    """One ``[[route]]``: filters (None: any) and the channel names or roles it sends to."""

    event: EventKind
    to: tuple[str, ...]
    severity: frozenset[Severity] | None = None
    tool: frozenset[str] | None = None
    target: tuple[str, ...] | None = None  # globs
    state: frozenset[str] | None = None

    def matches(self, e: Event) -> bool:
        return (
            (self.severity is None or e.severity in self.severity)
            and (self.tool is None or e.tool in self.tool)
            and (self.state is None or e.state in self.state)
            and (self.target is None or any(fnmatchcase(e.target, g) for g in self.target))
        )


@dataclass(frozen=True)
class RoutingPolicy:
    routes: tuple[Route, ...]
    storm_threshold: int = 10
    max_notices: int = 20


class _PolicyError(ValueError):
    """A fault in the policy's structure; :func:`routing_from` adds which file."""


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _PolicyError(f"{where} must be a non-empty list of strings")
    return tuple(value)


def _choice(values: Iterable[str], allowed: Collection[str], where: str) -> frozenset[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise _PolicyError(f"{where} = {bad[0]!r} is not one of {', '.join(sorted(allowed))}")
    return frozenset(values)


def _route(table: Any, where: str) -> Route:
    if not isinstance(table, Mapping):
        raise _PolicyError(f"{where} must be a table")
    unknown = set(table) - _ROUTE_KEYS
    if unknown:
        raise _PolicyError(f"unknown key {where}.{sorted(unknown)[0]}; see rules/routing.toml")
    if "event" not in table or "to" not in table:
        raise _PolicyError(f"{where} needs 'event' and 'to'")
    event = next(iter(_choice([str(table["event"])], {k.value for k in EventKind}, f"{where}.event")))
    severity = table.get("severity")
    severities = None
    if severity is not None:
        names = _choice(_strings(severity, f"{where}.severity"), set(Severity), f"{where}.severity")
        severities = frozenset(Severity(s) for s in names)
    state = table.get("state")
    return Route(
        event=EventKind(event),
        to=_strings(table["to"], f"{where}.to"),
        severity=severities,
        tool=None if table.get("tool") is None else frozenset(_strings(table["tool"], f"{where}.tool")),
        target=None if table.get("target") is None else _strings(table["target"], f"{where}.target"),
        state=None if state is None else _choice(
            _strings(state, f"{where}.state"), {s.value for s in FindingState}, f"{where}.state"
        ),
    )  # fmt: skip


def _positive(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _PolicyError(f"{where} = {value!r} must be a whole number of at least 1")
    return value


def _policy(data: Mapping[str, Any]) -> RoutingPolicy:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _PolicyError(f"unknown key {sorted(unknown)[0]!r}; the keys are version, storm and [[route]]")
    routes, storm = data.get("route", []), data.get("storm", {})
    if not isinstance(routes, list):
        raise _PolicyError("'route' must be an array of [[route]] tables")
    if not isinstance(storm, Mapping) or set(storm) - _STORM_KEYS:
        raise _PolicyError("[storm] must be a table of threshold and max_notices")
    return RoutingPolicy(
        routes=tuple(_route(r, f"route[{i}]") for i, r in enumerate(routes)),
        storm_threshold=_positive(storm.get("threshold", 10), "storm.threshold"),
        max_notices=_positive(storm.get("max_notices", 20), "storm.max_notices"),
    )


def routing_from(data: Mapping[str, Any], source: str = "") -> RoutingPolicy:
    """Validate parsed TOML (read from ``source``) into a :class:`RoutingPolicy`. Raises ConfigError."""
    try:
        return _policy(data)
    except _PolicyError as exc:
        raise ConfigError(f"routing policy {source}: {exc}".replace(" :", ":", 1)) from None


def load_routing(override: Path | None = None) -> RoutingPolicy:
    """``rules/routing.toml``, with ``override`` over it: its ``[storm]`` keys merged, its
    ``[[route]]`` list (when it has one) replacing the bundled routes. Each file is validated on
    its own, so an error names the file that has it."""
    bundled = rules_dir() / "routing.toml"
    policy = routing_from(read_toml(bundled, "routing policy"), str(bundled))
    if override is None:
        return policy
    extra = read_toml(override, "routing policy")
    mine = routing_from(extra, str(override))
    storm = extra.get("storm", {})
    return RoutingPolicy(
        routes=mine.routes if "route" in extra else policy.routes,
        storm_threshold=mine.storm_threshold if "threshold" in storm else policy.storm_threshold,
        max_notices=mine.max_notices if "max_notices" in storm else policy.max_notices,
    )


def check_destinations(policy: RoutingPolicy, channels: Mapping[str, Collection[str]], source: str) -> None:
    """Every route's ``to`` names a configured channel, a standard role or a role some channel
    receives: a typo would otherwise route alerts nowhere, silently. Raises ConfigError."""
    known = set(STANDARD_ROLES) | set(channels) | {role for roles in channels.values() for role in roles}
    for i, r in enumerate(policy.routes):
        for name in r.to:
            if name not in known:
                raise ConfigError(
                    f"routing policy {source}: route[{i}].to = {name!r} is neither a configured channel "
                    f"nor a role ({', '.join(sorted(known))}); fix the name or add [notify.{name}]"
                )


def channels_of(route: Route, channels: Mapping[str, Collection[str]]) -> tuple[str, ...]:
    """The configured channels a route sends to: by channel name or by a role they receive."""
    return tuple(name for name, roles in channels.items() if name in route.to or set(route.to) & set(roles))


@dataclass(frozen=True)
class Routed:
    """What :func:`route` made of a batch: the alerts, and for each grouped incident alert (by
    channel and dedup key) the fingerprints of the findings it stands for (its members)."""

    alerts: list[Alert]
    members: Mapping[tuple[str, str], tuple[str, ...]]  # findings new to an open storm only


def route(
    events: Iterable[Event],
    policy: RoutingPolicy,
    channels: Mapping[str, Collection[str]],
    now: datetime,
    *,
    open_keys: Collection[tuple[str, str]] = (),
) -> Routed:
    """The alerts for ``events``: one per matching channel, storms grouped, notices capped.

    ``channels`` maps each configured channel to the roles it receives; ``open_keys`` holds the
    (channel, dedup key) pairs of incidents still open: their events are dropped before storms
    are counted, and the events of a rule whose grouped incident is open join it (routed as the
    group alert again, which the incident state then drops; its new members are kept).
    """
    by_kind: dict[EventKind, list[tuple[Route, tuple[str, ...]]]] = {}
    for r in policy.routes:
        targets = channels_of(r, channels)
        if targets:
            by_kind.setdefault(r.event, []).append((r, targets))
    open_set = set(open_keys)
    buckets: dict[tuple[str, EventKind, str, str | None, str | None], list[Event]] = {}
    for e in events:
        matched: set[str] = set()
        for r, targets in by_kind.get(e.kind, ()):
            if r.matches(e):
                matched.update(targets)
        for channel in matched:
            if open_keys and (channel, e.key) in open_set:
                continue
            buckets.setdefault((channel, e.kind, e.target, e.tool, e.rule), []).append(e)
    alerts: list[Alert] = []
    members: dict[tuple[str, str], tuple[str, ...]] = {}
    singles: list[tuple[str, Event]] = []
    for (channel, kind, target, tool, rule), bucket in buckets.items():
        groupable = bucket[0].fingerprint is not None
        grouped = groupable and (
            len(bucket) > policy.storm_threshold
            or (channel, group_key(kind, target, tool or "", rule or "")) in open_set
        )
        if grouped:
            alert = group_alert(bucket, channel, now)
            alerts.append(alert)
            if kind.opens_incident:  # a new storm: all its findings; an open one: those new to it
                joining = (channel, alert.dedup_key) in open_set
                members[(channel, alert.dedup_key)] = tuple(
                    e.fingerprint for e in bucket if e.fingerprint and not (joining and e.state == _UNCHANGED)
                )
        else:
            singles.extend((channel, e) for e in bucket)
    alerts.extend(event_alerts(singles, now))
    return Routed(_cap_notices(alerts, policy.max_notices, now), members)


def _cap_notices(alerts: Sequence[Alert], limit: int, now: datetime) -> list[Alert]:
    notices: dict[str, list[Alert]] = {}
    kept: list[Alert] = []
    for a in alerts:
        if a.event.opens_incident:
            kept.append(a)
        else:
            notices.setdefault(a.channel, []).append(a)
    for channel, batch in notices.items():
        if len(batch) > limit:
            kept.append(notices_summary(batch, channel, now))
        else:
            kept.extend(batch)
    return kept
