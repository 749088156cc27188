"""The daemon's running jobs, counted, so that a stop waits for them itself.

APScheduler 3.x's ``shutdown(wait=True)`` waits for the running jobs while it holds the
scheduler's job-store lock. A job that reads the schedule at that moment (the heartbeat does,
for the next run times) then waits for that lock, the shutdown waits for the job, and the
process never exits: the pool's threads are joined at interpreter exit. So the daemon shuts
the scheduler down with ``wait=False`` and waits here, for at most its stop timeout, holding
no lock of the scheduler's; and once the stop was asked for no job body starts (a job the
scheduler had already queued, such as a catch-up run, is dropped rather than begun).
"""

from __future__ import annotations

import threading
from collections import Counter


class InFlight:
    """Counts the job bodies that run, by job name; refuses new ones once ``stopping`` is set."""

    def __init__(self, stopping: threading.Event) -> None:
        self._stopping = stopping
        self._running: Counter[str] = Counter()
        self._changed = threading.Condition()

    def enter(self, name: str) -> bool:
        """Count one more running ``name`` job; False (nothing counted) once the stop was asked for."""
        with self._changed:
            if self._stopping.is_set():
                return False
            self._running[name] += 1
            return True

    def leave(self, name: str) -> None:
        """The ``name`` job counted by a successful :meth:`enter` has ended."""
        with self._changed:
            self._running[name] -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> list[str]:
        """Wait until no job runs, for at most ``timeout`` seconds; returns the names of the jobs
        still running (empty: none). Call it after setting ``stopping``: no job starts meanwhile."""
        with self._changed:
            self._changed.wait_for(lambda: self._running.total() == 0, timeout)
            return sorted(name for name, count in self._running.items() if count > 0)
