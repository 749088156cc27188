"""Run scanner commands as isolated subprocesses under one deadline.

Every :class:`~secscan.scanners.interface.Command` runs without a shell, in its own session
(hence its own process group), with stdin from ``/dev/null``, stdout written to
``command.stdout_path`` and stderr spooled to an anonymous temporary file (or to
``command.stderr_path``) of which the last :data:`STDERR_TAIL_BYTES` are kept on the result.
The environment is rebuilt from scratch (:func:`scanner_env`), so the caller's tokens never
reach a scanner.

Each command runs under a small supervisor (:mod:`secscan.scanners._supervise`, its own
process) that follows secscan's death (``PR_SET_PDEATHSIG``), is the subreaper of everything
the tool starts (``PR_SET_CHILD_SUBREAPER``: a process that calls ``setsid`` stays in its tree),
and kills every descendant when the tool exits, is stopped, or secscan dies, even by
``kill -9``. The kernel sends the death signal when the *thread* that forked the supervisor
exits, so a command is started and waited for by one thread (:func:`run_commands` runs in
the caller's thread from start to reaping). Processes that a supervisor could not take down
with it carry ``SECSCAN_WORKDIR`` (the scanner's work folder) in their environment, by which
the next run finds them (:mod:`secscan.scanners.scratch`).

On the deadline or on ``cancel`` every group gets SIGTERM, then after a short grace SIGKILL.
A group leader is reaped only after its group was killed, so its pid (the group id) cannot be
reused while we still signal it, and grandchildren that a tool left behind die with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

from secscan.core.errors import ScannerError
from secscan.scanners.interface import Command, CommandResult
from secscan.scanners.scratch import WORKDIR_VAR

logger = logging.getLogger(__name__)

STDERR_TAIL_BYTES = 4096
KILL_GRACE_S = 1.0
_POLL_S = 0.02
SUPERVISOR = str(Path(__file__).with_name("_supervise.py"))

PASSTHROUGH_ENV = frozenset(
    {
        "PATH",
        "HOME",
        "TMPDIR",
        # Network configuration that pip-audit needs behind a proxy or a private CA.
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
    }
)
"""The only variables copied from the caller's environment (no tokens, no PYTHONPATH)."""


class BatchEnd(StrEnum):
    """How a batch of commands ended."""

    COMPLETED = "completed"  # every command exited on its own
    TIMED_OUT = "timed-out"  # the deadline passed; the remaining groups were killed
    CANCELLED = "cancelled"  # the cancel event was set; the remaining groups were killed


@dataclass(frozen=True)
class BatchResult:
    """The commands' results in input order and how the batch ended."""

    results: tuple[CommandResult, ...]
    end: BatchEnd
    elapsed_s: float


def scanner_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal, deterministic environment for a scanner, plus ``extra``.

    ``PYTHONSAFEPATH`` keeps ``python -m tool`` with the target as working directory from
    importing a module of the target that shadows the tool (code execution from the repo).
    """
    env = {key: value for key, value in os.environ.items() if key in PASSTHROUGH_ENV}
    env.setdefault("PATH", os.defpath)
    env.setdefault("HOME", tempfile.gettempdir())
    env["TMPDIR"] = tempfile.gettempdir()
    env.update(
        {
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONSAFEPATH": "1",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class _Running:
    """One started command (private, mutable bookkeeping of :func:`run_commands`)."""

    command: Command
    process: subprocess.Popen[bytes]
    stderr: IO[bytes]
    started: float
    ended: float | None = None


def _exited(pid: int) -> bool:
    """Whether the child has exited, without reaping it (its pid stays reserved)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - STDERR_TAIL_BYTES))
    return stream.read().decode("utf-8", errors="replace")


def _check_executable(command: Command, env: Mapping[str, str]) -> None:
    """Raise ScannerError now when the tool cannot be found or run (as ``execvp`` would fail)."""
    name = command.argv[0]
    found = (command.cwd / name) if "/" in name else shutil.which(name, path=env.get("PATH"))
    if found is None or not Path(found).is_file():
        problem = "No such file or directory"
    elif not os.access(found, os.X_OK):
        problem = "Permission denied"
    else:
        return
    raise ScannerError(
        f"cannot start {name} in {command.cwd}: {problem}; "
        "check that the tool is installed and the target exists"
    )


