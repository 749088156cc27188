"""The supervisor every scanner command runs under: ``python -I -S _supervise.py PARENT GRACE LIMIT ARGV...``.

It is started by the runner (``secscan.scanners._subprocess``) in a session of its own and makes
sure that nothing the tool starts outlives the tool, the deadline, or secscan itself:

* It asks the kernel for ``SIGTERM`` when its parent dies (``PR_SET_PDEATHSIG``), and exits at
  once if secscan already died before it asked (the parent pid is no longer ``PARENT``).
* It is a child subreaper (``PR_SET_CHILD_SUBREAPER``): a process the tool starts that detaches
  (``setsid``, double fork) is re-parented to the supervisor, not to PID 1, so it stays in the
  supervisor's tree where it can be found and killed.
* It runs the tool as its child, with ``PR_SET_PDEATHSIG`` = ``SIGKILL`` too, and reaps every
  process re-parented to it.
* When the tool exits, every descendant it left behind is killed, and the supervisor exits with
  the tool's status (re-raising a fatal signal, so the runner sees ``-N`` as before).
* On ``SIGTERM`` (the deadline, a cancellation, or secscan's death), it sends ``SIGTERM`` to every
  descendant, waits up to ``GRACE`` seconds for the tool (no wait when secscan is gone), then
  ``SIGKILL`` s every descendant, reaps them and exits.

* With a memory cap (``LIMIT`` bytes, 0: none), it adds up the resident memory of the tool and
  its descendants about once a second; past the cap it kills them all at once (no grace: memory
  is what is running out), writes :data:`MEMORY_MARK` and the figures as the last line of stderr,
  and exits with :data:`MEMORY_EXIT`. A tool made to parse a hostile file (a YAML "billion
  laughs" of 520 bytes) would otherwise take the machine's memory before its timeout.

The tool's argv is executed with ``execvp`` (``PATH`` of the scanner environment, relative paths
from the working directory); when it cannot be executed the reason goes to stderr and the exit
code is 127. This file is self-contained: it runs with ``-I -S`` and imports no secscan module.
"""

import contextlib
import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_SIGNALS = {signal.SIGTERM, signal.SIGCHLD}
MEMORY_MARK = "secscan supervisor: memory cap:"
MEMORY_EXIT = 125
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _prctl(option: int, value: int) -> None:
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
    if prctl is None:  # not Linux: the runner's process-group kill is all there is
        return
    if prctl(option, value, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        sys.stderr.write(f"secscan supervisor: prctl({option}) failed: {os.strerror(err)}\n")


def _tree(root: int) -> dict[int, int]:
    """Every live process below ``root`` (from /proc: parent links), with its resident bytes."""
    children: dict[int, list[int]] = {}
    resident: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")  # noqa: PTH208 - pathlib costs start-up time here
    except OSError:  # no /proc: the runner's process-group kill is all there is
        return {}
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:  # noqa: PTH123
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in (b"Z", b"X"):
            children.setdefault(int(fields[1]), []).append(int(entry))
            resident[int(entry)] = int(fields[21]) * _PAGE  # field 24, rss in pages
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            found[child] = resident[child]
            todo.append(child)
    return found


def _descendants(root: int) -> list[int]:
    return list(_tree(root))


def _signal_all(sig: int) -> int:
    found = _descendants(os.getpid())
    for pid in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    return len(found)


def _reap() -> dict[int, int]:
    """Reap every exited child without blocking; returns pid -> wait status."""
    done: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return done
        if pid == 0:
            return done
        done[pid] = status


def _kill_tree() -> None:
    """SIGKILL every descendant until none is left (a fork racing the kill is caught next round)."""
    for _ in range(100):
        if not _signal_all(signal.SIGKILL):
            break
        time.sleep(0.01)
        _reap()
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def _exit_like(status: int) -> None:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _start(argv: list[str], parent: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:  # the tool: default signal handling, and it dies with its supervisor
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(137)
        os.execvp(argv[0], argv)  # noqa: S606 - argv lists, never a shell
    except OSError as exc:
        sys.stderr.write(f"cannot start {argv[0]}: {exc.strerror or exc}\n")
    finally:
        os._exit(127)


class _OverMemoryError(Exception):
    """The tool and its descendants hold more resident memory than the cap."""


def _check_memory(limit: int) -> None:
    if limit <= 0:
        return
    used = sum(_tree(os.getpid()).values())
    if used > limit:
        mib = 1024 * 1024
        over = f"{used // mib} MiB resident, over the cap of {limit // mib} MiB"
        raise _OverMemoryError(f"{MEMORY_MARK} {over}")


def _wait(tool: int, until: float | None, limit: int = 0) -> int | None:
    """Reap children until the tool exits (its status), SIGTERM arrives or ``until`` passes (None).
    Raises _OverMemoryError when the tool's tree holds more than ``limit`` bytes (0: no cap)."""
    checked = time.monotonic()
    while True:
        status = _reap().get(tool)
        if status is not None:
            return status
        timeout = 1.0 if until is None else until - time.monotonic()
        if timeout <= 0:
            return None
        info = signal.sigtimedwait(_SIGNALS, min(timeout, 1.0))
        if info is not None and info.si_signo == signal.SIGTERM and until is None:
            return None
        if time.monotonic() - checked >= 1.0:  # SIGCHLD can wake us often: look once a second
            checked = time.monotonic()
            _check_memory(limit)


def main() -> None:
    parent, grace, limit, argv = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)  # taken by sigtimedwait, never lost
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # secscan died before we could ask to follow it
        os._exit(137)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    tool = _start(argv, os.getpid())
    try:
        status = _wait(tool, None, limit)
    except _OverMemoryError as over:
        _kill_tree()
        sys.stderr.write(f"\n{over}\n")
        sys.stderr.flush()
        os._exit(MEMORY_EXIT)
    if status is None:  # stopped: the deadline, a cancellation, or secscan is gone
        _signal_all(signal.SIGTERM)
        status = _wait(tool, time.monotonic() + (grace if os.getppid() == parent else 0.0))
    _kill_tree()
    if status is None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    _exit_like(status if status is not None else 0)


if __name__ == "__main__":
    main()
