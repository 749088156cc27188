"""Running ``secscan daemon`` as a real subprocess against a tiny target, and watching it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
SLOWTOOL = HERE / "daemon_slowtool.py"
T = TypeVar("T")

FINDING = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cron_at(moment: datetime) -> str:
    """A 6-field cron expression that fires daily at ``moment``'s second (UTC)."""
    return f"{moment.second} {moment.minute} {moment.hour} * * *"


@dataclass
class Setup:
    root: Path
    target: Path
    db: Path
    flag: Path  # while it exists, the slow tool sleeps (a scan stays mid-run)
    port: int

    def config(self, nightly: str, *, grace: float = 3600, stop_timeout: float = 15, extra: str = "") -> Path:
        path = self.root / "daemon.toml"
        path.write_text(
            f"""
[scan]
fail_on = "none"
[scanners.bandit]
shards = 1
[scanners.detect-secrets]
enabled = false
[scanners.pip-audit]
enabled = false
[scanners.lockfile-audit]
enabled = false
[scanners.zizmor]
enabled = false
[scanners.semgrep]
enabled = false
[scanners.git-history]
enabled = false
[scanners.posture]
enabled = false
[scanners.slowtool]
command = [{str(sys.executable)!r}, {str(SLOWTOOL)!r}, "{{output}}", {str(self.flag)!r}]
timeout = 120
[daemon]
db = {str(self.db)!r}
nightly = {nightly!r}
health_listen = "127.0.0.1:{self.port}"
heartbeat_every = 0.5
sla_sweep_every = 3600
delivery_every = 3600
catch_up_grace = {grace}
stop_timeout = {stop_timeout}
{extra}
[[daemon.targets]]
path = {str(self.target)!r}
name = "app"
"""
        )
        return path

    def runs(self) -> list[tuple[str, str]]:
        """(run id, status) of every run, oldest first."""
        if not self.db.exists():
            return []
        with sqlite3.connect(self.db, timeout=10) as conn:
            try:
                return list(conn.execute("SELECT run_id, status FROM runs ORDER BY id"))
            except sqlite3.OperationalError:  # not created yet
                return []

    def slots(self) -> list[tuple[str, str, int]]:
        with sqlite3.connect(self.db, timeout=10) as conn:
            return list(
                conn.execute("SELECT status, \"trigger\", attempts FROM daemon_slots WHERE job = 'nightly'")
            )

    def findings(self) -> dict[str, set[str]]:
        """path -> the states of the tracked findings in it."""
        out: dict[str, set[str]] = {}
        with sqlite3.connect(self.db, timeout=10) as conn:
            rows = conn.execute("SELECT t.value, f.state FROM findings f JOIN texts t ON t.id = f.path_ref")
            for path, state in rows:
                out.setdefault(path, set()).add(state)
        return out

    def health(self) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError):  # not listening (yet)
            return 0, b""


def make_setup(tmp_path: Path) -> Setup:
    target = tmp_path / "app"
    target.mkdir()
    (target / "shell.py").write_text(FINDING)
    (target / "ok.py").write_text("VALUE = 1\n")
    return Setup(tmp_path, target, tmp_path / "state" / "s.db", tmp_path / "slow.flag", free_port())


def start(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("SENTRY_DSN", "SECSCAN_DEBUG")}
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "secscan", "daemon", "--config", str(config), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            start_new_session=True,
        )


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 60, log: Path | None = None) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def processes_with(marker: str) -> list[int]:
    """Pids whose command line mentions ``marker`` (from /proc, no psutil needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop(proc: subprocess.Popen[Any], log: Path | None = None) -> None:
    """SIGTERM, then up to 30 s for a clean exit. A daemon still running then has its threads'
    stacks dumped (SIGUSR1) into its log before it is killed, so the hang can be diagnosed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
            proc.kill()
            proc.wait(10)
            if log is not None and log.exists():
                print(f"daemon did not stop within 30 s; its log ends with:\n{log.read_text()[-20000:]}")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
