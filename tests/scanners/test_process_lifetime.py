"""Scanners never outlive secscan: not their deadline, not their own exit, not ``kill -9`` of secscan.

The tool (``escaping_tool.py``) leaves three helpers behind that ignore SIGTERM: one in its
process group, one in a new session (``setsid``) and one daemonised by a double fork. Waits
below are bounds (hang guards) or the documented 2 s promise, never measurements.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from secscan.app import run as app
from secscan.config.policy import load_policy
from secscan.config.settings import load_settings
from secscan.core.model import ToolName
from secscan.scanners import scratch
from secscan.scanners._subprocess import WORKDIR_VAR
from secscan.scanners.interface import Command, CommandResult, Plan, ScanJob, Scanner, ScanOutput
from secscan.scanners.runner import run_scanner

TOOL = Path(__file__).with_name("escaping_tool.py")
HELPERS = ("tool", "child", "setsid", "daemon")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _survivors(pids: Sequence[int], within_s: float) -> list[int]:
    """The pids still alive after ``within_s`` seconds (returns as soon as none is)."""
    until = time.monotonic() + within_s
    while True:
        alive = [p for p in pids if _alive(p)]
        if not alive or time.monotonic() >= until:
            return alive
        time.sleep(0.02)


def _until(check: Callable[[], bool], within_s: float = 30.0) -> bool:
    until = time.monotonic() + within_s
    while not check():
        if time.monotonic() >= until:
            return False
        time.sleep(0.02)
    return True


def _pids(path: Path, within_s: float = 30.0) -> dict[str, int]:
    until = time.monotonic() + within_s
    while time.monotonic() < until:
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            time.sleep(0.02)
    raise AssertionError("the tool never wrote its pids")


@pytest.fixture
def reaper() -> Iterator[list[int]]:
    """Pids to SIGKILL after the test whatever happened (a failing test leaves nothing running)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Escaping(Scanner):
    name = ToolName("escaping")

    def __init__(self, pids: Path, flag: Path) -> None:
        self.pids, self.flag = pids, flag

    def version(self) -> str:
        return "1"

    def plan(self, job: ScanJob) -> Plan:
        argv = (sys.executable, str(TOOL), str(job.workdir / "out.sarif"), str(self.pids), str(self.flag))
        return Plan(commands=(Command(argv=argv, cwd=job.root, stdout_path=job.workdir / "stdout"),))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return ScanOutput(findings=(), rules=(), scope=frozenset())


def _job(tmp_path: Path) -> ScanJob:
    root = tmp_path / "target"
    root.mkdir()
    return ScanJob(root=root, files=(), workdir=tmp_path / "work", policy=load_policy())


def test_at_the_deadline_even_detached_helpers_are_killed(tmp_path: Path, reaper: list[int]) -> None:
    flag, pids_file = tmp_path / "flag", tmp_path / "pids.json"
    flag.touch()
    result = run_scanner(Escaping(pids_file, flag), _job(tmp_path), timeout_s=3.0)
    pids = _pids(pids_file)
    reaper.extend(pids.values())
    assert result.status.value == "timeout"
    assert _survivors([pids[k] for k in HELPERS], within_s=10) == [], pids


def test_a_tool_that_exits_takes_what_it_started_with_it(tmp_path: Path, reaper: list[int]) -> None:
    pids_file = tmp_path / "pids.json"
    result = run_scanner(Escaping(pids_file, tmp_path / "no-flag"), _job(tmp_path), timeout_s=60)
    pids = _pids(pids_file)
    reaper.extend(pids.values())
    assert result.status.value == "ok", result.reason
    assert _survivors([pids[k] for k in HELPERS], within_s=10) == [], pids


def _config(tmp_path: Path, flag: Path, pids: Path) -> Path:
    config = tmp_path / "secscan.toml"
    command = [sys.executable, str(TOOL), "{output}", str(pids), str(flag)]
    config.write_text(
        f"""
[scan]
fail_on = "none"
[scanners.bandit]
enabled = false
[scanners.detect-secrets]
enabled = false
[scanners.pip-audit]
enabled = false
[scanners.escaping]
command = {json.dumps(command)}
timeout = 120
"""
    )
    return config


def _runs(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db, timeout=10) as conn:
        return list(conn.execute("SELECT run_id, status FROM runs ORDER BY id"))


