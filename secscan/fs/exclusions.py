"""What the file walk leaves out besides the exclude patterns: secscan's own files, and what git ignores.

**Own files.** ``cd repo && secscan run .`` writes ``secscan.sarif`` (and may keep its database
and cache) inside the target; scanning them on the next run quoted every finding back as a new
one (25 -> 71 -> 309 -> 589 findings). Every file a run was told to write, when it lies inside
the target, is skipped with its family: the same name followed by ``-`` or ``.`` (SQLite's
``-wal``, ``-shm`` and ``-journal``, the ``.locks`` folder, a damaged cache set aside) and the
atomic writer's temporary ``.<name>.*`` files.

**Ignored files.** In a git work tree, untracked files that git ignores (``.gitignore`` files and
``.git/info/exclude``) are skipped, as detect-secrets and semgrep do; a tracked file is scanned
even when an ignore pattern matches it. The list comes from one ``git ls-files --others
--ignored --exclude-standard --directory`` through the hardened runner of
:mod:`secscan.fs.gitinfo` (no hooks, no fsmonitor, no system or global configuration, no
``core.excludesFile``: only what the repository says), so a wholly ignored folder such as
``node_modules/`` is one entry and the walk never enters it. When git is missing or fails on a
work tree, nothing is skipped as ignored and the run says why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from secscan.core.model import Notification, NotificationLevel

log = logging.getLogger(__name__)

GIT_TIMEOUT_S = 120.0
_LIST_IGNORED = ("ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z")
_EXCLUDES_FILE = "core.excludesFile=/dev/null"
_FAMILY_SEPARATORS = ("-", ".")


def _inside(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX), or None when it is not below it."""
    try:
        relative = path.resolve().relative_to(root)
    except (OSError, ValueError, RuntimeError):
        return None
    return relative.as_posix() if relative.parts else None


@dataclass(frozen=True)
class GitIgnored:
    """The untracked paths git ignores under a root: files, and folders ignored as a whole."""

    files: frozenset[str] = frozenset()
    folders: frozenset[str] = frozenset()


def _maybe_in_git(root: Path) -> bool:
    """False when git cannot find a repository for ``root``: no folder from ``root`` up holds a
    ``.git`` (folder or file) or is itself a git folder (``HEAD``); git runs without ``GIT_DIR``
    (:func:`~secscan.fs.gitinfo.git_env`), so that is where it looks."""
    return any((folder / ".git").exists() or (folder / "HEAD").exists() for folder in (root, *root.parents))


def git_ignored(root: Path, *, timeout: float = GIT_TIMEOUT_S) -> GitIgnored | str | None:
    """What git ignores under ``root``; None when ``root`` is not in a git work tree, or a
    one-line reason when git could not tell (missing, refused the repository, timed out).
    Outside any repository git is not started (a process per run for nothing)."""
    if not _maybe_in_git(root):
        return None
    import subprocess

    from secscan.fs.gitinfo import SAFE_CONFIG, GitNotFoundError, run_git  # git runs only in a repository

    try:
        proc = run_git(root, _LIST_IGNORED, timeout=timeout, config=(*SAFE_CONFIG, _EXCLUDES_FILE))
    except GitNotFoundError:
        in_git = any((folder / ".git").exists() for folder in (root, *root.parents))
        return "git is not installed" if in_git else None
    except subprocess.TimeoutExpired:
        return f"git did not list the ignored files within {timeout:g} s"
    except OSError as exc:
        return f"git could not run ({exc})"
    if proc.returncode != 0:
        error = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        if any("not a git repository" in line for line in error):
            return None
        return f"git could not list the ignored files ({error[-1] if error else proc.returncode})"
    files: set[str] = set()
    folders: set[str] = set()
    for raw in proc.stdout.split(b"\0"):
        if not raw:
            continue
        name = os.fsdecode(raw)
        if name.endswith("/"):
            folders.add(name.rstrip("/"))
        else:
            files.add(name)
    return GitIgnored(frozenset(files), frozenset(folders))


@dataclass
class Skips:
    """Decides, entry by entry during the walk, what to leave out; counts what it left out.

    ``outputs`` are secscan's own files (repo-relative), ``ignored`` what git ignores.
    """

    outputs: frozenset[str] = frozenset()
    ignored: GitIgnored = GitIgnored()
    ignored_files: int = field(default=0, init=False)
    ignored_folders: int = field(default=0, init=False)
    own_files: int = field(default=0, init=False)

    def is_output(self, relpath: str) -> bool:
        """Whether ``relpath`` is one of secscan's own files (or of their family)."""
        folder, _, name = relpath.rpartition("/")
        for output in self.outputs:
            out_folder, _, out_name = output.rpartition("/")
            if folder != out_folder:
                continue
            if name == out_name or name.startswith(f".{out_name}."):
                return True
            if name.startswith(out_name) and name[len(out_name)] in _FAMILY_SEPARATORS:
                return True
        return False

    def __call__(self, relpath: str, is_dir: bool) -> bool:
        """Whether the walk leaves out the entry at ``relpath`` (its parents having passed)."""
        if self.outputs and self.is_output(relpath):
            self.own_files += 1
            return True
        if relpath in (self.ignored.folders if is_dir else self.ignored.files):
            if is_dir:
                self.ignored_folders += 1
            else:
                self.ignored_files += 1
            return True
        return False

    def notifications(self, ignored_unknown: str | None = None) -> list[Notification]:
        """What the run says about the walk: how many ignored entries it left out, or why it
        could not tell them (``ignored_unknown``, from :func:`build_skips`)."""
        notes = []
        if self.ignored_files or self.ignored_folders:
            folders = f" and {self.ignored_folders} folder(s)" if self.ignored_folders else ""
            notes.append(
                Notification(
                    NotificationLevel.NOTE,
                    f"not scanned: {self.ignored_files} file(s){folders} that git ignores "
                    "([scan] include_ignored = true scans them)",
                )
            )
        if ignored_unknown is not None:
            notes.append(
                Notification(NotificationLevel.WARNING, f"files git ignores were scanned: {ignored_unknown}")
            )
        if self.own_files:
            log.info("left out %d file(s) secscan writes inside the target", self.own_files)
        return notes


def build_skips(root: Path, outputs: Iterable[Path], *, include_ignored: bool) -> tuple[Skips, str | None]:
    """The :class:`Skips` of a run of ``root`` (resolved) that writes ``outputs``, and why
    ignored files could not be told apart (None when they could, or ``root`` is not in git)."""
    own = frozenset(rel for rel in (_inside(p, root) for p in outputs) if rel is not None)
    if include_ignored:
        return Skips(outputs=own), None
    found = git_ignored(root)
    if isinstance(found, str):
        log.warning("scanning files git may ignore in %s: %s", root, found)
        return Skips(outputs=own), found
    return Skips(outputs=own, ignored=found or GitIgnored()), None
