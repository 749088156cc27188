"""The file versions of the history too large to read, found before ``git log -p`` runs.

``git log -p`` loads a blob whole to print its patch, even one it then calls binary: git 2.39
compares an added or deleted file's content in memory before printing "Binary files differ",
whatever ``core.bigFileThreshold`` says. One 3 GB file ever committed (it compresses to a few
megabytes if it is zeros) made the history scan use 3 GB of memory. So the commits to read are
first listed with ``git diff-tree --raw`` (tree entries only, no blob is read), the sizes of
the blobs they name are asked of ``git cat-file --batch-check`` (object headers only), and a
path whose old or new version is over ``[scan] max_file_size`` is left out of its commit's
``git log -p`` by an exclude pathspec (:func:`exclude_pathspecs`). Such a version would not be
scanned anyway (:mod:`secscan.scanners._git_log` drops a file's lines past that size).

Everything goes through temporary files, not pipes between processes, so no stage waits on
another and memory holds only the large versions found.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from typing import IO

from secscan.core.printable import printable
from secscan.scanners._history_git import GitError, Repository, sha_lines, tail

CHUNK = 1 << 16
_NULL_OIDS = frozenset({"0" * 40, "0" * 64})
_GITLINK = "160000"

BigFiles = dict[str, tuple[str, ...]]
"""Commit id -> the repository paths (as git gave them, undecodable bytes as surrogates) whose
version in that commit, or in its parent, is over the size limit."""


def _tokens(stream: IO[bytes]) -> Iterator[bytes]:
    """The NUL-separated tokens of ``git diff-tree -z`` output, read in chunks."""
    rest = b""
    while chunk := stream.read(CHUNK):
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _changes(stream: IO[bytes]) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(commit, the blob ids of a change, path) for every file change of the raw diff."""
    commit = ""
    tokens = _tokens(stream)
    for token in tokens:
        if not token.startswith(b":"):
            commit = token.decode("ascii", "replace").strip()
            continue
        fields = token[1:].decode("ascii", "replace").split()
        path = next(tokens, b"").decode("utf-8", "surrogateescape")
        if len(fields) < 5:
            continue
        modes, oids = fields[0:2], fields[2:4]
        blobs = tuple(o for m, o in zip(modes, oids, strict=True) if m != _GITLINK and o not in _NULL_OIDS)
        if blobs:
            yield commit, blobs, path


def _run(repo: Repository, args: Sequence[str], stdin: IO[bytes], stdout: IO[bytes]) -> None:
    with tempfile.TemporaryFile() as err:
        code = subprocess.run(  # argv list, no shell, hardened config (_history_git)
            repo.argv(*args), cwd=repo.empty, env=repo.env(), stdin=stdin, stdout=stdout,
            stderr=err, check=False,
        ).returncode
        if code != 0:
            raise GitError(f"git {args[0]} failed: {tail(err)}")


def big_files(repo: Repository, shas: Sequence[str], limit: int) -> BigFiles:
    """The paths of ``shas`` whose old or new version is larger than ``limit`` bytes.

    GitError when git cannot list them (missing objects: the caller reads as before).
    """
    if not shas:
        return {}
    pathspec = ["--", f":(top,literal){repo.prefix.rstrip('/')}"] if repo.prefix else []
    with tempfile.TemporaryFile() as todo, tempfile.TemporaryFile() as raw, \
            tempfile.TemporaryFile() as oids, tempfile.TemporaryFile() as sizes:
        todo.write(sha_lines(shas))
        todo.seek(0)
        _run(repo, ["diff-tree", "--stdin", "-r", "-z", "--root", "--no-renames", "--no-textconv",
                    "--no-ext-diff", *pathspec], todo, raw)
        raw.seek(0)
        seen: set[str] = set()
        for _, blobs, _ in _changes(raw):
            for oid in blobs:
                if oid not in seen:
                    seen.add(oid)
                    oids.write(f"{oid}\n".encode("ascii"))
        if not seen:
            return {}
        seen.clear()
        oids.seek(0)
        _run(repo, ["cat-file", "--batch-check=%(objectname) %(objectsize)"], oids, sizes)
        sizes.seek(0)
        big = set()
        for line in sizes:
            oid, _, size = line.decode("ascii", "replace").strip().partition(" ")
            if size.isdigit() and int(size) > limit:
                big.add(oid)
        if not big:
            return {}
        raw.seek(0)
        found: dict[str, list[str]] = {}
        for commit, blobs, path in _changes(raw):
            if any(oid in big for oid in blobs):
                found.setdefault(commit, []).append(path)
    return {commit: tuple(paths) for commit, paths in found.items()}


def exclude_pathspecs(paths: Sequence[str]) -> list[str]:
    """Pathspecs leaving ``paths`` (repository paths) out of a ``git log``."""
    return [f":(exclude,top,literal){path}" for path in paths]


def skip_note(big: BigFiles, limit: int, shown: int = 5) -> str:
    """The warning naming the file versions left out (the first ``shown`` of them)."""
    named = [f"{printable(p)} in {sha[:12]}" for sha, paths in big.items() for p in paths]
    more = f" and {len(named) - shown} more" if len(named) > shown else ""
    return (
        f"git-history: {len(named)} file versions larger than [scan] max_file_size ({limit} bytes) "
        f"were not read, and a secret in them would not be found: {', '.join(named[:shown])}{more}"
    )
