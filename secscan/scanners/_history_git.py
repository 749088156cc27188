"""git for the history scan, hardened against the repository it reads.

Everything :mod:`secscan.fs.gitinfo` neutralises (fsmonitor, hooks, pager, external diff, textconv,
lazy fetches, signatures, system and global configuration, inherited ``GIT_*`` variables) plus
what could change or hide a patch:

* ``.gitattributes`` (``* -diff`` or ``binary`` would print "Binary files differ" instead of the
  lines): git runs with an empty work tree and a missing index as its working directory, so
  no committed attributes are read; only ``$GIT_DIR/info/attributes`` (local, never pushed)
  remains, and when it exists the log is read with ``--text`` and binary files are told apart
  by their content (a NUL byte), as git does.
* configuration that changes the patch format (prefixes, quoting, blank context lines, colour,
  rename detection, a relative diff, an order file, ``core.bigFileThreshold``): pinned on the
  command line, which wins over the repository's file.

Nothing is checked out and no program of the repository runs. git is started without a shell,
with an argv list, stdin from secscan only, and in the wrapper's process group (the runner kills
the group at the scanner's deadline).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from secscan.fs.gitinfo import SAFE_CONFIG, git_env

HISTORY_CONFIG = (
    *SAFE_CONFIG,
    "core.quotePath=false",
    "core.bigFileThreshold=512m",
    "core.attributesFile=/dev/null",
    "diff.suppressBlankEmpty=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
    "diff.renames=false",
    "color.ui=never",
    "log.showRoot=true",
    "log.decorate=false",
    "i18n.logOutputEncoding=UTF-8",
)

LOG_OPTIONS = (
    "--no-color",
    "--no-textconv",
    "--no-ext-diff",
    "--no-renames",
    "--diff-merges=off",
    "--unified=0",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
    "-O/dev/null",
    "--format=%x01%H %ct",
)
"""``git log -p`` options: the patch shape :mod:`secscan.scanners._git_log` reads."""

STDERR_TAIL = 2000


class GitError(Exception):
    """git could not run, or refused the repository (the message says which, in one line)."""


@dataclass(frozen=True)
class Repository:
    """A repository opened for reading: its git directory, the target's path inside it, and
    the empty folder git runs in."""

    git: str
    git_dir: Path
    empty: Path
    prefix: str  # the target's folder inside the repository ("" or "sub/dir/")
    shallow: bool
    local_attributes: bool  # $GIT_DIR/info/attributes exists: read with --text

    def argv(self, *args: str) -> list[str]:
        argv = [self.git]
        for item in HISTORY_CONFIG:
            argv += ["-c", item]
        return [*argv, f"--git-dir={self.git_dir}", f"--work-tree={self.empty}", *args]

    def env(self) -> dict[str, str]:
        env = git_env()
        env["GIT_INDEX_FILE"] = str(self.empty / "no-index")
        return env

    def run(self, *args: str, stdin: bytes = b"") -> bytes:
        """The output of a short git command; GitError when it fails."""
        with tempfile.TemporaryFile() as err:
            proc = subprocess.run(  # argv list, no shell, hardened config (module doc)
                self.argv(*args), cwd=self.empty, env=self.env(), input=stdin,
                stdout=subprocess.PIPE, stderr=err, check=False,
            )
            if proc.returncode != 0:
                raise GitError(f"git {args[0]} failed: {tail(err)}")
        return proc.stdout

    def popen(self, *args: str, stderr: int | object) -> subprocess.Popen[bytes]:
        """A streaming git command (stdin and stdout are pipes)."""
        return subprocess.Popen(  # argv list, no shell, hardened config (module doc)
            self.argv(*args), cwd=self.empty, env=self.env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=stderr,  # type: ignore[arg-type]
        )


def tail(stream: IO[bytes]) -> str:
    """The last line of a temporary file git wrote its stderr to, cleaned for one message."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - STDERR_TAIL))
    text = stream.read().decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else "no message"
    return "".join(ch if ch.isprintable() else " " for ch in last)[:300]


def open_repository(root: Path, empty: Path, git: str = "git") -> Repository:
    """Open the repository holding ``root`` (which may be a folder below its top)."""
    executable = shutil.which(git)
    if executable is None:
        raise GitError("git is not installed")
    argv = [executable]
    for item in HISTORY_CONFIG:
        argv += ["-c", item]
    argv += ["rev-parse", "--absolute-git-dir", "--git-common-dir", "--show-prefix",
             "--is-shallow-repository"]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.run(  # argv list, no shell, hardened config (module doc)
            argv, cwd=root, env=git_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=err, check=False,
        )
        if proc.returncode != 0:
            message = tail(err)
            if "dubious ownership" in message:
                raise GitError(
                    "git refuses the repository: it is owned by another user (dubious ownership); "
                    "run secscan as the repository's owner"
                )
            raise GitError(f"git cannot read the repository: {message}")
    lines = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
    if len(lines) < 4:
        raise GitError("git rev-parse gave an unexpected answer")
    git_dir, common, prefix, shallow = lines[:4]
    common_dir = Path(common) if Path(common).is_absolute() else Path(git_dir) / common
    return Repository(
        git=executable,
        git_dir=Path(git_dir),
        empty=empty,
        prefix=prefix,
        shallow=shallow.strip() == "true",
        local_attributes=_has_content(common_dir / "info" / "attributes")
        or _has_content(Path(git_dir) / "info" / "attributes"),
    )


def _has_content(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def missing_object(message: str) -> bool:
    """Whether git's error is about an object this clone does not have (partial or broken)."""
    words = ("promisor", "unable to read", "missing", "bad object", "could not fetch", "not allowed")
    return any(word in message for word in words)


def sha_lines(shas: Sequence[str]) -> bytes:
    return "".join(f"{sha}\n" for sha in shas).encode("ascii")
