"""One process of the PostgreSQL stress test (``test_store_stress.py``).

``runs URL NAME TARGET N``: record N runs of TARGET, each reporting a window of 40 findings
that slides by one per run (one new, one fixed each time), through the real use case.
``deliver URL NAME OUT``: once connected, write OUT.ready and wait for OUT.go (so the
deliverers start together), then claim and deliver alerts outbox items until none is pending,
writing each delivered key to OUT; each claimed batch takes a few milliseconds, as a delivery's
HTTP call would, so no single process can drain the outbox before the others claim.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secscan.app.tracking import record_run
from secscan.delivery.loop import LEASE
from secscan.store import OutboxStatus, open_store
from tests.store.builders import POLICY, T0, fnd, make_run

WINDOW = 40
DELIVERY_S = 0.01


def window(i: int) -> list[int]:
    return list(range(i, i + WINDOW))


def runs(url: str, name: str, target: str, count: int) -> None:
    with open_store(url) as store:
        for i in range(count):
            at = T0 + timedelta(minutes=i)
            run = make_run(f"{name}-{i}", [fnd(n) for n in window(i)], target=target, at=at)
            record_run(store, run, at + timedelta(seconds=10), POLICY)


def deliver(url: str, out: Path) -> None:
    with open_store(url) as store, out.open("a", encoding="utf-8") as sink:
        box = store.outbox("alerts")
        out.with_suffix(".ready").touch()
        go = out.with_suffix(".go")
        while not go.exists():
            time.sleep(0.01)
        while True:
            now = datetime.now(UTC)
            claimed = box.claim(now, LEASE, limit=5)
            if not claimed:
                if box.depth()[OutboxStatus.PENDING] == 0:
                    return
                continue
            for item in claimed:
                sink.write(item.key + "\n")
                sink.flush()
                box.delivered(item.id, now)
            time.sleep(DELIVERY_S)


if __name__ == "__main__":
    mode, url, name, *rest = sys.argv[1:]
    if mode == "runs":
        runs(url, name, rest[0], int(rest[1]))
    else:
        deliver(url, Path(rest[0]))
