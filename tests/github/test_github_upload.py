"""Uploads through the outbox to a fake GitHub on loopback: receipts, retries, dead letters,
idempotency, restarts and the token canary."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import types
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from github_fakes import BANDIT, CANARY, PIP_AUDIT, SECRETS, Clock, FakeGithub, Reply, finding, scan, scanner

from secscan.app import upload as commands
from secscan.app.deliver import deliver_uploads
from secscan.app.tracking import record_run
from secscan.config.policy import load_policy, load_sla_policy
from secscan.config.settings import Settings
from secscan.core.model import ScannerStatus, ScanRun, Severity
from secscan.core.ports.outbox import OutboxStatus
from secscan.core.ports.uploads import UploadStatus
from secscan.delivery.github import outbox as github_outbox
from secscan.delivery.loop import DeliveryReport
from secscan.report.sarif import build_sarif
from secscan.store import Store, open_store

REPO_ROOT = Path(__file__).resolve().parents[2]


def _record(
    store: Store, root: Path, clock: Clock, *, run_id: str = "20260105T020000Z-00000001",
    failed: ScannerStatus | None = None,
) -> tuple[ScanRun, dict[str, Any]]:  # fmt: skip
    findings = [
        finding(BANDIT, "B602", "src/app.py", 2, Severity.HIGH, 1),
        finding(BANDIT, "B404", "src/app.py", 1, Severity.LOW, 2),
    ]
    deps = [finding(PIP_AUDIT, "PYSEC-2024-1", "requirements.txt", 1, Severity.CRITICAL, 3)]
    run = scan(root, (scanner(BANDIT, findings), scanner(SECRETS, []),
                      scanner(PIP_AUDIT, deps, failed or ScannerStatus.OK)), run_id, clock())  # fmt: skip
    recorded = record_run(store, run, clock(), load_sla_policy())
    return run, build_sarif(run, load_policy(), recorded.baseline)


def _deliver(store: Store, settings: Settings, clock: Clock, env: dict[str, str]) -> Any:
    return deliver_uploads(store, settings, clock=clock, sleep=lambda s: None, env=env)


def test_each_ok_tool_is_uploaded_once_and_its_receipt_stored(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    root, sha = git_repo
    run, sarif = _record(store, root, clock)
    settings = make_settings()
    assert github_outbox.enqueue_run(store, run, sarif, settings, clock()) == 3
    report = _deliver(store, settings, clock, env)
    assert report.delivered == 3 and not report.dead
    bodies = [a["body"] for a in fake_github.accepted]
    assert {b["tool_name"] for b in bodies} == {"bandit", "detect-secrets", "pip-audit"}
    for body in bodies:
        assert body["commit_sha"] == sha and body["ref"] == "refs/heads/main"
        assert body["checkout_uri"] == root.resolve().as_uri() + "/"
        assert body["started_at"] == "2026-01-05T02:00:00Z"
    receipts = {r.category: r for r in store.uploads(run_id=run.run_id)}
    assert set(receipts) == {"secscan/bandit", "secscan/detect-secrets", "secscan/pip-audit"}
    assert all(r.status is UploadStatus.COMPLETE and r.sarif_id and r.analyses_url for r in receipts.values())
    assert receipts["secscan/bandit"].results == 2 and receipts["secscan/detect-secrets"].results == 0
    assert {a["id"] for a in fake_github.accepted} == {r.sarif_id for r in receipts.values()}


def test_502_503_502_then_202_gives_one_analysis_and_a_receipt(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    run, sarif = _record(store, git_repo[0], clock, failed=ScannerStatus.FAILED)
    settings = make_settings()
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    fake_github.script("upload", Reply(502), Reply(503, body={"message": "unavailable"}), Reply(502))
    for attempt in range(3):
        report = _deliver(store, settings, clock, env)
        assert report.retried == 1, attempt
        (receipt,) = store.uploads(run_id=run.run_id)
        assert receipt.status is UploadStatus.QUEUED and receipt.errors[0].startswith("HTTP 50")
        assert _deliver(store, settings, clock, env).retried == 0  # not due yet: backoff
        clock.advance(3600)
    assert _deliver(store, settings, clock, env).delivered == 1
    assert len(fake_github.calls("POST", "/sarifs")) == 4 and len(fake_github.accepted) == 1
    (receipt,) = store.uploads(run_id=run.run_id)
    assert receipt.status is UploadStatus.COMPLETE and receipt.sarif_id == fake_github.accepted[0]["id"]
    (item,) = store.outbox("uploads").items()
    assert item.status is OutboxStatus.DELIVERED and item.attempts == 4


@pytest.mark.parametrize(
    ("reply", "wait_s"),
    [
        (Reply(429, {"Retry-After": "120"}, {"message": "slow down"}), 120),
        (Reply(403, {}, {"message": "You have exceeded a secondary rate limit."}), 60),
        (Reply(429, {}, {"message": "secondary rate limit"}), 60),
    ],
    ids=["429-retry-after", "403-secondary-no-header", "429-no-header"],
)
def test_rate_limits_wait_as_long_as_github_asks(
    reply: Reply, wait_s: int, store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub,
    make_settings: Callable[..., Settings], clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings()
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    fake_github.script("upload", reply)
    start = clock()
    assert _deliver(store, settings, clock, env).retried == 1
    (item,) = store.outbox("uploads").items()
    assert item.next_attempt_at >= start + timedelta(seconds=wait_s)
    assert "rate limited" in (item.last_error or "")
    clock.advance(wait_s - 1)
    assert _deliver(store, settings, clock, env).delivered == 0
    clock.now = item.next_attempt_at
    assert _deliver(store, settings, clock, env).delivered == 1
    assert len(fake_github.accepted) == 1


def test_a_primary_rate_limit_waits_until_the_reset(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings()
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    reset = int(clock().timestamp()) + 900
    fake_github.script("upload", Reply(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                                       {"message": "API rate limit exceeded"}))  # fmt: skip
    _deliver(store, settings, clock, env)
    (item,) = store.outbox("uploads").items()
    assert item.status is OutboxStatus.PENDING
    assert item.next_attempt_at.timestamp() >= reset


@pytest.mark.parametrize(
    ("status", "message"),
    [(413, "Payload Too Large"), (400, "Invalid sarif"), (404, "Not Found"),
     (403, "Advanced Security must be enabled for this repository")],
)  # fmt: skip
def test_requests_that_cannot_succeed_are_dead_letters_with_their_reason(
    status: int, message: str, store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub,
    make_settings: Callable[..., Settings], clock: Clock, env: dict[str, str], db_path: Path,
) -> None:  # fmt: skip
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings()
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    fake_github.script("upload", Reply(status, body={"message": message}))
    report = _deliver(store, settings, clock, env)
    assert len(report.dead) == 1
    clock.advance(86_400)
    assert _deliver(store, settings, clock, env) == DeliveryReport()  # never retried
    assert len(fake_github.calls("POST", "/sarifs")) == 1
    (receipt,) = store.uploads(run_id=run.run_id)
    assert receipt.status is UploadStatus.DEAD and receipt.errors == (f"HTTP {status}: {message}",)
    view = commands.upload_status(store)
    assert [i.last_error for i in view.dead] == [f"HTTP {status}: {message}"]
    assert view.depth[OutboxStatus.DEAD] == 1


def test_failed_processing_is_recorded_and_raises_an_alert(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    raised: list[tuple[str, str, str]] = []
    events = types.ModuleType("secscan.delivery.notify.events")
    events.on_upload_failed = lambda st, target, category, detail, s, now: raised.append(  # type: ignore[attr-defined]
        (target, category, detail)
    )
    import secscan.delivery.notify

    monkeypatch.setitem(sys.modules, "secscan.delivery.notify.events", events)
    monkeypatch.setattr(secscan.delivery.notify, "events", events, raising=False)
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings()
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    fake_github.processing.extend(["pending", "failed"])
    fake_github.processing_errors.append("locationFromSarifResult: expected artifact location")
    with caplog.at_level(logging.ERROR):
        assert _deliver(store, settings, clock, env).delivered == 1
    (receipt,) = store.uploads(run_id=run.run_id)
    assert receipt.status is UploadStatus.FAILED
    assert receipt.errors == ("locationFromSarifResult: expected artifact location",)
    assert (
        raised == [("demo", "secscan/bandit", raised[0][2])] and "expected artifact location" in raised[0][2]
    )
    assert "could not process" in caplog.text


def test_an_upload_still_processing_is_polled_later_not_posted_again(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings(wait_for_processing_s=0)
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    fake_github.processing.extend(["pending"])
    assert _deliver(store, settings, clock, env).retried == 1
    (receipt,) = store.uploads(run_id=run.run_id)
    assert receipt.status is UploadStatus.PENDING and receipt.sarif_id
    clock.advance(3600)
    assert _deliver(store, settings, clock, env).delivered == 1
    assert len(fake_github.calls("POST", "/sarifs")) == 1
    assert store.uploads(run_id=run.run_id)[0].status is UploadStatus.COMPLETE


def test_one_analysis_per_commit_and_category(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    settings = make_settings()
    run, sarif = _record(store, git_repo[0], clock)
    assert github_outbox.enqueue_run(store, run, sarif, settings, clock()) == 3
    _deliver(store, settings, clock, env)
    clock.advance(60)
    again, sarif2 = _record(store, git_repo[0], clock, run_id="20260105T030000Z-00000002")
    assert github_outbox.enqueue_run(store, again, sarif2, settings, clock()) == 0
    _deliver(store, settings, clock, env)
    assert len(fake_github.accepted) == 3
    other = make_settings(commit_sha="a" * 40)
    assert github_outbox.enqueue_run(store, again, sarif2, other, clock()) == 3


def test_a_failed_scanner_uploads_nothing_for_its_category_so_its_alerts_stay_open(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    run, sarif = _record(store, git_repo[0], clock)
    github_outbox.enqueue_run(store, run, sarif, make_settings(), clock())
    _deliver(store, make_settings(), clock, env)
    pip_alerts = [n for n, a in fake_github.alerts.items() if a["tool"]["name"] == "pip-audit"]
    assert pip_alerts
    clock.advance(3600)
    later, sarif2 = _record(store, git_repo[0], clock, run_id="20260105T030000Z-00000002",
                            failed=ScannerStatus.TIMEOUT)  # fmt: skip
    settings = make_settings(commit_sha="b" * 40)
    assert github_outbox.enqueue_run(store, later, sarif2, settings, clock()) == 2
    _deliver(store, settings, clock, env)
    assert [a["body"]["tool_name"] for a in fake_github.accepted[3:]] == ["bandit", "detect-secrets"]
    assert all(fake_github.alerts[n]["state"] == "open" for n in pip_alerts)
    assert {r.category for r in store.uploads(run_id=later.run_id)} == {
        "secscan/bandit",
        "secscan/detect-secrets",
    }


def test_a_restart_with_a_pending_upload_delivers_it_exactly_once(
    db_path: Path, git_repo: tuple[Path, str], fake_github: FakeGithub, clock: Clock, tmp_path: Path,
    make_settings: Callable[..., Settings],
) -> None:  # fmt: skip
    with open_store(db_path) as first:
        run, sarif = _record(first, git_repo[0], clock)
        github_outbox.enqueue_tools(first, run, sarif, {"bandit"}, make_settings(), clock())
    # the process stops here; a new one (a new store on the same database) delivers
    config = tmp_path / "secscan.toml"
    config.write_text(f'[github]\nrepository = "octo/hello"\napi_url = "{fake_github.url}"\n'
                      "poll_interval_s = 0.01\n")  # fmt: skip
    code = (
        "import sys; from pathlib import Path; from secscan.app import upload as commands;"
        "from secscan.config.settings import load_settings;"
        "o = commands.upload(sys.argv[1], load_settings(Path(sys.argv[2])));"
        "print(o.report.delivered)"
    )
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code, str(db_path), str(config)], cwd=REPO_ROOT,
                             env={"GITHUB_TOKEN": CANARY, "PATH": "/usr/bin:/bin"}, capture_output=True,
                             text=True, timeout=60, check=True)  # fmt: skip
        assert CANARY not in out.stdout + out.stderr
    assert len(fake_github.calls("POST", "/sarifs")) == 1
    with open_store(db_path) as second:
        assert second.uploads()[0].status is UploadStatus.COMPLETE


def test_a_crash_after_github_accepted_the_file_does_not_post_it_again(
    db_path: Path, git_repo: tuple[Path, str], fake_github: FakeGithub,
    make_settings: Callable[..., Settings], clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    settings = make_settings(wait_for_processing_s=0)
    fake_github.processing.extend(["pending"])
    with open_store(db_path) as first:
        run, sarif = _record(first, git_repo[0], clock)
        github_outbox.enqueue_tools(first, run, sarif, {"bandit"}, settings, clock())
        (item,) = first.outbox("uploads").due(clock())
        handler = github_outbox.handlers(settings, first, clock=clock, env=env)[github_outbox.KIND]
        handler(item)  # 202 received and recorded; the process dies before the outbox is updated
    with open_store(db_path) as second:
        assert _deliver(second, settings, clock, env).delivered == 1
        assert second.uploads()[0].status is UploadStatus.COMPLETE
    assert len(fake_github.calls("POST", "/sarifs")) == 1


def test_the_token_never_reaches_logs_the_database_or_errors(
    db_path: Path, git_repo: tuple[Path, str], fake_github: FakeGithub,
    make_settings: Callable[..., Settings], clock: Clock, env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    echo = {"message": f"Bad credentials: {CANARY}"}  # a hostile or buggy server echoes the token
    fake_github.script("upload", Reply(502, body=echo), Reply(400, body=echo))
    fake_github.processing.extend(["failed"])
    fake_github.processing_errors.append(f"token {CANARY} rejected")
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG), open_store(db_path) as store:
        run, sarif = _record(store, git_repo[0], clock)
        settings = make_settings()
        github_outbox.enqueue_tools(
            store, run, sarif, {"bandit", "detect-secrets", "pip-audit"}, settings, clock()
        )
        for _ in range(3):
            report = _deliver(store, settings, clock, env)
            texts += [i.last_error or "" for i in report.dead]
            clock.advance(3600)
        fake_github.script("alerts", Reply(401, body=echo))
        from secscan.app.github_sync import sync_dismissals

        with pytest.raises(Exception) as raised:
            sync_dismissals(store, settings, clock(), env=env)
        texts.append(str(raised.value))
        texts += [json.dumps(r.__dict__, default=str) for r in store.uploads()]
    assert any(r.status is UploadStatus.FAILED for r in open_store(db_path).uploads())
    dump = "\n".join(sqlite3.connect(db_path).iterdump())
    assert CANARY not in dump
    assert CANARY not in caplog.text
    assert all(CANARY not in t for t in texts)
    assert "[REDACTED]" in dump  # the echoed token was scrubbed, not just absent


def test_an_unreachable_api_is_retried_with_the_reason_on_the_receipt(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings(api_url="http://127.0.0.1:9", timeout_s=2)  # nothing listens on port 9
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    assert _deliver(store, settings, clock, env).retried == 1
    (receipt,) = store.uploads(run_id=run.run_id)
    assert receipt.status is UploadStatus.QUEUED and "failed" in receipt.errors[0]
    assert store.outbox("uploads").items()[0].status is OutboxStatus.PENDING


def test_an_incomplete_tool_is_never_uploaded(
    store: Store, git_repo: tuple[Path, str], make_settings: Callable[..., Settings], clock: Clock
) -> None:
    """Its run holds only part of its results: uploaded, it would close the rest's alerts."""
    run, sarif = _record(store, git_repo[0], clock, failed=ScannerStatus.INCOMPLETE)
    assert github_outbox.enqueue_run(store, run, sarif, make_settings(), clock()) == 2
    assert {r.category for r in store.uploads(run_id=run.run_id)} == {"secscan/bandit", "secscan/detect-secrets"}


