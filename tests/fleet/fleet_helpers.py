"""A fleet on the test's own PostgreSQL: small target repositories, a config, worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from secscan.config.settings import BUILTIN_SCANNERS
from tests import gitrepo

HERE = Path(__file__).resolve().parent
TOOL = HERE / "fleet_tool.py"
T = TypeVar("T")

_DISABLED = BUILTIN_SCANNERS  # every built-in scanner off: the test tool is the only one


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60.0, every: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


@dataclass
class Fleet:
    root: Path
    db: str
    targets: list[str]
    sleep: float = 0.3
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.root / "toolstate"

    @property
    def config(self) -> Path:
        return self.root / "fleet.toml"

    def write_config(self, *, tick: str = "* * * * * *", stalled_after: float = 3.0, extra: str = "") -> Path:
        self.state.mkdir(parents=True, exist_ok=True)
        disabled = "".join(f"[scanners.{name}]\nenabled = false\n" for name in _DISABLED)
        command = [sys.executable, str(TOOL), "{output}", "{target}", str(self.state), str(self.sleep)]
        targets = "".join(
            f'[[daemon.targets]]\npath = {str(self.root / "repos" / t)!r}\nname = "{t}"\n'
            for t in self.targets
        )
        self.config.write_text(
            f"""
[scan]
fail_on = "none"
{disabled}
[scanners.fleettool]
command = {json.dumps(command)}
timeout = 120
[daemon]
nightly = "0 2 * * *"
health_listen = "127.0.0.1:0"
stop_timeout = 20
max_attempts = 2
[fleet]
tick = {tick!r}
heartbeat_every = 0.5
stalled_after = {stalled_after}
{extra}
{targets}"""
        )
        return self.config

    def make_repos(self) -> None:
        for name in self.targets:
            repo = gitrepo.init(self.root / "repos" / name)
            (repo / "app.py").write_text(f"print({name!r})\n")
            gitrepo.git(repo, "add", "-A")
            gitrepo.git(repo, "commit", "-q", "-m", "init", when=1_700_000_000)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "XDG_STATE_HOME": str(self.root / "xdg-state"),
            "XDG_CACHE_HOME": str(self.root / "xdg-cache"),
            "PYTHONUNBUFFERED": "1",
        }

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "secscan", "fleet", *args], env=self.env(), capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"secscan fleet {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    def start_worker(self, *extra: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"worker-{len(self.workers)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "secscan", "fleet", "worker", "--config", str(self.config),
             "--db", self.db, *extra],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.workers.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.root.glob("worker-*.log"))
        )

    def rows(self) -> dict[str, tuple[Any, ...]]:
        """target -> (state, attempts, worker, run_id) of every round row (one round in these tests)."""
        sql = "SELECT target, state, attempts, worker, run_id, round_key FROM secscan_fleet_targets"
        return {str(r[0]): tuple(r[1:]) for r in self.query(sql)}

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        from secscan.fs.urls import postgres_url

        with psycopg.connect(postgres_url(self.db).conninfo) as conn:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]  # type: ignore[arg-type]

    def overlaps(self) -> str:
        path = self.state / "overlaps.log"
        return path.read_text() if path.exists() else ""
