"""Idle cost of `secscan daemon`: resident memory (target <= 150 MB) and CPU seconds per idle hour.

Starts a real daemon (default schedules: heartbeat every 30 s, outbox delivery every 60 s, SLA
sweep every 15 min) on an empty database with one tiny target and a nightly slot that does not
fall inside the window, waits until /healthz answers, lets it settle, then measures the whole
process tree's RSS and CPU time over an idle window and extrapolates CPU to one hour.

    python benchmarks/bench_daemon.py --window 300
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    return [proc, *proc.children(recursive=True)]


def _rss_mb(proc: psutil.Process) -> float:
    return sum(p.memory_info().rss for p in _tree(proc)) / 2**20


def _cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=300.0, help="idle seconds measured")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds after start before measuring")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-daemon-") as tmp:
        root = Path(tmp)
        (root / "app").mkdir()
        (root / "app" / "a.py").write_text("VALUE = 1\n")
        port = _port()
        config = root / "secscan.toml"
        config.write_text(
            f'[daemon]\ndb = "{root / "s.db"}"\nnightly = "0 0 1 1 *"\nhealth_listen = "127.0.0.1:{port}"\n'
            f'[[daemon.targets]]\npath = "{root / "app"}"\n'
        )
        began = time.monotonic()
        daemon = subprocess.Popen(
            [sys.executable, "-m", "secscan", "daemon", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=(root / "daemon.log").open("wb"),
        )
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if daemon.poll() is not None or time.monotonic() - began > 60:
                    raise SystemExit((root / "daemon.log").read_text()[-2000:])
                time.sleep(0.1)
            ready = time.monotonic() - began
            proc = psutil.Process(daemon.pid)
            time.sleep(args.settle)
            rss_start, cpu_start, t_start = _rss_mb(proc), _cpu_s(proc), time.monotonic()
            peak = rss_start
            while time.monotonic() - t_start < args.window:
                time.sleep(1.0)
                peak = max(peak, _rss_mb(proc))
            elapsed = time.monotonic() - t_start
            cpu = _cpu_s(proc) - cpu_start
            rss_end = _rss_mb(proc)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
    print(f"ready (healthz 200) after start:  {ready:6.2f} s")
    print(f"idle window:                      {elapsed:6.0f} s")
    per_hour = cpu / elapsed * 3600
    print(f"RSS at start / end / peak:        {rss_start:6.1f} / {rss_end:.1f} / {peak:.1f} MB (<= 150)")
    print(f"CPU in window:                    {cpu:6.2f} s")
    print(f"CPU per idle hour (extrapolated): {per_hour:6.1f} s  ({per_hour / 36:.3f}% of one core)")
    print(f"daemon exit code after SIGTERM:   {daemon.returncode}")


if __name__ == "__main__":
    main()
