"""Scanning the history's file patches on every core, with results applied in commit order.

detect-secrets costs nearly all of a history scan's CPU (git's own ``log -p`` is a few percent),
and every file patch can be scanned on its own, so the added lines go to a process pool as soon
as git has printed them. What depends on order stays in this process and follows the input
order exactly: a file's results are applied only after every earlier file's, a file's removed
lines are judged against the secrets known at that point (they are scanned only in files where
one was added), and a commit is reported once its last file is done. So the records are the
same with any number of processes.

At most :data:`MAX_PENDING` patches or :data:`MAX_PENDING_BYTES` of lines wait at a time (git is
slowed down rather than memory filled).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from secscan.scanners._git_log import CommitInfo, FilePatch
from secscan.scanners._history_secrets import Hit, SecretLines

MAX_PENDING = 256
MAX_PENDING_BYTES = 64 * 1024 * 1024

_WORKER: SecretLines | None = None

Pending: TypeAlias = "multiprocessing.pool.AsyncResult[list[Hit]] | list[Hit]"


def _init_worker(args: Sequence[str]) -> None:
    global _WORKER
    _WORKER = SecretLines(args)


def _scan(path: str, lines: list[tuple[int, str]]) -> list[Hit]:
    if _WORKER is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("history worker not initialised")
    return _WORKER.scan(path, lines)


@dataclass
class _File:
    commit: str
    path: str | None  # the target-relative new path whose added lines were sent, if any
    old: str | None  # the target-relative old path
    removed: list[tuple[int, str]]
    pending: Pending
    size: int


@dataclass
class _Commit:
    info: CommitInfo


class OrderedScan:
    """The queue between git's output and the walk's bookkeeping (see the module docstring).

    ``on_added(commit, path, hits)``, ``on_removed(commit, path, hits)`` (only for files whose
    old path ``watched`` accepts when their turn comes) and ``on_commit(info)`` are called in
    input order, in this process.
    """

    def __init__(
        self,
        detector: SecretLines,
        args: Sequence[str],
        processes: int,
        *,
        watched: Callable[[str], bool],
        on_added: Callable[[str, str, list[Hit]], None],
        on_removed: Callable[[str, str, list[Hit]], None],
        on_commit: Callable[[CommitInfo], None],
    ) -> None:
        self._detector = detector
        self._args = tuple(args)
        self._processes = processes
        self._pool: multiprocessing.pool.Pool | None = None
        self._queue: deque[_File | _Commit] = deque()
        self._bytes = 0
        self._watched = watched
        self._on_added = on_added
        self._on_removed = on_removed
        self._on_commit = on_commit

    def _submit(self, path: str, lines: list[tuple[int, str]]) -> Pending:
        if self._processes <= 1:
            return self._detector.scan(path, lines)
        if self._pool is None:
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            context = multiprocessing.get_context(method)
            self._pool = context.Pool(self._processes, initializer=_init_worker, initargs=(self._args,))
        return self._pool.apply_async(_scan, (path, lines))

    def file(self, commit: CommitInfo, new: str | None, old: str | None, patch: FilePatch) -> None:
        """Queue one file patch (``new``/``old``: target-relative paths, None when not scanned)."""
        pending: Pending = []
        if new is not None and patch.added:
            pending = self._submit(new, patch.added)
        removed = patch.removed if old is not None else []
        item = _File(commit.sha, new, old, removed, pending, patch.size)
        self._queue.append(item)
        self._bytes += item.size
        self._drain(MAX_PENDING, MAX_PENDING_BYTES)

    def commit(self, info: CommitInfo) -> None:
        """Queue the end of a commit (all its files were queued before)."""
        self._queue.append(_Commit(info))
        self._drain(MAX_PENDING, MAX_PENDING_BYTES)

    def finish(self) -> None:
        """Apply everything queued."""
        self._drain(0, 0)

    def abandon(self) -> None:
        """git failed: apply the commits that completed, drop the files of the one that did not."""
        last = max((i for i, item in enumerate(self._queue) if isinstance(item, _Commit)), default=-1)
        for _ in range(last + 1):
            self._step()
        for item in self._queue:
            if isinstance(item, _File) and not isinstance(item.pending, list):
                item.pending.wait()
        self._queue.clear()
        self._bytes = 0

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def _drain(self, items: int, size: int) -> None:
        while self._queue and (len(self._queue) > items or self._bytes > size):
            self._step()

    def _step(self) -> None:
        item = self._queue.popleft()
        if isinstance(item, _Commit):
            self._on_commit(item.info)
            return
        self._bytes -= item.size
        hits = item.pending if isinstance(item.pending, list) else item.pending.get()
        if item.path is not None and hits:
            self._on_added(item.commit, item.path, hits)
        if item.old is not None and item.removed and self._watched(item.old):
            self._on_removed(item.commit, item.old, self._detector.scan(item.old, item.removed))
