"""Runs that end without being recorded: stopped part-way, failed, or left by a dead process.

* :func:`stop_if_cancelled`: a cancelled scan is recorded as ``interrupted`` and closes nothing.
* :class:`RunGuard`: whatever stops ``secscan run`` after its run began and before it was
  recorded ends the run (``interrupted`` for Ctrl-C or SIGTERM, ``failed`` for an error), so no
  run is left ``running`` by a process that is still alive to say so.
* :func:`sigterm_interrupts`: ``secscan run`` treats SIGTERM like Ctrl-C.
* :func:`interrupt_orphaned_runs`: a run left ``running`` by a process that died (``kill -9``)
  is marked ``interrupted`` by the next ``secscan run`` or daemon start, once nobody holds its
  target's lock (the lock is held from before a run begins until after it is recorded).
* :func:`held_across_hosts`: in a database other hosts share, a run also holds its target's lock
  in the database (``Store.target_lock``), so a run on another host is neither run twice nor
  taken for a dead one.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import FrameType, TracebackType

from secscan.core.errors import SecscanError
from secscan.core.model import RunId, ScanRun
from secscan.core.ports.store import Store
from secscan.fs.locks import LockError, target_idle

log = logging.getLogger(__name__)


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


class RunGuard:
    """Begins the run in the store (``begin`` is the pipeline's ``begin`` hook) and, when the
    block it guards raises before the run is recorded, ends it: ``interrupted`` on
    KeyboardInterrupt or SystemExit, ``failed`` otherwise. A recorded run is never changed."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._clock = clock
        self.run_id: RunId | None = None
        self._target = ""

    def begin(self, run_id: RunId, root: str, target_name: str, started_at: datetime) -> None:
        self._store.begin_run(run_id, root, target_name, started_at)
        self.run_id, self._target = run_id, target_name

    def __enter__(self) -> RunGuard:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if exc is None or self.run_id is None:
            return
        stopped = isinstance(exc, KeyboardInterrupt | SystemExit)
        try:
            if stopped:
                ended = self._store.mark_run_interrupted(self.run_id, self._clock())
            else:
                ended = self._store.mark_run_failed(self.run_id, self._clock())
        except Exception:  # the original error matters more; the next run marks it interrupted
            log.exception("could not end run %s of %s", self.run_id, self._target)
            return
        if ended:
            how = "interrupted" if stopped else f"failed ({kind.__name__ if kind else 'error'})"
            log.log(logging.WARNING if stopped else logging.ERROR,
                    "run %s of %s ended before it was recorded: %s; it closed nothing", self.run_id,
                    self._target, how)  # fmt: skip


def interrupt_orphaned_runs(
    store: Store, db: str | None, now: datetime, held: str | None = None
) -> list[RunId]:
    """Mark ``interrupted`` every ``running`` run whose target lock nobody holds; ``held`` is a
    target whose lock the caller holds itself (a run of it still ``running`` is a dead one)."""
    done = []
    for run_id, target in store.running_runs():
        if target == held:
            ended = store.mark_run_interrupted(run_id, now)
        else:
            with target_idle(db, target) as idle, store.target_lock(target) as free:
                ended = idle and free and store.mark_run_interrupted(run_id, now)
        if ended:
            log.warning("run %s of %s was left running by a process that died; marked interrupted, "
                        "it closed nothing", run_id, target)  # fmt: skip
            done.append(run_id)
    return done


@contextlib.contextmanager
def held_across_hosts(
    store: Store, target: str, wait_s: float, cancel: threading.Event | None = None
) -> Iterator[None]:
    """Hold ``target``'s run lock in the store's database (beside this host's file lock), waiting
    up to ``wait_s`` seconds; :class:`LockError` when a run on another host keeps it."""
    with store.target_lock(target, wait_s, cancel) as held:
        if not held:
            raise LockError(
                f"target {target!r} is being scanned by another host sharing the database; waited "
                f"{wait_s:g} s; let that run finish and try again"
            )
        yield


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM stops ``secscan run`` as Ctrl-C does (KeyboardInterrupt in the
    main thread): the scanners are killed and the run is recorded ``interrupted``. Outside the
    main thread (where signals cannot be handled) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
