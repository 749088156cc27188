"""A configuration error is one line on stderr, exit 2, naming the key as written in the file and
the values it takes; never pydantic's internals (its discriminators, its class names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_helpers import secscan, small_repo

INTERNALS = (
    "discriminator",
    "tag ",
    "instance of",
    "ScanConfig",
    "Channel",
    "channels",
    ".email.",
    "Input should",
)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[notify.ops]\nurl_env = "HOOK"\n',
            "'notify.ops.type' is missing; set it to one of: pagerduty, slack, email, webhook, sentry",
        ),
        (
            '[notify.ops]\ntype = "irc"\n',
            "'notify.ops.type' is 'irc'; set it to one of: pagerduty, slack, email, webhook, sentry",
        ),
        (
            '[notify.mail]\ntype = "email"\nto = ["a@b.c"]\nfrom = "s@b.c"\n',
            "'notify.mail.smtp_host' is required",
        ),
        ("scan = 3\n", "'scan' should be a table"),
        ('[scan]\nexclude = "tests"\n', "'scan.exclude' should be a list"),
    ],
)
def test_config_error_is_one_line_naming_the_key(tmp_path: Path, toml: str, expected: str) -> None:
    repo = small_repo(tmp_path / "repo")
    config = tmp_path / "c.toml"
    config.write_text(toml)
    proc = secscan("run", repo, "--config", config, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0]
    assert not any(word in lines[0] for word in INTERNALS), lines[0]
    assert not (tmp_path / "secscan.sarif").exists()


def test_channel_types_are_the_unions_tags() -> None:
    from typing import get_args

    from secscan.config.schema.settings import Settings

    channels = Settings.model_fields["notify"].annotation.model_fields["channels"].annotation  # type: ignore[union-attr]
    members = get_args(get_args(get_args(channels)[1])[0])
    tags = {get_args(m.model_fields["type"].annotation)[0] for m in members}
    from secscan.config.notify import CHANNEL_TYPES

    assert tags == set(CHANNEL_TYPES)
