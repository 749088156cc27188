"""Whether a repository's history can have changed since the last scan, told without running git.

Commits are immutable, so what the history scan sees is decided by the references (branches,
tags, remote branches, HEAD) plus a few files that change what git shows (``shallow``,
``info/grafts``, ``info/attributes``). :func:`refs_signature` hashes exactly those, read as files
of the git directory (and of the common directory of a linked worktree; loose refs, packed refs
and reftable files alike). When it equals the signature of the last complete scan, the scan's
results are reused and no process starts. Symbolic links are never followed (a link's target is
hashed as text).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MAX_REF_FILE_BYTES = 64 * 1024 * 1024
_FILES = ("HEAD", "packed-refs", "shallow", "info/grafts", "info/attributes", "commondir")
_FOLDERS = ("refs", "reftable")


def git_dirs(root: Path) -> tuple[Path, ...] | None:
    """The git directory of the work tree holding ``root`` and its common directory (a linked
    worktree's ``.git`` is a file naming its git directory); None when there is none."""
    for folder in (root, *root.parents):
        dot = folder / ".git"
        if dot.is_symlink():
            return None
        if dot.is_dir():
            git_dir = dot
        elif dot.is_file():
            try:
                text = dot.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                return None
            if not text.startswith("gitdir:"):
                return None
            target = Path(text[len("gitdir:") :].strip())
            git_dir = target if target.is_absolute() else folder / target
        else:
            continue
        common = git_dir
        try:
            pointer = (git_dir / "commondir").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            pointer = ""
        if pointer:
            common = Path(pointer) if Path(pointer).is_absolute() else git_dir / pointer
        return tuple(dict.fromkeys((git_dir.resolve(), common.resolve())))
    return None


def _add_file(digest: hashlib._Hash, name: str, path: Path) -> None:
    try:
        if path.is_symlink():
            digest.update(f"L {name}\0{path.readlink()}\n".encode("utf-8", "surrogateescape"))
            return
        with path.open("rb") as fh:
            data = fh.read(MAX_REF_FILE_BYTES + 1)
    except FileNotFoundError:
        digest.update(f"- {name}\n".encode("utf-8", "surrogateescape"))
        return
    if len(data) > MAX_REF_FILE_BYTES:
        raise OSError(f"{name} is too large to compare")
    digest.update(f"F {name}\0{len(data)}\0".encode("utf-8", "surrogateescape") + data)


def refs_signature(root: Path) -> bytes | None:
    """A digest of everything that decides the history a scan of ``root`` sees; None when the
    repository cannot be read that way (the scan then simply runs)."""
    dirs = git_dirs(root)
    if dirs is None:
        return None
    digest = hashlib.sha256(b"secscan-refs/1\0")
    try:
        for base in dirs:
            digest.update(f"D {base}\n".encode("utf-8", "surrogateescape"))
            for name in _FILES:
                _add_file(digest, name, base / name)
            for folder in _FOLDERS:
                for current, subdirs, files in os.walk(base / folder):
                    subdirs.sort()
                    for name in sorted(files):
                        path = Path(current, name)
                        _add_file(digest, path.relative_to(base).as_posix(), path)
    except OSError:
        return None
    return digest.digest()
