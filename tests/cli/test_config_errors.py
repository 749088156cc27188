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


_TOKEN = "ghp_" + "Qz9xW8vU7tS6rR5qP4oN3mM2lL1kK0jJ9iHx"
_HOOK = "https://hooks.slack.com/services/T0000/B0000/" + "Zq8SlackHookSecretXYZ12"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (f'[scan]\nfail_on = "{_TOKEN}"\n', "(got '[REDACTED]')"),
        (f'[github]\nrepository = "o/r"\ntoken_file = "{_TOKEN}"\n', "token_file [REDACTED]: No such file"),
        (f'[notify.chat]\ntype = "slack"\nwebhook_url_env = "{_HOOK}"\n', "is not the name of an environment variable"),
        ('[notify.hook]\ntype = "webhook"\nurl_env = "Zq8-Hook.Secret/1"\n', "is not the name of an environment variable"),
    ],
    ids=["bad-value", "token-as-file", "url-as-variable", "secret-as-variable"],
)
def test_a_credential_put_in_the_wrong_setting_is_not_repeated_in_the_error(
    tmp_path: Path, toml: str, expected: str
) -> None:
    """The error line quoted the value: a token written where its file or variable's name goes
    reached stderr (CI logs, the journal), which no log filter sees."""
    repo = small_repo(tmp_path / "repo")
    config = tmp_path / "c.toml"
    config.write_text(toml)
    upload = ("--upload",) if "[github]" in toml else ()
    proc = secscan("run", repo, "--config", config, *upload, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    for secret in ("Qz9xW8vU7tS6", "Zq8SlackHook", "Zq8-Hook"):
        assert secret not in proc.stderr