@pytest.mark.parametrize("errors", [7, {"a": 1}, "one string", [{"message": "x"}, 3]])
def test_a_status_with_errors_of_the_wrong_type_still_completes_the_upload(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str], errors: Any,
) -> None:  # fmt: skip
    """A malformed ``errors`` (the spec: a list of strings, or null) must not turn a finished
    upload into an internal error retried for ever."""
    run, sarif = _record(store, git_repo[0], clock)
    settings = make_settings()
    github_outbox.enqueue_tools(store, run, sarif, {"bandit"}, settings, clock())
    fake_github.script("status", Reply(200, body={"processing_status": "complete", "errors": errors}))
    assert _deliver(store, settings, clock, env).delivered == 1
    (receipt,) = store.uploads(run_id=run.run_id)
    assert receipt.status is UploadStatus.COMPLETE
    assert all(isinstance(e, str) for e in receipt.errors)


def test_an_answer_nested_past_the_stack_is_read_as_no_json() -> None:
    """json.loads raises RecursionError, not ValueError, for "[[[[...": from the API it ended the
    upload attempt and `secscan github sync` as internal errors."""
    from datetime import UTC, datetime

    from secscan.delivery.github.api import classify, json_body
    from secscan.delivery.http import HttpResponse
    from secscan.delivery.verdicts import Retry

    nested = HttpResponse(502, {}, b"[" * 200_000)
    assert json_body(nested) is None
    verdict = classify(nested, datetime(2026, 1, 5, tzinfo=UTC))
    assert isinstance(verdict, Retry) and verdict.error.startswith("HTTP 502: [[[")
