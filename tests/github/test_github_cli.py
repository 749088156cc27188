"""The commands: ``secscan run --upload``, ``secscan upload``, ``secscan github sync|status``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github_fakes import CANARY, FakeGithub, Reply

from secscan.cli import main as cli
from secscan.core.ports.uploads import UploadStatus
from secscan.store import open_store


@pytest.fixture
def config(tmp_path: Path, fake_github: FakeGithub) -> Path:
    path = tmp_path / "trusted.toml"
    path.write_text(
        f'[github]\nrepository = "octo/hello"\napi_url = "{fake_github.url}"\npoll_interval_s = 0.01\n'
        "[scanners.bandit]\nshards = 1\n"
    )
    return path


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_upload_sends_the_scanners_that_finished_and_then_sync_and_status_work(
    git_repo: tuple[Path, str], config: Path, fake_github: FakeGithub, db_path: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root, sha = git_repo
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    argv = ["run", str(root), "--config", str(config), "--db", str(db_path), "--scanner", "bandit"]
    argv += ["--upload", "--sarif", str(tmp_path / "o.sarif"), "--format", "json", "--fail-on", "none"]
    code, out, err = _main(argv, capsys)
    assert code == 0, err
    (analysis,) = fake_github.accepted
    assert analysis["body"]["commit_sha"] == sha and analysis["body"]["tool_name"] == "bandit"
    results = analysis["sarif"]["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"B602"}
    run_id = json.loads(out)["run_id"]
    with open_store(db_path) as store:
        (receipt,) = store.uploads(run_id=run_id)
    assert receipt.status is UploadStatus.COMPLETE and receipt.results == len(results)
    number = next(iter(fake_github.alerts))
    fake_github.dismiss(number, "used in tests", "fixture code")
    code, out, err = _main(["github", "sync", "--config", str(config), "--db", str(db_path), "--format",
                            "json"], capsys)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["pulled"] == 1
    code, out, _ = _main(["github", "status", "--db", str(db_path), "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out)["uploads"][0]["status"] == "complete"
    assert CANARY not in out + err


def test_upload_queues_a_written_sarif_log_and_reports_dead_letters(
    git_repo: tuple[Path, str], config: Path, fake_github: FakeGithub, db_path: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root, _ = git_repo
    sarif = tmp_path / "out.sarif"
    code, out, err = _main(["run", str(root), "--db", str(db_path), "--scanner", "bandit", "--sarif",
                            str(sarif), "--format", "json", "--fail-on", "none"], capsys)  # fmt: skip
    assert code == 0, err
    assert fake_github.requests == []
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    fake_github.script("upload", Reply(413, body={"message": "Payload Too Large"}))
    upload = ["upload", "--config", str(config), "--db", str(db_path)]
    code, out, err = _main([*upload, "--sarif", str(sarif)], capsys)
    assert code == 3 and "1 queued" in out and "1 dead" in out
    code, out, _ = _main(["github", "status", "--db", str(db_path), "--format", "json"], capsys)
    status = json.loads(out)
    assert code == 3 and status["dead_letters"][0]["error"] == "HTTP 413: Payload Too Large"
    assert status["uploads"][0]["status"] == "dead"
    run_id = status["uploads"][0]["run_id"]
    code, out, err = _main([*upload, "--run", run_id], capsys)
    assert code == 0, err
    assert "1 requeued, 1 delivered" in out and len(fake_github.accepted) == 1


def test_upload_without_a_github_section_or_token_is_a_usage_error(
    git_repo: tuple[Path, str], config: Path, db_path: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    code, _, err = _main(["upload", "--db", str(db_path)], capsys)
    assert code == 2 and "[github]" in err
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    code, _, err = _main(["run", str(git_repo[0]), "--config", str(config), "--db", str(db_path), "--upload",
                          "--sarif", str(tmp_path / "x.sarif")], capsys)  # fmt: skip
    assert code == 2 and "GITHUB_TOKEN" in err
    with open_store(db_path) as store:
        assert store.runs() == ()  # refused before any scanner started


@pytest.mark.parametrize("text", [b"[" * 200_000, b'{"runs": ["not a run"]}', b'{"runs": [{"automationDetails": 7}]}'])
def test_upload_of_a_malformed_sarif_file_is_one_line_and_exit_2(
    config: Path, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], text: bytes,
) -> None:  # fmt: skip
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    sarif = tmp_path / "out.sarif"
    sarif.write_bytes(text)
    code, _, err = _main(["upload", "--config", str(config), "--db", str(db_path), "--sarif", str(sarif)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "out.sarif" in err, err
