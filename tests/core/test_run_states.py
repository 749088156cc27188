"""No run is left ``running``: an error records it ``failed``, a stop ``interrupted``, and a run
left by a process that died is marked ``interrupted`` by the next ``secscan run``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from secscan.app import pipeline
from secscan.app import run as app
from secscan.cli import main as cli
from secscan.config.settings import build_settings
from secscan.core.model import RunId
from secscan.store import RunStatus, open_store

SETTINGS = {"scan": {"fail_on": "none"}, "scanners": {"detect-secrets": {"enabled": False},
            "pip-audit": {"enabled": False}, "bandit": {"shards": 1}}}  # fmt: skip
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)

HOLD = """
import sys
from secscan.fs.locks import target_lock
with target_lock(sys.argv[1], sys.argv[2], wait_s=0):
    print("held", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def target(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "a.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    return root


def _request(target: Path, tmp_path: Path) -> app.RunRequest:
    return app.RunRequest(target=target, settings=build_settings(SETTINGS), sarif_path=tmp_path / "o.sarif",
                          db=str(tmp_path / "s.db"), target_name="app", use_cache=False)  # fmt: skip


def _statuses(tmp_path: Path) -> list[RunStatus]:
    with open_store(tmp_path / "s.db") as store:
        return [r.status for r in reversed(store.runs(limit=100))]


def _raise(exc: BaseException) -> Callable[..., Any]:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise exc

    return fail


def test_an_internal_error_after_the_run_began_records_it_failed(
    target: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_with_identities", _raise(RuntimeError("a bug")))
    with pytest.raises(RuntimeError):
        app.run(_request(target, tmp_path))
    assert _statuses(tmp_path) == [RunStatus.FAILED]


def test_the_cli_exits_70_and_the_run_is_failed_not_running(
    target: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from secscan.store.sqlite import store as sqlite

    monkeypatch.delenv("SECSCAN_DEBUG", raising=False)
    monkeypatch.setattr(sqlite.SqliteStore, "recording", _raise(ValueError("reconciliation bug")))
    code = cli.main(["run", str(target), "--db", str(tmp_path / "s.db"), "--sarif", str(tmp_path / "o.sarif"),
                     "--no-cache", "--fail-on", "none", "--scanner", "bandit"])  # fmt: skip
    assert code == 70
    assert "internal error: ValueError" in capsys.readouterr().err
    assert _statuses(tmp_path) == [RunStatus.FAILED]
    monkeypatch.undo()
    app.run(_request(target, tmp_path))  # the next run is not disturbed by the failed one
    assert _statuses(tmp_path) == [RunStatus.FAILED, RunStatus.COMPLETE]


def test_ctrl_c_during_the_scan_records_the_run_interrupted(
    target: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_with_identities", _raise(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        app.run(_request(target, tmp_path))
    assert _statuses(tmp_path) == [RunStatus.INTERRUPTED]


def test_the_next_run_interrupts_runs_whose_process_died_but_not_live_ones(
    target: Path, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    with open_store(db) as store:  # as left by `secscan run` processes killed with -9
        store.begin_run(RunId("dead-same"), str(target), "app", T0)
        store.begin_run(RunId("dead-other"), "/srv/other", "other", T0)
        store.begin_run(RunId("live-busy"), "/srv/busy", "busy", T0)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "busy"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        app.run(_request(target, tmp_path))
        with open_store(db) as store:
            states = {r.run_id: r.status for r in store.runs(limit=100)}
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(10)
    assert states.pop(RunId("dead-same")) is RunStatus.INTERRUPTED
    assert states.pop(RunId("dead-other")) is RunStatus.INTERRUPTED
    assert states.pop(RunId("live-busy")) is RunStatus.RUNNING  # its holder is alive
    assert list(states.values()) == [RunStatus.COMPLETE]
