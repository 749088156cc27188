"""The target's suppressions file, ``.secscan/suppressions.toml``: read safely, parsed, matched.

A suppression works like a triage decision made by the file (reconciliation applies it, see
:mod:`secscan.core.triage`); this module only reads and validates entries and says which one matches
a finding. No I/O but :func:`read_suppressions`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from fnmatch import fnmatchcase

from secscan.core.errors import ConfigError
from secscan.core.model import ToolName
from secscan.core.records import Suppression, TrackedFinding, TriageStatus

SUPPRESSIONS_FILE = ".secscan/suppressions.toml"


def end_of_day(day: date) -> datetime:
    """The exclusive expiry instant of ``until DAY``: the decision holds through that UTC day.

    9999-12-31 (a common way to write "never") has no next day: its decision holds to that day's
    last whole second, the last instant the store can keep."""
    if day >= date.max:
        return datetime.max.replace(microsecond=0, tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def matching_suppression(
    t: TrackedFinding, suppressions: Sequence[Suppression], now: datetime
) -> Suppression | None:
    """The first suppression that matches ``t`` and has not expired at ``now``."""
    for s in suppressions:
        if s.expires is not None and now >= s.expires:
            continue
        if s.fingerprint is not None and not t.fingerprint.startswith(s.fingerprint):
            continue
        if s.rule is not None and s.rule != t.rule_id:
            continue
        if s.tool is not None and s.tool != t.tool:
            continue
        if s.path is not None and not fnmatchcase(t.path, s.path):
            continue
        return s
    return None


def parse_suppressions(text: str, source: str = ".secscan/suppressions.toml") -> tuple[Suppression, ...]:
    """Parse the suppressions file (``[[suppression]]`` tables). Raises ConfigError naming the entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}; fix the syntax") from exc
    entries = data.get("suppression", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: 'suppression' must be an array of tables ([[suppression]])")
    return tuple(_suppression(entry, f"{source} suppression #{i}") for i, entry in enumerate(entries, 1))


def _suppression(entry: object, where: str) -> Suppression:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table with rule or fingerprint, and reason")
    unknown = set(entry) - {"rule", "fingerprint", "tool", "path", "reason", "expires", "status"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; remove them")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{where}: 'reason' is required; say why the finding is suppressed")
    if entry.get("rule") is None and entry.get("fingerprint") is None:
        raise ConfigError(f"{where}: give 'rule' or 'fingerprint' to say what it suppresses")
    for key in ("rule", "fingerprint", "tool", "path"):
        if key in entry and not isinstance(entry[key], str):
            raise ConfigError(f"{where}: '{key}' must be a string")
    expires = entry.get("expires")
    if isinstance(expires, datetime):
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    elif isinstance(expires, date):
        expires = end_of_day(expires)
    elif expires is not None:
        raise ConfigError(f"{where}: 'expires' must be a TOML date like 2025-12-31")
    try:
        status = TriageStatus(entry.get("status", TriageStatus.ACCEPTED_RISK.value))
    except ValueError:
        raise ConfigError(f"{where}: 'status' must be 'false-positive' or 'accepted-risk'") from None
    if status is TriageStatus.OPEN:
        raise ConfigError(f"{where}: 'status' must be 'false-positive' or 'accepted-risk'")
    tool = entry.get("tool")
    return Suppression(
        reason=reason.strip(),
        rule=entry.get("rule"),
        fingerprint=entry.get("fingerprint"),
        tool=None if tool is None else ToolName(tool),
        path=entry.get("path"),
        expires=expires,
        status=status,
    )
