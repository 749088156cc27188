"""The GitHub token never reaches a log line, at any verbosity and in both log formats.

Logging is set up as the CLI does (``cli._setup_logging``); uploads go to the fake GitHub on
loopback, one is retried (502), one is a dead letter whose error body echoes the token, and the
dismissal sync fails with 401: stderr must not hold the token.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from github_fakes import CANARY, Clock, FakeGithub, Reply
from test_github_upload import _deliver, _record

from secscan.cli import main as cli
from secscan.config.settings import Settings
from secscan.delivery.github import outbox as github_outbox
from secscan.store import Store


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("verbosity", [0, 1, 2])
def test_the_token_is_never_logged(
    verbosity: int, log_format: str, store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub,
    make_settings: Callable[..., Settings], clock: Clock, env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    cli._setup_logging(verbosity, log_format)
    echo = {"message": f"Bad credentials: {CANARY}"}  # a hostile or buggy server echoes the token
    fake_github.script("upload", Reply(502, body=echo), Reply(400, body=echo))
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings()
    github_outbox.enqueue_run(store, run, sarif, settings, clock())
    for _ in range(2):
        _deliver(store, settings, clock, env)
        clock.advance(3600)
    fake_github.script("alerts", Reply(401, body=echo))
    from secscan.app.github_sync import sync_dismissals

    with pytest.raises(Exception):  # noqa: B017 - only its text matters here
        sync_dismissals(store, settings, clock(), env=env)
    assert len(fake_github.calls("POST", "/sarifs")) >= 3
    err = capsys.readouterr().err
    if verbosity >= 1:
        assert "uploaded" in err or "dead letter" in err  # the log is there, and it is clean
    assert CANARY not in err, f"the token was logged at -{'v' * verbosity} ({log_format})"
