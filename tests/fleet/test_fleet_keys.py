"""Round keys, target affinity over queues, and crons in Procrastinate's form (pure functions)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from secscan.daemon.fleet.keys import check_key, key_time, procrastinate_cron, queue_for, round_key


def test_a_round_key_is_its_scheduled_minute_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    assert round_key(datetime(2026, 12, 7, 3, 0, tzinfo=berlin)) == "2026-12-07T02:00Z"
    assert round_key(datetime(2026, 12, 7, 2, 0, 5, tzinfo=UTC)) == "2026-12-07T02:00:05Z"


def test_a_key_names_its_time_back_and_an_opaque_key_none() -> None:
    moment = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    assert key_time(round_key(moment)) == moment
    assert key_time(round_key(moment + timedelta(seconds=7))) == moment + timedelta(seconds=7)
    assert key_time("release-42") is None


@pytest.mark.parametrize("bad", ["", "two words", "x" * 201, "tab\there", "ünïcode"])
def test_a_key_with_spaces_or_beyond_printable_ascii_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="round key"):
        check_key(bad)


def test_each_target_always_goes_to_the_same_queue_and_targets_spread() -> None:
    queues = ("host-a", "host-b", "host-c")
    targets = [f"repo{i}" for i in range(300)]
    first = {t: queue_for(t, queues) for t in targets}
    assert first == {t: queue_for(t, tuple(reversed(queues))) for t in targets}  # order does not matter
    spread = Counter(first.values())
    assert set(spread) == set(queues) and min(spread.values()) > 60


def test_adding_a_queue_moves_only_the_targets_the_new_queue_takes() -> None:
    targets = [f"repo{i}" for i in range(300)]
    before = {t: queue_for(t, ("a", "b")) for t in targets}
    after = {t: queue_for(t, ("a", "b", "c")) for t in targets}
    moved = [t for t in targets if before[t] != after[t]]
    assert moved and all(after[t] == "c" for t in moved)


def test_a_leading_seconds_field_moves_to_croniter_s_place() -> None:
    assert procrastinate_cron("*/5 * * * * *") == "* * * * * */5"
    assert procrastinate_cron("0 2 * * *") == "0 2 * * *"
