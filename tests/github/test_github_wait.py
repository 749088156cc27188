"""Nothing lost in a one-shot command (issue 13): ``secscan run --upload`` and ``secscan upload``
retry their uploads within the command, up to ``--upload-wait``, then exit 3 naming what is
still pending; a token that is not there is a dead letter or a usage error, never a retry for
ever. Time is a fake clock that ``sleep`` advances: nothing waits in wall time."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from github_fakes import CANARY, FakeGithub, Reply

from secscan.app import upload as commands
from secscan.app.deliver import deliver_uploads
from secscan.app.run import RunRequest, run
from secscan.app.tracking import record_run
from secscan.cli import main as cli
from secscan.config.settings import Settings
from secscan.core.model import ScannerStatus
from secscan.core.ports.outbox import OutboxStatus
from secscan.core.ports.uploads import UploadStatus
from secscan.delivery.github import outbox as github_outbox
from secscan.store import open_store

if TYPE_CHECKING:
    from secscan.app.deliver import DeliveryWait

TOOLS = ("bandit", "detect-secrets")


def _wait(seconds: float, time: FakeTime) -> DeliveryWait:
    from secscan.app.deliver import DeliveryWait  # here: the tests run (and fail) on code without it

    return DeliveryWait(seconds, time.clock, time.sleep)


@dataclass
class FakeTime:
    """``clock`` and ``sleep`` of a delivery wait: the real clock plus the time slept, which
    passes at once (so the fake is never behind what the store was told by the real clock)."""

    slept: list[float] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=sum(self.slept))

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)


def _run(root: Path, settings: Settings, tmp_path: Path, db: Path, wait: DeliveryWait | None) -> Any:
    request = RunRequest(
        target=root, settings=settings, sarif_path=tmp_path / "out.sarif", only=TOOLS, db=str(db),
        upload=True, delivery_wait=wait,
    )  # fmt: skip
    return run(request)


def test_two_502s_are_retried_within_the_run_and_every_tool_is_uploaded(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], tmp_path: Path,
    db_path: Path,
) -> None:  # fmt: skip
    """Both tools' first POSTs get a 502: the run used to exit with both uploads queued in a
    database that, in CI, dies with the runner."""
    fake_github.script("upload", Reply(502), Reply(502, body={"message": "bad gateway"}))
    time = FakeTime()
    result = _run(git_repo[0], make_settings(), tmp_path, db_path, _wait(120, time))
    assert result.undelivered == () and result.document["undelivered"] == []
    assert {a["body"]["tool_name"] for a in fake_github.accepted} == set(TOOLS)
    assert len(fake_github.calls("POST", "/sarifs")) == 4
    assert result.exit_code != 3 and {s.status for s in result.run.scanners} == {ScannerStatus.OK}
    # the retry waited for the backoff (15 to 30 s after a first failure), well within the bound
    assert 15 <= sum(time.slept) <= 31
    with open_store(db_path) as store:
        assert {r.status for r in store.uploads(run_id=result.run.run_id)} == {UploadStatus.COMPLETE}


def test_uploads_still_failing_when_the_wait_ends_exit_3_and_are_named(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], tmp_path: Path,
    db_path: Path,
) -> None:  # fmt: skip
    fake_github.script("upload", *[Reply(503, body={"message": "unavailable"})] * 50)
    time = FakeTime()
    result = _run(git_repo[0], make_settings(), tmp_path, db_path, _wait(120, time))
    assert int(result.exit_code) == 3
    assert {(u.outbox, u.name, u.status) for u in result.undelivered} == {
        ("uploads", "secscan/bandit", OutboxStatus.PENDING),
        ("uploads", "secscan/detect-secrets", OutboxStatus.PENDING),
    }
    assert all("HTTP 503: unavailable" in (u.error or "") for u in result.undelivered)
    assert sum(time.slept) <= 120  # the bound holds
    posts = len(fake_github.calls("POST", "/sarifs"))
    assert 4 <= posts <= 8  # retried within the run, by the backoff (15-30 s, 30-60 s, ...)
    (doc,) = [d for d in result.document["undelivered"] if d["name"] == "secscan/bandit"]
    assert doc["status"] == "pending" and doc["next_attempt_at"] is not None


def test_a_retry_after_beyond_the_wait_ends_it_at_once(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], tmp_path: Path,
    db_path: Path,
) -> None:  # fmt: skip
    """GitHub asks for 10 minutes: the run neither retries sooner nor sleeps past its bound."""
    fake_github.script("upload", *[Reply(429, {"Retry-After": "600"}, {"message": "slow down"})] * 2)
    time = FakeTime()
    result = _run(git_repo[0], make_settings(), tmp_path, db_path, _wait(120, time))
    assert int(result.exit_code) == 3 and time.slept == []
    assert len(fake_github.calls("POST", "/sarifs")) == 2
    for item in result.undelivered:
        assert item.next_attempt_at is not None and item.next_attempt_at >= time.now + timedelta(seconds=590)


def test_retry_after_is_honoured_within_the_wait(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], tmp_path: Path,
    db_path: Path,
) -> None:  # fmt: skip
    fake_github.script("upload", Reply(429, {"Retry-After": "90"}, {"message": "slow down"}))
    time = FakeTime()
    result = _run(git_repo[0], make_settings(), tmp_path, db_path, _wait(120, time))
    assert result.undelivered == () and len(fake_github.accepted) == 2
    # not sooner than GitHub asked: the sleep ends at the 429's time + 90 s (stored in whole
    # seconds), less what the real clock ran between the 429 and the sleep (a few ms, more on a
    # loaded machine: 89.98 s was seen)
    assert sum(time.slept) >= 89


def test_an_upload_github_accepted_does_not_hold_the_run_while_it_is_processed(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], tmp_path: Path,
    db_path: Path,
) -> None:  # fmt: skip
    """GitHub answered 202: the file is there, and GitHub processes it whether or not we poll."""
    fake_github.processing.extend(["pending"] * 100)
    time = FakeTime()
    settings = make_settings(wait_for_processing_s=0.05)
    result = _run(git_repo[0], settings, tmp_path, db_path, _wait(120, time))
    assert result.undelivered == () and int(result.exit_code) != 3
    assert sum(time.slept) < 1  # the polls within wait_for_processing_s only: no wait for a retry
    assert len(fake_github.accepted) == 2  # each posted once
    with open_store(db_path) as store:
        assert {r.status for r in store.uploads()} == {UploadStatus.PENDING}  # processing: polled later


def test_the_daemon_run_delivers_once_and_leaves_the_rest_queued(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], tmp_path: Path,
    db_path: Path,
) -> None:  # fmt: skip
    """Without a wait (the daemon's runs) nothing blocks: the daemon's delivery job retries."""
    fake_github.script("upload", Reply(502))
    result = _run(git_repo[0], make_settings(), tmp_path, db_path, None)
    assert result.undelivered == () and int(result.exit_code) != 3
    with open_store(db_path) as store:
        depth = store.outbox("uploads").depth()
    assert depth[OutboxStatus.PENDING] == 1 and depth[OutboxStatus.DELIVERED] == 1


def test_secscan_run_upload_wait_0_exits_3_naming_the_pending_upload(
    git_repo: tuple[Path, str], fake_github: FakeGithub, db_path: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = tmp_path / "trusted.toml"
    config.write_text(f'[github]\nrepository = "octo/hello"\napi_url = "{fake_github.url}"\n'
                      "poll_interval_s = 0.01\n", encoding="utf-8")  # fmt: skip
    fake_github.script("upload", Reply(502, body={"message": "Bad Gateway"}))
    argv = ["run", str(git_repo[0]), "--config", str(config), "--db", str(db_path), "--scanner", "bandit",
            "--upload", "--upload-wait", "0", "--sarif", str(tmp_path / "o.sarif"), "--format", "json",
            "--fail-on", "none"]  # fmt: skip
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 3, err
    assert "not delivered: upload secscan/bandit is still pending (HTTP 502: Bad Gateway" in err
    assert "`secscan upload`" in err and CANARY not in out + err
    (pending,) = json.loads(out)["undelivered"]
    assert pending["outbox"] == "uploads" and pending["name"] == "secscan/bandit"


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "1e9", "soon"])
def test_upload_wait_must_be_a_sane_number_of_seconds(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", str(tmp_path), "--upload-wait", value]) == 2
    assert "--upload-wait" in capsys.readouterr().err


# -- secscan upload ---------------------------------------------------------------------------------


def _queued(store: Any, root: Path, settings: Settings) -> None:
    from github_fakes import BANDIT, SECRETS, finding, scan, scanner

    from secscan.config.policy import load_policy, load_sla_policy
    from secscan.report.sarif import build_sarif

    at = datetime.now(UTC)
    scanned = scan(root, (scanner(BANDIT, [finding(BANDIT, "B602", "src/app.py", 2, _high())]),
                          scanner(SECRETS, [])), "20260105T020000Z-00000001", at)  # fmt: skip
    recorded = record_run(store, scanned, at, load_sla_policy())
    github_outbox.enqueue_run(store, scanned, build_sarif(scanned, load_policy(), recorded.baseline), settings, at)


def _high() -> Any:
    from secscan.core.model import Severity

    return Severity.HIGH


def test_secscan_upload_retries_within_its_wait_and_reports_what_is_left(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], db_path: Path,
) -> None:  # fmt: skip
    settings = make_settings()
    with open_store(db_path) as store:
        _queued(store, git_repo[0], settings)
    fake_github.script("upload", Reply(502), Reply(500))
    time = FakeTime()
    outcome = commands.upload(str(db_path), settings, clock=time.clock, sleep=time.sleep, wait_s=120)
    assert outcome.pending == () and outcome.report.delivered == 2 and len(fake_github.accepted) == 2
    fake_github.script("upload", *[Reply(502)] * 50)
    with open_store(db_path) as store:  # a later commit's uploads, against a GitHub that stays down
        store.outbox("uploads").enqueue("github-sarif", "github-sarif/octo/hello/x/y/secscan/z",
                                        _payload_like(store), time.now)  # fmt: skip
    outcome = commands.upload(str(db_path), settings, clock=time.clock, sleep=time.sleep, wait_s=120)
    assert len(outcome.pending) == 1 and "HTTP 502" in (outcome.pending[0].last_error or "")


def _payload_like(store: Any) -> dict[str, Any]:
    (item,) = store.outbox("uploads").items(limit=1)
    payload = dict(item.payload)
    payload["receipt"] = {**payload["receipt"], "key": "github-sarif/octo/hello/x/y/secscan/z"}
    return payload


def test_secscan_upload_without_a_token_is_refused_before_anything_is_queued(
    git_repo: tuple[Path, str], fake_github: FakeGithub, db_path: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """It queued the log and left every upload retrying for ever, exit 0."""
    sarif = tmp_path / "out.sarif"
    assert cli.main(["run", str(git_repo[0]), "--db", str(db_path), "--scanner", "bandit", "--sarif", str(sarif),
                     "--fail-on", "none"]) == 0  # fmt: skip
    config = tmp_path / "trusted.toml"
    config.write_text(f'[github]\nrepository = "octo/hello"\napi_url = "{fake_github.url}"\n', encoding="utf-8")
    monkeypatch.delenv("GITHUB_TOKEN")
    capsys.readouterr()
    code = cli.main(["upload", "--config", str(config), "--db", str(db_path), "--sarif", str(sarif)])
    assert code == 2 and "no GitHub token" in capsys.readouterr().err
    with open_store(db_path) as store:
        assert store.outbox("uploads").items() == ()


def test_a_token_gone_from_the_environment_is_a_dead_letter_not_a_retry_for_ever(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], db_path: Path,
) -> None:  # fmt: skip
    settings = make_settings()
    with open_store(db_path) as store:
        _queued(store, git_repo[0], settings)
        now = datetime.now(UTC) + timedelta(seconds=1)
        report = deliver_uploads(store, settings, clock=lambda: now, sleep=lambda s: None, env={})
        assert len(report.dead) == 2 and fake_github.requests == []
        assert {r.status for r in store.uploads()} == {UploadStatus.DEAD}
        assert all("no GitHub token" in r.errors[0] for r in store.uploads())


def test_a_token_file_that_may_still_appear_is_waited_for(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], db_path: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    token = tmp_path / "gh-token"
    settings = make_settings(token_file=str(token))
    with open_store(db_path) as store:
        _queued(store, git_repo[0], settings)
        now = datetime.now(UTC) + timedelta(seconds=1)
        report = deliver_uploads(store, settings, clock=lambda: now, sleep=lambda s: None, env={})
        assert report.retried == 2 and not report.dead
        token.write_text(CANARY + "\n", encoding="utf-8")
        later = now + timedelta(minutes=10)
        report = deliver_uploads(store, settings, clock=lambda: later, sleep=lambda s: None, env={})
        assert report.delivered == 2 and len(fake_github.accepted) == 2


def test_the_wait_is_a_deadline_even_when_github_is_slow_to_process(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], tmp_path: Path,
    db_path: Path,
) -> None:  # fmt: skip
    """GitHub accepts each file but keeps it ``pending`` while secscan polls (a slow, successful
    peer): the first upload's polls used to run through its whole processing wait (150 s of a
    60 s wait here) before the next upload even started. No poll starts after the deadline."""
    fake_github.processing.extend(["pending"] * 6)
    time = FakeTime()
    settings = make_settings(wait_for_processing_s=600, poll_interval_s=10)
    result = _run(git_repo[0], settings, tmp_path, db_path, _wait(60, time))
    assert sum(time.slept) <= 60
    assert len(fake_github.accepted) == 2 and result.undelivered == ()  # accepted: processed by GitHub
    with open_store(db_path) as store:
        assert {r.status for r in store.uploads()} == {UploadStatus.PENDING}  # polled by a later pass


def test_upload_wait_0_is_one_attempt_at_each_upload_without_waiting_for_processing(
    git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings], tmp_path: Path,
    db_path: Path,
) -> None:  # fmt: skip
    fake_github.processing.extend(["pending"] * 20)
    time = FakeTime()
    settings = make_settings(wait_for_processing_s=600, poll_interval_s=10)
    result = _run(git_repo[0], settings, tmp_path, db_path, _wait(0, time))
    assert time.slept == [] and len(fake_github.accepted) == 2  # both posted, neither waited for
    assert result.undelivered == ()  # accepted: GitHub processes them whether or not we poll
