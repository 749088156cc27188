"""An upload GitHub accepted but never finishes (``pending`` for ever, a ``processing_status``
the API does not document): polled for a bounded time, then a dead letter with one clear line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from github_fakes import Clock, FakeGithub
from test_github_upload import _deliver, _record

from secscan.config.settings import Settings
from secscan.core.ports.outbox import OutboxStatus
from secscan.core.ports.uploads import UploadStatus
from secscan.delivery.github import outbox as github_outbox
from secscan.delivery.github.uploader import PROCESSING_LIMIT
from secscan.store import Store


@pytest.mark.parametrize("status", ["queued-for-analysis", "pending"])
def test_an_upload_github_never_finishes_becomes_a_dead_letter_after_the_limit(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str], status: str,
) -> None:  # fmt: skip
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings(wait_for_processing_s=0)
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    fake_github.processing.extend([status] * 100)
    start = clock()
    box = store.outbox("uploads")
    for _ in range(40):  # hourly retries (the backoff's cap) used to go on for ever
        report = _deliver(store, settings, clock, env)
        if report.dead:
            break
        (item,) = box.items(OutboxStatus.PENDING)
        assert f"since {start:%Y-%m-%dT%H:%M:%SZ}" in (item.last_error or "")  # the first poll's time
        clock.advance(3601)
    else:
        pytest.fail("the upload is still polled after 40 hours")
    assert clock() - start >= PROCESSING_LIMIT  # not before the documented limit
    assert clock() - start < PROCESSING_LIMIT + timedelta(hours=2)
    (dead,) = box.items(OutboxStatus.DEAD)
    error = dead.last_error or ""
    shown = "last: pending" if status == "pending" else f"last: status {status!r}"
    assert "\n" not in error and "did not finish processing" in error and shown in error
    assert f"secscan upload --run {run.run_id}" in error
    (receipt,) = store.uploads(run_id=run.run_id)
    assert receipt.status is UploadStatus.DEAD and receipt.errors == (error,)
    assert len(fake_github.calls("POST", "/sarifs")) == 1  # polled, never posted again