def _start(
    command: Command, stack: contextlib.ExitStack, grace_s: float, workdir: Path | None, memory_cap: int
) -> _Running:
    env = scanner_env(command.env)
    if workdir is not None:
        env[WORKDIR_VAR] = str(workdir)
    _check_executable(command, env)
    limits = (str(os.getpid()), f"{grace_s / 2:g}", str(memory_cap))
    supervised = (sys.executable, "-I", "-S", SUPERVISOR, *limits, *command.argv)
    if command.stderr_path is not None:
        stderr = stack.enter_context(command.stderr_path.open("w+b"))
    else:
        stderr = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 - closed by the stack
    try:
        with command.stdout_path.open("wb") as stdout:
            process = subprocess.Popen(
                supervised,
                cwd=command.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                close_fds=True,
            )
    except OSError as exc:
        raise ScannerError(
            f"cannot start {command.argv[0]} in {command.cwd}: {exc.strerror or exc}; "
            "check that the tool is installed and the target exists"
        ) from exc
    return _Running(command, process, stderr, time.monotonic())


def _wait(running: Sequence[_Running], deadline: float, cancel: threading.Event) -> BatchEnd:
    while True:
        now = time.monotonic()
        for item in running:
            if item.ended is None and _exited(item.process.pid):
                item.ended = now
        if all(item.ended is not None for item in running):
            return BatchEnd.COMPLETED
        if cancel.is_set():
            return BatchEnd.CANCELLED
        if now >= deadline:
            return BatchEnd.TIMED_OUT
        cancel.wait(min(_POLL_S, max(0.0, deadline - now)))


def _terminate(running: Sequence[_Running], grace_s: float) -> None:
    """SIGTERM every group still running, wait up to ``grace_s``, then SIGKILL every group."""
    live = [item for item in running if not _exited(item.process.pid)]
    for item in live:
        _signal_group(item.process.pid, signal.SIGTERM)
    until = time.monotonic() + grace_s
    while live and time.monotonic() < until:
        live = [item for item in live if not _exited(item.process.pid)]
        time.sleep(_POLL_S)


def _finish(running: Sequence[_Running]) -> tuple[CommandResult, ...]:
    results = []
    now = time.monotonic()
    for item in running:
        # The leader is not reaped yet, so the group id is still ours: kill any leftovers.
        _signal_group(item.process.pid, signal.SIGKILL)
        exit_code = item.process.wait()
        ended = item.ended if item.ended is not None else now
        results.append(
            CommandResult(
                command=item.command,
                exit_code=exit_code,
                duration_s=ended - item.started,
                stderr_tail=_tail(item.stderr),
            )
        )
    return tuple(results)


@contextlib.contextmanager
def _started(
    commands: Sequence[Command], grace_s: float, workdir: Path | None, memory_cap: int
) -> Iterator[list[_Running]]:
    """Start every command; whatever happens, leave no process of theirs behind."""
    running: list[_Running] = []
    with contextlib.ExitStack() as stack:
        try:
            for command in commands:
                running.append(_start(command, stack, grace_s, workdir, memory_cap))
            yield running
        finally:
            for item in running:
                if item.process.returncode is None:
                    _signal_group(item.process.pid, signal.SIGKILL)
                    item.process.wait()


def run_commands(
    commands: Sequence[Command],
    deadline: float,
    cancel: threading.Event | None = None,
    grace_s: float = KILL_GRACE_S,
    workdir: Path | None = None,
    memory_cap: int = 0,
) -> BatchResult:
    """Run ``commands`` concurrently until they all exit, ``deadline`` passes or ``cancel`` is set.

    ``deadline`` is a :func:`time.monotonic` instant. ``workdir`` (the scanner's work folder)
    is named in the commands' environment (:data:`WORKDIR_VAR`). ``memory_cap``: the resident
    bytes each command's process tree may hold before its supervisor kills it (0: no cap; the
    command then exits with :data:`~secscan.scanners._supervise.MEMORY_EXIT`). Raises
    ``ScannerError`` only when a command cannot be started (the ones already started are killed).
    """
    started = time.monotonic()
    with _started(commands, grace_s, workdir, memory_cap) as running:
        end = _wait(running, deadline, cancel or threading.Event())
        if end is not BatchEnd.COMPLETED:
            logger.debug("killing %d process group(s): %s", len(running), end.value)
            _terminate(running, grace_s)
        results = _finish(running)
    return BatchResult(results=results, end=end, elapsed_s=time.monotonic() - started)
