"""Run scanners and turn every way they can end into a :class:`ScannerResult`.

:func:`run_scanner` never raises for a scanner's problem: a plan that cannot be made, a
command that cannot start or exits with an unexpected code, a deadline, a cancellation or
output that cannot be parsed all become a ``failed``/``timeout``/``skipped`` result with a
one-line reason, so one scanner never loses the others' results. A parse that says its output
is not a whole analysis (:attr:`ScanOutput.incomplete`) gives an ``incomplete`` result. :func:`run_all` runs
several scanners at once, each in a thread that waits on its subprocesses.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from secscan.core.clip import clip
from secscan.core.errors import ScannerError
from secscan.core.model import Notification, ScannerResult, ScannerStatus
from secscan.scanners.interface import CommandResult, Plan, ScanJob, Scanner, ScanOutput

logger = logging.getLogger(__name__)

_REASON_CHARS = 200

ScanItem = tuple[Scanner, ScanJob, float]
"""A scanner, its job and its timeout in seconds."""


def _one_line(text: str, limit: int = _REASON_CHARS) -> str:
    """``text`` flattened to one printable line of at most ``limit`` characters."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return clip(flat, limit, "…")  # redacted later: a cut must not keep part of a secret


def _last_line(stderr_tail: str) -> str:
    lines = [line for line in stderr_tail.splitlines() if line.strip()]
    return _one_line(lines[-1]) if lines else ""


def _crash(scanner: Scanner, step: str, exc: Exception) -> str:
    logger.exception("%s crashed while %s", scanner.name, step)
    return (
        f"{scanner.name} adapter crashed while {step} ({type(exc).__name__}: {_one_line(str(exc), 120)}); "
        "this is a secscan bug, please report it"
    )


class _Outcome:
    """Accumulates what is known about one scanner run (private, single-threaded)."""

    def __init__(self, scanner: Scanner, started: float) -> None:
        self.scanner = scanner
        self.started = started
        self.version = "unknown"
        self.exit_code: int | None = None
        self.notifications: tuple[Notification, ...] = ()

    def result(
        self,
        status: ScannerStatus,
        reason: str | None = None,
        output: ScanOutput | None = None,
        nothing_to_scan: bool = False,
    ) -> ScannerResult:
        notifications = self.notifications + (output.notifications if output else ())
        stated = output.version if output else None  # what the tool's output says, when asking it could not
        return ScannerResult(
            name=self.scanner.name,
            version=stated if self.version == "unknown" and stated else self.version,
            status=status,
            duration_s=time.monotonic() - self.started,
            exit_code=self.exit_code,
            findings=output.findings if output else (),
            rules=output.rules if output else (),
            notifications=notifications,
            scope=output.scope if output and not output.closes_nothing else frozenset(),
            reason=reason,
            closes_nothing=bool(output and output.closes_nothing),
            extent=output.extent if output else None,
            nothing_to_scan=nothing_to_scan,
        )


def _exit_code(scanner: Scanner, results: Sequence[CommandResult]) -> tuple[int | None, CommandResult | None]:
    """The first non-ok exit code and its command, else the highest exit code."""
    for result in results:
        if not scanner.exit_ok(result.exit_code):
            return result.exit_code, result
    return (max(r.exit_code for r in results) if results else None), None


def _over_memory(results: Sequence[CommandResult]) -> str | None:
    """What the supervisor said when it killed a command over the memory cap, else None."""
    if all(r.exit_code == 0 for r in results):
        return None
    from secscan.scanners._supervise import MEMORY_EXIT, MEMORY_MARK  # not on a clean exit: it loads ctypes

    for result in results:
        if result.exit_code == MEMORY_EXIT and MEMORY_MARK in result.stderr_tail:
            return _last_line(result.stderr_tail).removeprefix(MEMORY_MARK).strip()
    return None


def _version(scanner: Scanner) -> str:
    try:
        return scanner.version()
    except Exception as exc:  # a missing tool shows up again, clearly, in plan()
        logger.debug("cannot read the version of %s: %s", scanner.name, exc)
        return "unknown"


def _plan(scanner: Scanner, job: ScanJob, outcome: _Outcome) -> Plan | ScannerResult:
    try:
        job.workdir.mkdir(parents=True, exist_ok=True)
        return scanner.plan(job)
    except ScannerError as exc:
        return outcome.result(ScannerStatus.FAILED, _one_line(str(exc), 400))
    except OSError as exc:
        return outcome.result(
            ScannerStatus.FAILED,
            f"{scanner.name} could not be prepared in {job.workdir}: {exc.strerror or exc}; "
            "check the work directory",
        )
    except Exception as exc:
        return outcome.result(ScannerStatus.FAILED, _crash(scanner, "planning", exc))


