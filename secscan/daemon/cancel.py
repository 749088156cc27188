"""Stopping a run part-way: a cancelled scan is recorded as ``interrupted`` and closes nothing."""

from __future__ import annotations

import threading
from datetime import datetime

from secscan.errors import SecscanError
from secscan.model import ScanRun
from secscan.store.interface import Store


class RunInterrupted(SecscanError):  # noqa: N818 - a stop, not an error
    """The run was stopped (SIGTERM, SIGINT) before it was recorded; it is marked interrupted."""

    def __init__(self, message: str, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id


def stop_if_cancelled(store: Store, run: ScanRun, cancel: threading.Event | None, now: datetime) -> None:
    """Raise :class:`RunInterrupted` if ``cancel`` is set, after marking the run interrupted.

    Called between the scan and its recording: the cancelled scanners' empty results must never
    be reconciled, or they would look like "nothing found" (they close nothing this way).
    """
    if cancel is None or not cancel.is_set():
        return
    store.mark_run_interrupted(run.run_id, now)
    raise RunInterrupted(
        f"run {run.run_id} of {run.target_name} was stopped before it finished; "
        "it is recorded as interrupted and the next run scans again",
        run.run_id,
    )
