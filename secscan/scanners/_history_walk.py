"""The history scan proper (run inside the wrapper process): window, new commits, presence at tips.

Records printed (one JSON object per line, ``t`` names the kind):

* ``repo``: ``head`` (HEAD's commit or null), ``tips`` (ref name -> commit), ``shallow``,
  ``prefix`` (the target's folder in the repository).
* ``window``: ``commits`` (``[sha, committer time]``, newest first) within ``max_commits`` and
  ``since``; ``cut`` when ``max_commits`` left older commits out.
* ``commit``: one newly read commit: ``added`` (``[path, line, type, sha1]``), ``removed``
  (``[path, sha1]`` of known secrets whose line it removed), ``capped``, ``too_big`` (files over
  the size limit, not read).
* ``unreadable``: a commit git could not show (objects missing); ``unread``: how many commits
  were left after too many of those; ``stopped``: how many were left for the next run because
  the time budget ran out (the scan stops itself before the runner's deadline, so what it read
  is kept and a long history is read over several runs instead of timing out every night).
* ``blob``: the secrets (SHA-1s) found in a path's blob not in the spec's memo;
  ``at``: the blob a path with a secret has at a tip.
* ``note``: something the run should say; ``fatal``: why nothing could be read; ``end``.

Commits are read oldest first (parents before children), so a secret's addition is known before
the commit that removes its line; removed lines are scanned only in files where a secret was
added (they are only needed to say where it went). Which commits are in the window is
:mod:`secscan.scanners._history_window`'s; what is asked, :mod:`secscan.scanners._history_spec`'s.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from secscan.fs.inventory import is_excluded
from secscan.scanners._git_log import CommitInfo, FilePatch, LogReader
from secscan.scanners._history_git import (
    LOG_OPTIONS,
    GitError,
    Repository,
    missing_object,
    open_repository,
    sha_lines,
    tail,
)
from secscan.scanners._history_pool import OrderedScan
from secscan.scanners._history_secrets import Hit, SecretLines
from secscan.scanners._history_sizes import BigFiles, big_files, exclude_pathspecs, skip_note
from secscan.scanners._history_spec import Spec
from secscan.scanners._history_window import ref_tips, window

Emit = Callable[[dict[str, Any]], None]

MAX_UNREADABLE = 25
"""After this many commits git cannot show, the rest of the walk is given up (a partial clone
without blobs would otherwise cost two git processes per commit)."""
MAX_LINE_BYTES = 1 << 20
"""Longer lines are cut (their commit is marked ``capped``): memory stays bounded."""


def _lines(stream: IO[bytes], reader: LogReader) -> Iterator[bytes]:
    """The stream's lines, each cut to :data:`MAX_LINE_BYTES` (the reader's commit marked capped)."""
    while True:
        line = stream.readline(MAX_LINE_BYTES)
        if not line:
            return
        if not line.endswith(b"\n") and len(line) >= MAX_LINE_BYTES:
            reader.mark_capped()
            while True:  # drop the rest of the line
                rest = stream.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            line += b"\n"
        yield line


class _Walk:
    """One history scan (private; :func:`walk` is the entry point)."""

    def __init__(self, spec: Spec, repo: Repository, emit: Emit) -> None:
        self.spec = spec
        self.repo = repo
        self.emit = emit
        self.secrets: SecretLines | None = None
        self.pairs = set(spec.pairs)
        self.watched = {p for p, _ in spec.pairs}
        self.added: list[list[Any]] = []
        self.removed: list[list[Any]] = []
        self.too_big: dict[str, int] = {}
        self.big: BigFiles = {}  # commit -> paths over the size limit, left out of its git log
        self.emitted: set[str] = set()
        self.deadline = time.monotonic() + spec.budget_s if spec.budget_s else None
        self.out_of_time = False

    # -- paths --------------------------------------------------------------------------

    def local(self, path: str) -> str | None:
        """A repository path as a path of the target, or None when outside it or excluded."""
        prefix = self.repo.prefix
        if not path.startswith(prefix):
            return None
        rel = path[len(prefix) :]
        return None if not rel or is_excluded(rel, self.spec.excludes) else rel

    def keep_added(self, path: str) -> bool:
        rel = self.local(path)
        return rel is not None and self.detector().wants(rel)

    def keep_removed(self, path: str) -> bool:
        return self.local(path) is not None  # judged when the file's turn comes (see _history_pool)

    def detector(self) -> SecretLines:
        if self.secrets is None:
            self.secrets = SecretLines(self.spec.detect_secrets_args)
        return self.secrets

    # -- commits, in the order git printed them -----------------------------------------

    def on_file(self, queue: OrderedScan, commit: CommitInfo, file: FilePatch) -> None:
        if file.binary:
            return
        if file.too_big:
            self.too_big[commit.sha] = self.too_big.get(commit.sha, 0) + 1
            return
        if self.repo.local_attributes and any("\x00" in text for _, text in file.added + file.removed):
            return  # read with --text: a binary file shows as text with NUL bytes
        new = self.local(file.new) if file.new is not None else None
        old = self.local(file.old) if file.old is not None else None
        queue.file(commit, new, old, file)

    def on_added(self, sha: str, path: str, hits: list[Hit]) -> None:
        for line, kind, digest in hits:
            self.added.append([path, line, kind, digest])
            self.pairs.add((path, digest))
            self.watched.add(path)

    def on_removed(self, sha: str, path: str, hits: list[Hit]) -> None:
        gone = {digest for _, _, digest in hits}
        self.removed += [[path, d] for d in sorted(gone) if (path, d) in self.pairs]

    def on_commit(self, commit: CommitInfo) -> None:
        record: dict[str, Any] = {"t": "commit", "sha": commit.sha, "added": self.added}
        record["removed"] = self.removed
        if commit.capped:
            record["capped"] = True
        if too_big := self.too_big.pop(commit.sha, 0) + len(self.big.get(commit.sha, ())):
            record["too_big"] = too_big
        self.emit(record)
        self.emitted.add(commit.sha)
        self.added, self.removed = [], []

    def log(self, shas: Sequence[str]) -> tuple[bool, str | None, str]:
        """Read ``shas`` in order: (completed, the commit being read when git failed, git's error).

        Out of time, it stops after a complete commit: (False, None, "") with ``out_of_time`` set.
        """
        args = ["log", "-p", "--no-walk=unsorted", "--stdin", *LOG_OPTIONS]
        if self.repo.local_attributes:
            args.append("--text")
        pathspecs = [f":(top,literal){self.repo.prefix.rstrip('/')}"] if self.repo.prefix else []
        pathspecs += exclude_pathspecs([p for sha in shas for p in self.big.get(sha, ())])
        if pathspecs:
            args += ["--", *pathspecs]
        queue = OrderedScan(
            self.detector(),
            self.spec.detect_secrets_args,
            self.spec.processes,
            watched=self.watched.__contains__,
            on_added=self.on_added,
            on_removed=self.on_removed,
            on_commit=self.on_commit,
        )
        def commit_done(info: CommitInfo) -> None:
            queue.commit(info)
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.out_of_time = True

        reader = LogReader(
            lambda commit, file: self.on_file(queue, commit, file),
            commit_done,
            max_file_bytes=self.spec.max_file_bytes,
            max_commit_bytes=self.spec.max_commit_bytes,
            keep_added=self.keep_added,
            keep_removed=self.keep_removed,
        )
        self.added, self.removed = [], []
        try:
            with tempfile.TemporaryFile() as err:
                proc = self.repo.popen(*args, stderr=err)
                if proc.stdin is None or proc.stdout is None:
                    raise GitError("git log started without pipes")
                feeder = threading.Thread(target=_feed, args=(proc.stdin, sha_lines(shas)), daemon=True)
                feeder.start()
                for line in _lines(proc.stdout, reader):
                    reader.feed(line)
                    if self.out_of_time:
                        proc.kill()
                        proc.wait()
                        queue.abandon()  # keeps every complete commit
                        return False, None, ""
                code = proc.wait()
                feeder.join()
                if code == 0:
                    reader.finish()
                    queue.finish()
                    return True, None, ""
                failing = reader.commit.sha if reader.commit else None
                queue.abandon()
                return False, failing, tail(err)
        finally:
            queue.close()

    def skip_big(self, todo: Sequence[str]) -> None:
        """Find the file versions of ``todo`` over the size limit, which git must not load."""
        try:
            self.big = big_files(self.repo, todo, self.spec.max_file_bytes)
        except GitError:  # missing objects: read as before, git log says which commits
            self.big = {}
        if self.big:
            note = skip_note(self.big, self.spec.max_file_bytes)
            self.emit({"t": "note", "level": "warning", "message": note})

    def _batch(self, todo: Sequence[str], pos: int) -> Sequence[str]:
        """What one git log reads from ``pos``: a commit with large files alone, else up to the next."""
        if todo[pos] in self.big:
            return todo[pos : pos + 1]
        end = next((i for i in range(pos + 1, len(todo)) if todo[i] in self.big), len(todo))
        return todo[pos:end]

    def read(self, todo: Sequence[str]) -> bool:
        """Read every commit of ``todo`` (oldest first); False when some could not be read."""
        position = {sha: i for i, sha in enumerate(todo)}
        pos = 0
        failures = 0
        while pos < len(todo):
            batch = self._batch(todo, pos)
            ok, failing, error = self.log(batch) if not self.out_of_time else (False, None, "")
            if ok:
                self._close(batch)
                pos += len(batch)
                continue
            if self.out_of_time:
                self.emit({"t": "stopped", "count": sum(1 for sha in todo[pos:] if sha not in self.emitted)})
                return False
            if not missing_object(error):
                raise GitError(f"git log failed: {error}")
            if failing is None:  # git died before it printed the failing commit's header
                done = [i for i, sha in enumerate(batch) if sha in self.emitted]
                failing = batch[done[-1] + 1] if done else batch[0]
            index = position[failing]
            self._close(todo[pos:index])  # before the failing one: done (or nothing to show)
            ok, _, _ = self.log([failing])
            if ok:
                self._close([failing])
            else:
                failures += 1
                self.emit({"t": "unreadable", "sha": failing})
                self.emitted.add(failing)
            pos = index + 1
            if failures >= MAX_UNREADABLE and pos < len(todo):
                self.emit({"t": "unread", "count": len(todo) - pos})
                return False
        return failures == 0

    def _close(self, shas: Sequence[str]) -> None:
        """Commits git passed over without a patch (a merge, nothing under the target): empty."""
        for sha in shas:
            if sha not in self.emitted:
                big = {"too_big": len(self.big[sha])} if sha in self.big else {}
                self.emit({"t": "commit", "sha": sha, "added": [], "removed": [], **big})
                self.emitted.add(sha)


def _feed(stdin: IO[bytes], data: bytes) -> None:
    try:
        stdin.write(data)
        stdin.close()
    except (BrokenPipeError, OSError):  # git died; its exit code says why
        pass


def walk(spec: Spec, empty: Path, emit: Emit) -> None:
    """Scan the history described by ``spec``, printing records through ``emit``."""
    from secscan.scanners._history_presence import presence

    try:
        repo = open_repository(spec.root, empty)
        head, tips = ref_tips(repo, spec.all_branches)
        emit({"t": "repo", "head": head, "tips": tips, "shallow": repo.shallow, "prefix": repo.prefix})
        commits, cut = window(repo, spec, tips) if tips else ([], False)
        emit({"t": "window", "commits": commits, "cut": cut})
        todo = [sha for sha, _ in reversed(commits) if sha not in spec.known]
        state = _Walk(spec, repo, emit)
        state.skip_big(todo)
        state.read(todo)
        presence(repo, tips, state.pairs, spec.memo, state.detector, spec.max_file_bytes, emit)
    except GitError as exc:
        emit({"t": "fatal", "message": str(exc)})
    except subprocess.SubprocessError as exc:
        emit({"t": "fatal", "message": f"git could not run: {exc}"})
    emit({"t": "end"})
