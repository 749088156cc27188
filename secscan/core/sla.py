"""SLA engine: remediation windows, due times and SLA status. Pure: every function takes ``now``.

The policy data is ``rules/sla.toml``. A finding's *clock* starts when it is first seen. It is
*paused* while the finding is triaged or fixed, and paused time never counts. Rules:

* ``due_at = started_at + paused + window(severity)``; a severity without a window has no due time.
* The status is evaluated at ``t`` = the pause instant for a paused clock, else ``now``:
  ``breached`` when ``t > due_at`` (so exactly on the due time is not yet breached),
  ``met`` when the finding is fixed and not breached, ``due-soon`` when
  ``t >= started_at + paused + fraction * window``, else ``within``.
* Pause (triage, fix) freezes the status; resume (triage lifted or expired) continues the clock.
* Reopen after a fix follows the policy's :class:`ReopenPolicy`: ``restart`` (a fresh window) or
  ``resume`` (the fixed period counts as paused).
* Due times are derived from the *current* policy, so a change of policy applies to every finding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from secscan.core.errors import ConfigError
from secscan.core.model import Severity
from secscan.core.policy_schema import Entries, Shape, check_shape, choice, number, whole


class ReopenPolicy(StrEnum):
    """What the SLA clock of a reopened finding does."""

    RESTART = "restart"
    RESUME = "resume"


class SlaStatus(StrEnum):
    """Where a finding stands against its remediation window."""

    NONE = "none"  # no window for this severity
    WITHIN = "within"
    DUE_SOON = "due-soon"
    BREACHED = "breached"
    MET = "met"  # fixed within the window


@dataclass(frozen=True)
class SlaPolicy:
    """Validated SLA policy. Build it with :func:`load_sla_policy` (or directly in tests)."""

    windows: Mapping[Severity, timedelta | None]
    due_soon_fraction: float = 0.75
    reopen: ReopenPolicy = ReopenPolicy.RESTART

    def window(self, severity: Severity) -> timedelta | None:
        return self.windows.get(severity)


@dataclass(frozen=True)
class SlaClock:
    """A finding's remediation clock. ``paused`` is the total of completed pauses."""

    started_at: datetime
    paused_at: datetime | None = None
    paused: timedelta = timedelta(0)

    @property
    def running(self) -> bool:
        return self.paused_at is None


def start(now: datetime) -> SlaClock:
    """A fresh clock started at ``now``."""
    return SlaClock(started_at=now)


def pause(clock: SlaClock, at: datetime) -> SlaClock:
    """Pause the clock at ``at``; pausing a paused clock keeps the first pause instant."""
    if clock.paused_at is not None:
        return clock
    return replace(clock, paused_at=max(at, clock.started_at))


def resume(clock: SlaClock, at: datetime) -> SlaClock:
    """Resume a paused clock at ``at``: the paused interval is added to ``paused``."""
    if clock.paused_at is None:
        return clock
    gap = max(at - clock.paused_at, timedelta(0))
    return replace(clock, paused_at=None, paused=clock.paused + gap)


def reopen(clock: SlaClock, at: datetime, policy: SlaPolicy) -> SlaClock:
    """The clock of a finding that came back at ``at`` after a fix."""
    if policy.reopen is ReopenPolicy.RESTART:
        return start(at)
    return resume(clock, at)


def due_at(clock: SlaClock, severity: Severity, policy: SlaPolicy) -> datetime | None:
    """The due time under the current policy; ``None`` when the severity has no window.

    For a paused clock this is the due time as of the pause; it moves forward on resume.
    """
    window = policy.window(severity)
    if window is None:
        return None
    return clock.started_at + clock.paused + window


def due_soon_at(clock: SlaClock, severity: Severity, policy: SlaPolicy) -> datetime | None:
    """The instant the finding becomes due soon; ``None`` without a window."""
    window = policy.window(severity)
    if window is None:
        return None
    return clock.started_at + clock.paused + window * policy.due_soon_fraction


def status(
    clock: SlaClock, severity: Severity, policy: SlaPolicy, now: datetime, *, fixed: bool = False
) -> SlaStatus:
    """The SLA status at ``now`` (see the module docstring for the exact rules)."""
    due = due_at(clock, severity, policy)
    soon = due_soon_at(clock, severity, policy)
    if due is None or soon is None:
        return SlaStatus.NONE
    at = clock.paused_at if clock.paused_at is not None else now
    if at > due:
        return SlaStatus.BREACHED
    if fixed:
        return SlaStatus.MET
    return SlaStatus.DUE_SOON if at >= soon else SlaStatus.WITHIN