def run_scanner(
    scanner: Scanner,
    job: ScanJob,
    timeout_s: float,
    cancel: threading.Event | None = None,
    memory_cap: int = 0,
) -> ScannerResult:
    """Plan, run and parse one scanner within ``timeout_s`` seconds, each of its commands within
    ``memory_cap`` resident bytes (0: no cap); never raises for its problems."""
    outcome = _Outcome(scanner, time.monotonic())
    try:
        return _run(scanner, job, timeout_s, cancel, outcome, memory_cap)
    except Exception as exc:
        return outcome.result(ScannerStatus.FAILED, _crash(scanner, "running", exc))


def _run(
    scanner: Scanner,
    job: ScanJob,
    timeout_s: float,
    cancel: threading.Event | None,
    outcome: _Outcome,
    memory_cap: int,
) -> ScannerResult:
    deadline = outcome.started + timeout_s
    name = scanner.name
    outcome.version = _version(scanner)
    planned = _plan(scanner, job, outcome)
    if isinstance(planned, ScannerResult):
        return planned
    outcome.notifications = planned.notifications
    if planned.skip_reason is not None:
        empty = planned.nothing_to_scan
        return outcome.result(ScannerStatus.SKIPPED, planned.skip_reason, nothing_to_scan=empty)
    if cancel is not None and cancel.is_set():
        return outcome.result(ScannerStatus.FAILED, f"{name} was cancelled before it started")
    results: tuple[CommandResult, ...] = ()
    if planned.commands:  # issue 18: a plan with nothing to run (posture, cache hits) loads no process code
        from secscan.scanners._subprocess import BatchEnd, run_commands

        try:
            batch = run_commands(
                planned.commands, deadline, cancel, workdir=job.workdir, memory_cap=memory_cap
            )
        except ScannerError as exc:
            return outcome.result(ScannerStatus.FAILED, _one_line(str(exc), 400))
        if batch.end is BatchEnd.TIMED_OUT:
            reason = f"{name} timed out after {timeout_s:g} s; raise [scanners.{name}] timeout"
            return outcome.result(ScannerStatus.TIMEOUT, reason)
        if batch.end is BatchEnd.CANCELLED:
            return outcome.result(ScannerStatus.FAILED, f"{name} was cancelled before it finished")
        results = batch.results
    outcome.exit_code, bad = _exit_code(scanner, results)
    if (over := _over_memory(results)) is not None:  # before exit_ok: no exit code of a tool's means it
        return outcome.result(
            ScannerStatus.FAILED,
            f"{name} was stopped, {over}; exclude the file that makes it grow ([scanners.{name}] exclude) "
            "or raise [scan] max_memory_mb",
        )
    if bad is not None:
        last = _last_line(bad.stderr_tail)
        detail = f": {last}" if last else ""
        return outcome.result(
            ScannerStatus.FAILED,
            f"{name} exited with code {bad.exit_code}{detail}; "
            f"check [scanners.{name}] args or run the tool by hand in the target",
        )
    try:
        output = scanner.parse(job, results)
    except ScannerError as exc:
        return outcome.result(ScannerStatus.FAILED, _one_line(str(exc), 400))
    except Exception as exc:
        return outcome.result(ScannerStatus.FAILED, _crash(scanner, "parsing its output", exc))
    if output.exit_code is not None:  # some results came from the result cache
        outcome.exit_code = output.exit_code
    if output.incomplete is not None:  # real findings, but not a whole analysis: it closes nothing
        partial = dataclasses.replace(output, scope=frozenset())
        return outcome.result(ScannerStatus.INCOMPLETE, _one_line(output.incomplete, 400), output=partial)
    return outcome.result(ScannerStatus.OK, output=output)


def run_all(
    items: Sequence[ScanItem],
    on_done: Callable[[ScannerResult], None] | None = None,
    cancel: threading.Event | None = None,
    memory_cap: int = 0,
) -> list[ScannerResult]:
    """Run every scanner concurrently; results in input order. ``memory_cap``: the resident bytes
    each command's process tree may hold (0: no cap).

    ``on_done`` is called in the calling thread as each scanner finishes. If it raises, the
    other scanners still finish and the first such exception is re-raised at the end.
    """
    if not items:
        return []
    results: list[ScannerResult | None] = [None] * len(items)
    callback_error: BaseException | None = None
    stop = cancel if cancel is not None else threading.Event()
    with ThreadPoolExecutor(max_workers=len(items), thread_name_prefix="secscan-scanner") as pool:
        futures = {
            pool.submit(run_scanner, scanner, job, timeout_s, stop, memory_cap): index
            for index, (scanner, job, timeout_s) in enumerate(items)
        }
        try:
            for future in as_completed(futures):
                result = future.result()
                results[futures[future]] = result
                if on_done is not None:
                    try:
                        on_done(result)
                    except Exception as exc:
                        logger.exception("on_done callback failed for %s", result.name)
                        callback_error = callback_error or exc
        except BaseException:  # Ctrl-C or SIGTERM here: stop the scanners rather than wait for them
            stop.set()
            raise
    if callback_error is not None:
        raise callback_error
    return [result for result in results if result is not None]
