"""The SLA engine at its edges: exact due time, pause, reopen, expiry in the past, policy change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secscan.config.policy import load_sla_policy
from secscan.core import sla
from secscan.core.errors import ConfigError
from secscan.core.model import Severity
from secscan.core.sla import ReopenPolicy, SlaPolicy, SlaStatus

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def policy(reopen: ReopenPolicy = ReopenPolicy.RESTART, **windows: timedelta | None) -> SlaPolicy:
    base: dict[Severity, timedelta | None] = {
        Severity.CRITICAL: 2 * H,
        Severity.HIGH: 24 * H,
        Severity.MEDIUM: timedelta(days=7),
        Severity.LOW: timedelta(days=30),
        Severity.INFO: None,
    }
    base.update({Severity(k): v for k, v in windows.items()})
    return SlaPolicy(windows=base, due_soon_fraction=0.75, reopen=reopen)


def test_bundled_policy_has_the_documented_windows() -> None:
    p = load_sla_policy()
    assert p.windows == policy().windows
    assert p.due_soon_fraction == 0.75
    assert p.reopen is ReopenPolicy.RESTART


def test_override_file_is_merged_key_by_key(tmp_path: Path) -> None:
    override = tmp_path / "sla.toml"
    override.write_text('[windows]\ncritical = "4h"\n[clock]\nreopen = "resume"\n')
    p = load_sla_policy(override)
    assert p.window(Severity.CRITICAL) == 4 * H
    assert p.window(Severity.HIGH) == 24 * H
    assert p.reopen is ReopenPolicy.RESUME


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[windows]\ncritical = "soon"', "windows.critical"),
        ("[clock]\ndue-soon-fraction = 1.5", "due-soon-fraction"),
        ('[clock]\nreopen = "maybe"', "clock.reopen"),
        ("[windows", "not valid TOML"),
        ('[windows]\ncritcal = "1h"', "unknown key 'windows.critcal'"),
        ("[clock]\ndue_soon_fraction = 0.5", "unknown key 'clock.due_soon_fraction'"),
        ("[clock]\ndue-soon-fraction = true", "'clock.due-soon-fraction' = true"),
        ("[clock]\ndue-soon-fraction = 0", "'clock.due-soon-fraction' = 0"),
        ('[windows]\nhigh = "0h"', "'windows.high' = '0h'"),
        ('[windows]\nhigh = "99999999999d"', "'windows.high' = '99999999999d'"),
        ("[windows]\nhigh = 24", "'windows.high' = 24"),
        ("[escalation]\nafter = 1", "unknown key 'escalation'"),
    ],
)
def test_bad_policy_is_a_config_error_naming_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    override = tmp_path / "sla.toml"
    override.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_sla_policy(override)
    message = str(caught.value)
    assert message.startswith(f"SLA policy {override}: ") or "not valid TOML" in message, message
    assert fragment in message and "\n" not in message, message


def test_the_longest_window_is_ten_years(tmp_path: Path) -> None:
    override = tmp_path / "sla.toml"
    override.write_text('[windows]\nlow = "3660d"\n')
    assert load_sla_policy(override).window(Severity.LOW) == timedelta(days=3660)


def test_due_time_is_start_plus_window() -> None:
    clock = sla.start(T0)
    assert sla.due_at(clock, Severity.CRITICAL, policy()) == T0 + 2 * H
    assert sla.due_at(clock, Severity.INFO, policy()) is None
    assert sla.status(clock, Severity.INFO, policy(), T0 + timedelta(days=999)) is SlaStatus.NONE


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (timedelta(0), SlaStatus.WITHIN),
        (timedelta(minutes=89, seconds=59), SlaStatus.WITHIN),
        (timedelta(minutes=90), SlaStatus.DUE_SOON),  # exactly 75 % used
        (2 * H, SlaStatus.DUE_SOON),  # exactly on the due time: not yet breached
        (2 * H + timedelta(microseconds=1), SlaStatus.BREACHED),
    ],
)
def test_status_at_the_edges(elapsed: timedelta, expected: SlaStatus) -> None:
    assert sla.status(sla.start(T0), Severity.CRITICAL, policy(), T0 + elapsed) is expected


def test_fixed_exactly_on_the_due_time_is_met_and_one_second_later_breached() -> None:
    p = policy()
    on_time = sla.pause(sla.start(T0), T0 + 2 * H)
    late = sla.pause(sla.start(T0), T0 + 2 * H + timedelta(seconds=1))
    later = T0 + timedelta(days=30)
    assert sla.status(on_time, Severity.CRITICAL, p, later, fixed=True) is SlaStatus.MET
    assert sla.status(late, Severity.CRITICAL, p, later, fixed=True) is SlaStatus.BREACHED


def test_pause_freezes_the_status_and_resume_excludes_the_pause() -> None:
    p = policy()
    paused = sla.pause(sla.start(T0), T0 + H)
    assert sla.status(paused, Severity.CRITICAL, p, T0 + 100 * H) is SlaStatus.WITHIN
    assert sla.next_change_at(paused, Severity.CRITICAL, p, T0 + 100 * H) is None
    assert sla.pause(paused, T0 + 5 * H) == paused  # a second pause keeps the first instant
    resumed = sla.resume(paused, T0 + 10 * H)
    assert resumed.paused == 9 * H
    assert sla.due_at(resumed, Severity.CRITICAL, p) == T0 + 11 * H
    assert sla.status(resumed, Severity.CRITICAL, p, T0 + 11 * H) is SlaStatus.DUE_SOON
    assert sla.status(resumed, Severity.CRITICAL, p, T0 + 11 * H + timedelta(seconds=1)) is SlaStatus.BREACHED


def test_reopen_after_fix_restart_gives_a_fresh_window() -> None:
    fixed = sla.pause(sla.start(T0), T0 + H)
    clock = sla.reopen(fixed, T0 + 50 * H, policy(ReopenPolicy.RESTART))
    assert clock == sla.start(T0 + 50 * H)
    assert sla.due_at(clock, Severity.CRITICAL, policy()) == T0 + 52 * H


def test_reopen_after_fix_resume_continues_the_old_clock() -> None:
    fixed = sla.pause(sla.start(T0), T0 + H)  # one hour used
    clock = sla.reopen(fixed, T0 + 50 * H, policy(ReopenPolicy.RESUME))
    assert clock.running
    assert sla.due_at(clock, Severity.CRITICAL, policy()) == T0 + 51 * H  # one hour left


def test_resume_at_an_expiry_in_the_past_counts_from_the_expiry() -> None:
    """A triage that expired yesterday resumes the clock at the expiry, not at the next look."""
    p = policy()
    paused = sla.pause(sla.start(T0), T0 + H)
    expiry = T0 + 10 * H
    clock = sla.resume(paused, expiry)
    assert sla.status(clock, Severity.CRITICAL, p, expiry + H) is SlaStatus.DUE_SOON  # one hour was left
    assert sla.status(clock, Severity.CRITICAL, p, expiry + H + timedelta(seconds=1)) is SlaStatus.BREACHED
    assert sla.status(clock, Severity.CRITICAL, p, expiry + timedelta(minutes=30)) is SlaStatus.DUE_SOON


def test_resume_before_the_pause_never_goes_backwards() -> None:
    paused = sla.pause(sla.start(T0), T0 + H)
    assert sla.resume(paused, T0).paused == timedelta(0)


def test_a_change_of_policy_moves_the_due_time() -> None:
    clock = sla.start(T0)
    loose, strict = policy(), policy(high=2 * H)
    assert sla.status(clock, Severity.HIGH, loose, T0 + 3 * H) is SlaStatus.WITHIN
    assert sla.status(clock, Severity.HIGH, strict, T0 + 3 * H) is SlaStatus.BREACHED
    assert sla.due_at(clock, Severity.HIGH, strict) == T0 + 2 * H


def test_next_change_walks_within_due_soon_breached() -> None:
    p, clock = policy(), sla.start(T0)
    first = sla.next_change_at(clock, Severity.CRITICAL, p, T0)
    assert first == T0 + timedelta(minutes=90)
    second = sla.next_change_at(clock, Severity.CRITICAL, p, first)
    assert second is not None and second > T0 + 2 * H
    assert sla.status(clock, Severity.CRITICAL, p, second) is SlaStatus.BREACHED
    assert sla.next_change_at(clock, Severity.CRITICAL, p, second) is None
    assert sla.next_change_at(clock, Severity.CRITICAL, p, T0, fixed=True) is None