def _start_run(tmp_path: Path, config: Path, db: Path, scratch_dir: Path) -> subprocess.Popen[bytes]:
    target = tmp_path / "app"
    target.mkdir(exist_ok=True)
    (target / "a.py").write_text("x = 1\n")
    env = {**os.environ, "TMPDIR": str(scratch_dir)}
    env.pop("SECSCAN_DEBUG", None)
    argv = [sys.executable, "-m", "secscan", "run", str(target), "--config", str(config), "--db", str(db),
            "--sarif", str(tmp_path / "out.sarif"), "--target", "app"]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _scan_processes(marker: Path) -> list[int]:
    """Every live process whose command line names ``marker`` (the supervisor and the tool)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(marker).encode() in (entry / "cmdline").read_bytes() and _alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_kill_9_of_secscan_run_leaves_no_process_and_the_next_run_cleans_up(
    tmp_path: Path, reaper: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    flag, pids_file, db = tmp_path / "flag", tmp_path / "pids.json", tmp_path / "s.db"
    scratch_dir = tmp_path / "tmp"
    scratch_dir.mkdir()
    flag.touch()
    config = _config(tmp_path, flag, pids_file)
    proc = _start_run(tmp_path, config, db, scratch_dir)
    try:
        pids = _pids(pids_file)
        reaper.extend(pids.values())
        supervisors = _scan_processes(flag)
        reaper.extend(supervisors)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    assert _survivors([*pids.values(), *supervisors], within_s=2.0) == [], (pids, supervisors)
    assert _scan_processes(flag) == []
    [(killed, status)] = _runs(db)
    assert status == "running"
    assert [p.name[: len(scratch.PREFIX)] for p in scratch_dir.iterdir()] == [scratch.PREFIX]

    flag.unlink()  # the next run on this database: it finds the dead run and its scratch folder
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_dir))
    settings = load_settings(config)
    request = app.RunRequest(target=tmp_path / "app", settings=settings, sarif_path=tmp_path / "2.sarif",
                             db=str(db), target_name="app", use_cache=False)  # fmt: skip
    assert app.run(request).run.complete
    assert dict(_runs(db))[killed] == "interrupted"
    assert list(scratch_dir.iterdir()) == []


def test_sigterm_stops_secscan_run_like_ctrl_c(tmp_path: Path, reaper: list[int]) -> None:
    flag, pids_file, db = tmp_path / "flag", tmp_path / "pids.json", tmp_path / "s.db"
    scratch_dir = tmp_path / "tmp"
    scratch_dir.mkdir()
    flag.touch()
    proc = _start_run(tmp_path, _config(tmp_path, flag, pids_file), db, scratch_dir)
    try:
        pids = _pids(pids_file)
        reaper.extend(pids.values())
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err.decode()
    assert err.decode().strip().endswith("secscan: interrupted")
    assert [status for _, status in _runs(db)] == ["interrupted"]
    assert _survivors(list(pids.values()), within_s=2.0) == []
    assert list(scratch_dir.iterdir()) == []  # its own scratch folder removed on the way out


HOLD_FOLDER = """
import sys
from pathlib import Path
from secscan.scanners.scratch import run_folder
with run_folder(Path(sys.argv[1])) as folder:
    print(folder, flush=True)
    sys.stdin.readline()
"""


def test_only_folders_of_dead_runs_are_removed_with_their_processes(
    tmp_path: Path, reaper: list[int]
) -> None:
    live = subprocess.Popen([sys.executable, "-c", HOLD_FOLDER, str(tmp_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert live.stdout is not None
        live_folder = Path(live.stdout.readline().strip())
        dead_folder = tmp_path / "secscan-dead"
        (dead_folder / "bandit").mkdir(parents=True)
        (dead_folder / scratch.OWNER).write_text('{"pid": 1}')  # nobody holds its lock
        unmarked = tmp_path / "secscan-unmarked"
        unmarked.mkdir()
        sleeper = lambda folder: subprocess.Popen(  # noqa: E731
            [sys.executable, "-c", "import time; time.sleep(60)"],
            env={**os.environ, WORKDIR_VAR: str(folder / "bandit")}, start_new_session=True,
        )  # fmt: skip
        leftover, bystander = sleeper(dead_folder), sleeper(live_folder)
        reaper.extend([leftover.pid, bystander.pid])
        for pid in (leftover.pid, bystander.pid):  # exec'd: their environment is read from /proc
            assert _until(lambda pid=pid: WORKDIR_VAR.encode() in Path(f"/proc/{pid}/environ").read_bytes())
        assert scratch.remove_stale(tmp_path) == [dead_folder]
        leftover.wait(10)
        assert leftover.returncode == -signal.SIGKILL
        assert bystander.poll() is None  # a live run's scanner is never touched
        assert live_folder.is_dir() and unmarked.is_dir() and not dead_folder.exists()
    finally:
        assert live.stdin is not None
        live.stdin.write("\n")
        live.stdin.close()
        live.wait(10)
    assert not live_folder.exists()  # removed by its own run at the end
