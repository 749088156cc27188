"""Every settings model is strict: a value of another TOML type is refused, never converted; and
every duration has an upper bound (a bool read as 1 s, "off" read as false and ``1e12`` seconds
overflowing the daemon's scheduler were all taken before)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from annotated_types import Ge, Gt, Le, Lt

from secscan.config.settings import build_settings
from secscan.core.areas import Area
from secscan.core.errors import ConfigError
from tests.core.test_settings_values import _models


def _refused(raw: dict[str, Any], *fragments: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_settings(raw, source=Path("c.toml"))
    message = str(caught.value)
    assert "\n" not in message and message.startswith("c.toml: "), message
    assert all(f in message for f in fragments), message


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"scanners": {"pip-audit": {"timeout": True}}}, "'scanners.pip-audit.timeout' should be a number"),
        ({"scanners": {"bandit": {"enabled": "off"}}}, "'scanners.bandit.enabled' should be true or false"),
        ({"scanners": {"bandit": {"enabled": 0}}}, "'scanners.bandit.enabled' should be true or false"),
        ({"scanners": {"bandit": {"timeout": "10"}}}, "'scanners.bandit.timeout' should be a number"),
        ({"scanners": {"bandit": {"shards": 2.0}}}, "'scanners.bandit.shards' should be a whole number"),
        ({"scanners": {"bandit": {"shards": True}}}, "'scanners.bandit.shards' should be a whole number"),
        ({"scanners": {"bandit": {"exclude": [1]}}}, "'scanners.bandit.exclude.0' should be a string"),
        ({"scanners": {"t": {"command": ["x"], "ok_exit_codes": ["0"]}}}, "'scanners.t.ok_exit_codes.0'"),
        (
            {"scanners": {"git-history": {"since": 1700000000}}},
            "'scanners.git-history.since' should be a date",
        ),
        ({"scan": {"fail_on": 1}}, "'scan.fail_on'"),
        ({"daemon": {"timezone": 0}}, "'daemon.timezone' should be a string"),
        ({"report": {"score_baseline": "95"}}, "'report.score_baseline' should be a number"),
        (
            {"notify": {"x": {"type": "slack", "rate_per_s": True}}},
            "'notify.x.rate_per_s' should be a number",
        ),
        ({"github": {"repository": "a/b", "upload_on_nightly": "yes"}}, "'github.upload_on_nightly'"),
        ({"cache": {"max_bytes": 1e9}}, "'cache.max_bytes' should be a whole number"),
    ],
)
def test_a_value_of_another_toml_type_is_refused(raw: dict[str, Any], key: str) -> None:
    _refused(raw, key)


@pytest.mark.parametrize("since", [date(2024, 1, 1), "2024-01-01"])
def test_a_day_is_a_toml_date_or_the_same_as_text(since: object) -> None:
    settings = build_settings({"scanners": {"git-history": {"since": since}}})
    assert settings.scanners["git-history"].since == date(2024, 1, 1)  # type: ignore[attr-defined]
    _refused({"scanners": {"git-history": {"since": "2024-13-01"}}}, "should be a date such as 2024-01-01")


def test_values_toml_writes_as_text_arrays_or_dates_still_convert(tmp_path: Path) -> None:
    settings = build_settings(
        {
            "scanners": {
                "bandit": {"timeout": 10, "exclude": ["tests/*"]},  # an integer is a float
                "git-history": {"since": date(2024, 1, 1)},
                "zizmor": {"persona": "auditor"},
            },
            "policy": {"severity": str(tmp_path / "s.toml")},
            "report": {"areas": {"gitleaks": "secrets"}, "format": "md"},
            "daemon": {"targets": [{"path": str(tmp_path)}]},
        },
        source=tmp_path / "c.toml",
    )
    assert settings.scanners["bandit"].timeout == 10.0 and isinstance(
        settings.scanners["bandit"].timeout, float
    )
    assert settings.scanners["bandit"].exclude == ("tests/*",)
    assert settings.scanners["git-history"].since == date(2024, 1, 1)  # type: ignore[attr-defined]
    assert settings.scanners["zizmor"].persona == "auditor"  # type: ignore[attr-defined]
    assert settings.policy.severity == tmp_path / "s.toml"
    assert settings.report.areas == {"gitleaks": Area.SECRETS}
    assert settings.daemon.targets[0].path == tmp_path


def _float_fields() -> list[tuple[str, str, Any]]:
    return [
        (model.__name__, name, info)
        for model in _models()
        for name, info in model.model_fields.items()
        if info.annotation in (float, float | None)
    ]


@pytest.mark.parametrize(
    ("model", "name", "info"), _float_fields(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_number_of_seconds_hours_or_rate_is_bounded_on_both_sides(
    model: str, name: str, info: Any
) -> None:
    kinds = {type(m) for m in info.metadata}
    assert kinds & {Le, Lt}, f"{model}.{name} has no upper bound"
    assert kinds & {Ge, Gt}, f"{model}.{name} has no lower bound"


def test_the_float_fields_are_all_found() -> None:
    assert len(_float_fields()) >= 20


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"daemon": {"sla_sweep_every": 1e12}}, "'daemon.sla_sweep_every'"),
        ({"daemon": {"delivery_every": 1e300}}, "'daemon.delivery_every'"),
        ({"daemon": {"heartbeat_every": 1e-9}}, "'daemon.heartbeat_every'"),
        ({"daemon": {"catch_up_grace": 1e12}}, "'daemon.catch_up_grace'"),
        ({"daemon": {"lock_wait": 1e12}}, "'daemon.lock_wait'"),
        ({"daemon": {"stop_timeout": 1e12}}, "'daemon.stop_timeout'"),
        ({"daemon": {"keep_runs_days": 10**9}}, "'daemon.keep_runs_days'"),
        ({"daemon": {"keep_delivered_days": 10**9}}, "'daemon.keep_delivered_days'"),
        ({"fleet": {"round_deadline": 1e12}}, "'fleet.round_deadline'"),
        ({"fleet": {"nightly_late": 1e12}}, "'fleet.nightly_late'"),
        ({"cache": {"online_ttl_hours": 1e12}}, "'cache.online_ttl_hours'"),
        ({"report": {"expected_every_hours": 1e12}}, "'report.expected_every_hours'"),
        ({"scanners": {"semgrep": {"rule_timeout": 1e12}}}, "'scanners.semgrep.rule_timeout'"),
        ({"github": {"repository": "a/b", "poll_interval_s": 1e12}}, "'github.poll_interval_s'"),
        ({"notify": {"x": {"type": "webhook", "timeout_s": 1e12}}}, "'notify.x.timeout_s'"),
        ({"notify": {"x": {"type": "webhook", "rate_per_s": 1e-300}}}, "'notify.x.rate_per_s'"),
    ],
)
def test_a_duration_that_cannot_be_meant_is_refused_naming_the_key(raw: dict[str, Any], key: str) -> None:
    _refused(raw, key)


def test_the_longest_durations_that_can_be_meant_are_taken() -> None:
    settings = build_settings(
        {
            "daemon": {"sla_sweep_every": 366 * 86400, "catch_up_grace": 0, "keep_runs_days": 3650},
            "cache": {"online_ttl_hours": 24 * 366},
            "scanners": {"bandit": {"timeout": 7 * 86400}},
        }
    )
    assert settings.daemon.sla_sweep_every == 366 * 86400
    assert settings.daemon.keep_runs_days == 3650