def next_change_at(
    clock: SlaClock, severity: Severity, policy: SlaPolicy, now: datetime, *, fixed: bool = False
) -> datetime | None:
    """The first instant after ``now`` at which :func:`status` changes; ``None`` if it never will.

    A paused or fixed clock never changes by itself; a breached one stays breached.
    """
    due = due_at(clock, severity, policy)
    soon = due_soon_at(clock, severity, policy)
    if due is None or soon is None or fixed or clock.paused_at is not None:
        return None
    if now < soon:
        return soon
    if now <= due:
        return due + timedelta(microseconds=1)
    return None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hd])\s*$")
MAX_WINDOW = timedelta(days=3660)
"""Ten years: a longer remediation window cannot be meant (and a due time past the year 9999
could not be computed)."""
_WINDOW_HINT = "a duration like '24h' or '7d' (more than 0, at most 3660d) or 'none'"


def _window(value: object) -> timedelta | None:
    """A window, or raises ValueError."""
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip().lower()
    if text == "none":
        return None
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(value)
    amount = float(match.group(1))
    hours = amount if match.group(2) == "h" else amount * 24
    if not 0 < hours <= MAX_WINDOW.total_seconds() / 3600:  # checked before timedelta can overflow
        raise ValueError(value)
    return timedelta(hours=amount) if match.group(2) == "h" else timedelta(days=amount)


def parse_window(value: object, where: str) -> timedelta | None:
    """``"2h"``, ``"7d"`` or ``"none"`` -> a window. Raises ConfigError naming ``where``."""
    try:
        return _window(value)
    except ValueError:
        raise ConfigError(f"SLA policy: {where} = {value!r} is not {_WINDOW_HINT}") from None


def _window_value(value: object) -> str | None:
    try:
        _window(value)
    except ValueError:
        return _WINDOW_HINT
    return None


def _fraction(value: object) -> str | None:
    return None if number(value) and 0 < value <= 1 else "a number more than 0 and at most 1"


SLA_SHAPE: Shape = {
    "version": whole(1),
    "windows": Entries(_window_value, keys=tuple(s.value for s in Severity)),
    "clock": {"due-soon-fraction": _fraction, "reopen": choice(tuple(r.value for r in ReopenPolicy))},
}
"""What ``sla.toml`` (and a user's file merged over it) may hold."""


def check_sla_data(data: Mapping[str, Any], source: str) -> None:
    """Refuse an unknown table or key, or a bad value, in an SLA policy file (the bundled one or
    a user's, each checked alone). Raises ConfigError naming ``source`` and the key."""
    check_shape(data, SLA_SHAPE, "SLA policy", source)


def sla_policy_from(data: Mapping[str, Any], where: str = "sla.toml") -> SlaPolicy:
    """Validate parsed TOML data into an :class:`SlaPolicy`. Raises ConfigError."""
    windows_table = data.get("windows")
    if not isinstance(windows_table, Mapping):
        raise ConfigError(f"SLA policy {where}: missing [windows] table; compare with rules/sla.toml")
    windows: dict[Severity, timedelta | None] = {}
    for severity in Severity:
        if severity.value not in windows_table:
            raise ConfigError(f"SLA policy {where}: windows.{severity.value} is missing; add it")
        windows[severity] = parse_window(windows_table[severity.value], f"windows.{severity.value}")
    clock = data.get("clock", {})
    fraction = clock.get("due-soon-fraction", 0.75)
    if _fraction(fraction) is not None:
        raise ConfigError(f"SLA policy {where}: clock.due-soon-fraction = {fraction!r} must be in (0, 1]")
    try:
        reopen_policy = ReopenPolicy(str(clock.get("reopen", "restart")).lower())
    except ValueError:
        raise ConfigError(
            f"SLA policy {where}: clock.reopen = {clock.get('reopen')!r} must be 'restart' or 'resume'"
        ) from None
    return SlaPolicy(windows=windows, due_soon_fraction=float(fraction), reopen=reopen_policy)
