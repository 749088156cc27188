"""Schedules and the [daemon] configuration: cron meaning, slot arithmetic, one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secscan.config.daemon import DaemonConfig
from secscan.config.schedule import cron_trigger, next_fire, previous_fire
from secscan.config.settings import build_settings, load_settings
from secscan.core.errors import ConfigError

T = datetime(2026, 11, 26, 14, 30, 7, tzinfo=UTC)  # a Thursday


def test_default_nightly_is_two_in_the_morning_utc() -> None:
    trigger = cron_trigger(DaemonConfig().nightly, "UTC")
    assert next_fire(trigger, T) == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert previous_fire(trigger, T) == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def test_day_of_week_numbers_have_the_crontab_meaning() -> None:
    # crontab: 0 and 7 are Sunday, 1 is Monday (APScheduler 3.x alone would read 0 as Monday)
    sunday = next_fire(cron_trigger("0 3 * * 0", "UTC"), T)
    assert sunday is not None and sunday.weekday() == 6
    assert next_fire(cron_trigger("0 3 * * 7", "UTC"), T) == sunday
    monday = next_fire(cron_trigger("0 3 * * 1-1", "UTC"), T)
    assert monday is not None and monday.weekday() == 0


def test_six_fields_add_seconds() -> None:
    trigger = cron_trigger("*/5 * * * * *", "UTC")
    assert next_fire(trigger, T) == T.replace(second=10)
    assert previous_fire(trigger, T) == T.replace(second=5)
    assert previous_fire(trigger, T.replace(second=5)) == T.replace(second=5)  # at a fire time: that one


def test_previous_fire_looks_back_over_sparse_schedules() -> None:
    yearly = cron_trigger("0 0 1 1 *", "UTC")
    assert previous_fire(yearly, T) == datetime(2026, 1, 1, tzinfo=UTC)


def test_time_zone_is_honoured() -> None:
    trigger = cron_trigger("0 2 * * *", "Europe/Berlin")
    found = next_fire(trigger, T)
    assert found is not None and found.astimezone(UTC) == datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("daemon", "key"),
    [
        ({"nightly": "0 2 * *"}, "daemon.nightly"),
        ({"maintenance": "61 * * * *"}, "daemon.maintenance"),
        ({"timezone": "Mars/Olympus"}, "daemon.timezone"),
        ({"health_listen": "localhost:80"}, "daemon.health_listen"),
        ({"health_listen": "127.0.0.1:99999"}, "daemon.health_listen"),
        ({"sla_sweep_every": 0}, "daemon.sla_sweep_every"),
        ({"targets": [{"path": "/x", "remote": "origin"}]}, "daemon.targets.0"),
        (
            {"targets": [{"path": "/x", "remote": "origin", "branch": "--upload-pack=evil"}]},
            "daemon.targets.0.branch",
        ),
        ({"targets": [{"path": "/a/app"}, {"path": "/b/app"}]}, "daemon"),
        ({"surprise": 1}, "daemon.surprise"),
    ],
)
def test_bad_daemon_settings_are_one_line_errors_naming_the_key(daemon: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_settings({"daemon": daemon})
    message = str(info.value)
    assert f"'{key}'" in message and "\n" not in message


def test_daemon_section_is_refused_from_a_scanned_repository(tmp_path: Path) -> None:
    (tmp_path / "secscan.toml").write_text('[daemon]\nnightly = "* * * * *"\n')
    with pytest.raises(ConfigError, match=r"\[daemon\] comes from the scanned repository"):
        load_settings(None, tmp_path)


def test_a_full_daemon_section_validates(tmp_path: Path) -> None:
    config = tmp_path / "secscan.toml"
    config.write_text(
        '[daemon]\nnightly = "15 1 * * 1-5"\nsla_sweep_every = 60\ncatch_up_grace = 3600\n'
        'health_listen = "[::1]:0"\n[daemon.sentry]\ndsn = "https://k@sentry.example/1"\n'
        '[[daemon.targets]]\npath = "/srv/repos/app"\nremote = "origin"\nbranch = "main"\n'
        '[[daemon.targets]]\npath = "/srv/repos/lib"\nname = "lib-core"\nscanners = ["bandit"]\n'
    )
    daemon = load_settings(config).daemon
    assert [t.target_name for t in daemon.targets] == ["app", "lib-core"]
    assert daemon.listen_address == ("::1", 0)
    assert daemon.catch_up_grace == timedelta(hours=1).total_seconds()
