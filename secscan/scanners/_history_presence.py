"""Where the secrets of the history still are: the blob of each path at HEAD and at every tip.

For each path where a secret was ever added, ``git cat-file --batch-check`` names its blob at
every tip (one process for all of them); each blob not scanned before (the adapter's memo is keyed
by path and blob id) is read with ``git cat-file --batch`` and scanned with detect-secrets like a
file of the tree, and the SHA-1s found are printed. The adapter then knows, for every secret of
the history, whether HEAD still holds it (the tree scan reports it) or another branch does.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterable
from typing import IO, Any

from secscan.scanners._history_git import GitError, Repository
from secscan.scanners._history_secrets import SecretLines

Emit = Callable[[dict[str, Any]], None]


def _write(stdin: IO[bytes], data: bytes) -> None:
    try:
        stdin.write(data)
        stdin.close()
    except OSError:
        pass


def _blobs_at(repo: Repository, tips: dict[str, str], paths: list[str]) -> list[tuple[str, str, str]]:
    """``(tip name, path, blob id)`` for every path that is a file at a tip."""
    queries = [(name, path) for name in sorted(tips) for path in paths]
    request = "".join(f"{tips[name]}:{repo.prefix}{path}\n" for name, path in queries).encode()
    out = repo.run("cat-file", "--batch-check=%(objectname) %(objecttype)", stdin=request)
    found = []
    for (name, path), line in zip(queries, out.decode("utf-8", "replace").splitlines(), strict=False):
        parts = line.split(" ")
        if len(parts) == 2 and parts[1] == "blob":
            found.append((name, path, parts[0]))
    return found


def read_blobs(repo: Repository, blobs: list[str], limit: int) -> Iterable[tuple[str, bytes | None]]:
    """Each object's content (None when over ``limit`` bytes or missing), in order, from one
    git process; ``blobs`` are blob ids or ``<commit>:<path>`` names (without line breaks)."""
    if not blobs:
        return
    with repo.popen("cat-file", "--batch", stderr=subprocess.DEVNULL) as proc:
        if proc.stdin is None or proc.stdout is None:
            raise GitError("git cat-file started without pipes")
        request = "".join(f"{b}\n" for b in blobs).encode()
        feeder = threading.Thread(target=_write, args=(proc.stdin, request))
        feeder.start()
        for blob in blobs:
            header = proc.stdout.readline().decode("ascii", "replace").split()
            if len(header) != 3 or not header[2].isdigit():
                yield blob, None  # "<id> missing" (a partial clone)
                continue
            size = int(header[2])
            if size > limit:
                _skip(proc.stdout, size + 1)
                yield blob, None
                continue
            content = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after the content
            yield blob, content
        feeder.join()


def _skip(stream: IO[bytes], count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, 1 << 20))
        if not chunk:
            return
        count -= len(chunk)


def presence(
    repo: Repository,
    tips: dict[str, str],
    pairs: Iterable[tuple[str, str]],
    memo: frozenset[tuple[str, str]],
    detector: Callable[[], SecretLines],
    max_file_bytes: int,
    emit: Emit,
) -> None:
    """Print ``at`` records for every (tip, path) and ``blob`` records for blobs not in ``memo``."""
    paths = sorted({path for path, _ in pairs if "\n" not in path})
    if not paths or not tips:
        return
    try:
        located = _blobs_at(repo, tips, paths)
    except GitError as exc:
        message = f"git-history cannot tell which secrets the branches still hold: {exc}"
        emit({"t": "note", "level": "warning", "message": message})
        return
    wanted: dict[str, list[str]] = {}
    for name, path, blob in located:
        emit({"t": "at", "tip": name, "path": path, "blob": blob})
        if (path, blob) not in memo:
            wanted.setdefault(blob, [])
            if path not in wanted[blob]:
                wanted[blob].append(path)
    for blob, content in read_blobs(repo, sorted(wanted), max_file_bytes):
        text = content.decode("utf-8", "replace") if content is not None and b"\0" not in content else ""
        lines = list(enumerate(text.splitlines(keepends=True), start=1))
        for path in wanted[blob]:
            found = sorted({digest for _, _, digest in detector().scan(path, lines)}) if lines else []
            emit({"t": "blob", "path": path, "blob": blob, "hashes": found})
