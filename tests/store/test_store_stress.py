"""Many writers on one PostgreSQL database: 4 processes x 25 runs of different targets and 2
processes racing on one target record concurrently, then 4 deliverers share one outbox.

No deadlock (every process ends, in time), no finding lost or duplicated (each target tracks
exactly the findings its runs reported, each opened once in its history), every run
recorded, and no outbox item delivered twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from secscan.core.model import FindingState
from secscan.store import FindingQuery, HistoryEvent, OutboxStatus, RunStatus, open_store
from tests.store.builders import T0
from tests.store.stress_worker import window

REPO = Path(__file__).resolve().parents[2]
RUNS = 25
ITEMS = 300


def _start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.stress_worker", *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        _out, err = proc.communicate(timeout=600)  # a deadlock would hang here, not pass
        assert proc.returncode == 0, err[-2000:]


def _start_together(outs: list[Path], procs: list[subprocess.Popen[str]]) -> None:
    """Let the deliverers go once every one of them is connected and waiting."""
    deadline = time.monotonic() + 120
    while not all(out.with_suffix(".ready").exists() for out in outs):
        assert all(proc.poll() is None for proc in procs), "a deliverer ended before it was ready"
        assert time.monotonic() < deadline, "the deliverers did not connect within 120 s"
        time.sleep(0.02)
    for out in outs:
        out.with_suffix(".go").touch()


def test_concurrent_runs_lose_and_duplicate_nothing(postgres_url: str) -> None:
    writers = [_start("runs", postgres_url, f"w{p}", f"target-{p}", str(RUNS)) for p in range(4)]
    writers += [_start("runs", postgres_url, f"race{p}", "shared", str(RUNS)) for p in range(2)]
    _finish(writers)
    reported = {fnd_n for i in range(RUNS) for fnd_n in window(i)}
    with open_store(postgres_url) as store:
        runs = store.runs(limit=1000)
        assert len(runs) == 6 * RUNS and {r.status for r in runs} == {RunStatus.COMPLETE}
        for target in [f"target-{p}" for p in range(4)] + ["shared"]:
            found = store.list_findings(FindingQuery(target=target))
            prints = [f.fingerprint for f in found]
            assert len(prints) == len(set(prints)) == len(reported)
            assert {int(fp[:6], 16) for fp in prints} == reported
            still_open = {int(f.fingerprint[:6], 16) for f in found if f.state is not FindingState.FIXED}
            if target != "shared":  # one writer: its last run's window is what is open
                assert still_open == set(window(RUNS - 1))
            else:  # two writers: the window of whichever run was recorded last
                assert still_open in [set(window(i)) for i in range(RUNS)]
            for f in found[:10]:
                history = store.history(f.fingerprint, target)
                assert [h.event for h in history].count(HistoryEvent.OPENED) == 1


def test_concurrent_deliverers_deliver_each_item_once(postgres_url: str, tmp_path: Path) -> None:
    with open_store(postgres_url) as store:
        box = store.outbox("alerts")
        items = [("h", f"k{n}", {"n": n}) for n in range(ITEMS)]
        assert box.enqueue_many(items, T0 - timedelta(days=1)) == ITEMS
    outs = [tmp_path / f"d{p}.txt" for p in range(4)]
    deliverers = [_start("deliver", postgres_url, f"d{p}", str(out)) for p, out in enumerate(outs)]
    _start_together(outs, deliverers)
    _finish(deliverers)
    keys = [line for out in outs if out.exists() for line in out.read_text().split()]
    assert sorted(keys) == sorted(f"k{n}" for n in range(ITEMS))  # each once, none lost
    assert sum(1 for out in outs if out.exists() and out.read_text()) >= 2  # they did share the work
    with open_store(postgres_url) as store:
        assert store.outbox("alerts").depth()[OutboxStatus.DELIVERED] == ITEMS
