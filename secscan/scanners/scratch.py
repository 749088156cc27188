"""A run's scratch folder (``secscan-*`` in the temporary directory), marked with its owner.

:func:`run_folder` creates the folder and holds an ``flock`` on its ``owner.lock`` for as long as
the run lives; the kernel releases it when the process dies, even on ``kill -9``. The file also
names the owner's pid, for people. The lock is taken before the file gets its name, so a folder
is never seen with an ``owner.lock`` that nobody holds while its run is alive.

:func:`remove_stale` runs at every start (each scan, and the daemon's start): a folder of this
user whose ``owner.lock`` is free belongs to a dead run. Processes whose ``SECSCAN_WORKDIR``
(set by the runner for every scanner, inherited by what they start) lies inside it are killed,
then the folder is removed. A folder whose lock is held (a live run, possibly in another
container sharing the directory) or that has no ``owner.lock`` (not secscan's, or older) is left
alone: nothing is deleted without proof that its owner is dead.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

WORKDIR_VAR = "SECSCAN_WORKDIR"
"""The environment variable naming the work folder of a scanner's processes (inherited by theirs).

It is defined here, with the folders it names, so that a run whose scanners start no process
(every answer cached) does not load :mod:`secscan.scanners._subprocess` (issue 18)."""

PREFIX = "secscan-"
OWNER = "owner.lock"


def _mark_owner(folder: Path) -> int:
    """Lock a new file, then give it its name: the descriptor holding the owner lock."""
    fd, temporary = tempfile.mkstemp(prefix=".owner-", dir=folder)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps({"pid": os.getpid()}).encode())
        Path(temporary).rename(folder / OWNER)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def run_folder(parent: Path | None = None) -> Iterator[Path]:
    """A new, private scratch folder for one run (removed afterwards); stale ones go first."""
    base = Path(parent or tempfile.gettempdir())
    remove_stale(base)
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
    try:
        fd = _mark_owner(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def _owner_pid(fd: int) -> str:
    try:
        return str(int(json.loads(os.pread(fd, 200, 0))["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown"


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Kill the leftover processes of dead runs' folders in ``parent`` and remove the folders."""
    base = Path(parent or tempfile.gettempdir())
    removed = []
    try:
        candidates = sorted(base.glob(PREFIX + "*"))
    except OSError:
        return []
    for folder in candidates:
        try:
            info = folder.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
                continue
            fd = os.open(folder / OWNER, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # gone meanwhile, or no owner mark: not ours to judge
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its run is alive
        try:
            killed = kill_processes_in(folder)
            shutil.rmtree(folder, ignore_errors=True)
            log.warning(
                "removed the scratch folder %s of a dead run (pid %s); %d leftover process(es) killed",
                folder, _owner_pid(fd), killed,
            )  # fmt: skip
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


def _workdir_of(pid: str) -> str | None:
    try:
        with Path(f"/proc/{pid}/environ").open("rb") as fh:
            environ = fh.read()
    except OSError:  # gone, or another user's process
        return None
    marker = WORKDIR_VAR.encode() + b"="
    for entry in environ.split(b"\0"):
        if entry.startswith(marker):
            return os.fsdecode(entry[len(marker) :])
    return None


def kill_processes_in(folder: Path) -> int:
    """SIGKILL every process (of this user) whose scanner work folder lies inside ``folder``."""
    inside = str(folder) + os.sep
    killed = 0
    try:
        pids = [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and p.name != str(os.getpid())]
    except OSError:
        return 0
    for pid in pids:
        workdir = _workdir_of(pid)
        if workdir is not None and (workdir + os.sep).startswith(inside):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
    return killed
