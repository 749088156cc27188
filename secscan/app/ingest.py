"""``secscan ingest``: record a third-party SARIF log (CodeQL, semgrep, gitleaks...) as a run.

The file is untrusted input. It is streamed (:mod:`secscan.scanners.sarif_load`), never held
whole, with a hard cap on its size (for ``.sarif.gz``, on the *decompressed* size, so a gzip bomb
stops at the cap: :mod:`secscan.app.ingest_log`), decoded, depth-checked and validated by
:mod:`secscan.scanners.sarif_input`; of each run the first
:data:`~secscan.scanners.sarif_input.MAX_RESULTS_PER_RUN` results are read and the rest only
counted, so memory stays bounded whatever the log's size. Every problem is one :class:`InputError` naming the
file; nothing is written until the whole log is understood, and the run is then recorded with
one ``tracking.record_run`` call, which is one transaction: all of it or nothing.

Decisions:

* Each SARIF run becomes one scanner result (runs of the same tool are merged into one). A tool
  that ran is a *full* analysis of the target, so its scope is ``.``: findings it reported
  before and not now are fixed. A run whose ``invocations[].executionSuccessful`` is false, or
  that has no ``results`` array, is ``failed`` with an empty scope: it closes nothing. A run with
  more results than the cap is ``incomplete`` (the findings read are recorded, but a finding
  beyond the cap may still be present, so it closes nothing either). Runs of one tool are merged,
  so a failed or incomplete run is never overruled by an ok one of the same tool.
* Targets are identified by name (as in the store). The recorded root path is ``root`` when
  given, else the target's name. Without ``root`` relative URIs are kept as given and absolute
  ``file:`` URIs are skipped (with a notification). ``.secscan/suppressions.toml`` is read from
  ``root`` when given; without it the decisions the file made so far are kept as they are.
* Identity is secscan's own fingerprint (:mod:`secscan.core.identity`): with ``root`` the code
  context is read from the checkout, without it the context is empty (identity is then tool,
  rule, path and occurrence order). Tool fingerprints are not trusted. GitHub line hashes are
  not computed (``line_hash`` stays ``None``): nothing an ingest records or prints uses them.
* Texts are redacted with the built-in token patterns and with the secret values the log itself
  points at: a region snippet that is one token and is quoted by its result's message (the shape
  of gitleaks' output) is treated as a secret value (:mod:`secscan.app.ingest_sarif`), so it never
  reaches the database. Each run
  is redacted with the values found up to its end; when a later run points at a new value, the
  log is read a second time with all of them (so a value is redacted wherever it is quoted).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from secscan.app import tracking
from secscan.app.ingest_log import MAX_INGEST_BYTES, LogFileError, log_chunks
from secscan.app.ingest_sarif import SnippetWatch, quoted_snippets, run_failure
from secscan.config.suppressions import read_suppressions
from secscan.core.errors import InputError
from secscan.core.identity import ReadText, assign_identities
from secscan.core.model import (
    Finding,
    Notification,
    Rule,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    ToolName,
    new_run_id,
)
from secscan.core.policy import SeverityPolicy
from secscan.core.ports.store import RunOutcome, Store
from secscan.core.redact import Redactor
from secscan.core.sla import SlaPolicy
from secscan.fs.source_reader import source_reader
from secscan.scanners.sarif_input import MAX_RESULTS_PER_RUN, ParsedRun, parse_run
from secscan.scanners.sarif_load import stream_runs

logger = logging.getLogger(__name__)

_NO_ROOT = Path("/.secscan-no-root")
"""Root used without ``--root``: relative URIs (and ``%SRCROOT%``-based ones) are kept as given,
absolute ``file:`` URIs are outside it and skipped with a notification."""


@dataclass(frozen=True)
class IngestRequest:
    """What ``secscan ingest`` was asked to record."""

    path: Path
    target_name: str
    tool: ToolName | None = None
    root: Path | None = None  # the checkout the log describes, when it is at hand


def _merge(tool: ToolName, parsed: Sequence[ParsedRun], failure: str | None) -> ScannerResult:
    rules: dict[str, Rule] = {}
    for p in parsed:
        for rule in p.rules:
            rules.setdefault(rule.id, rule)
    findings: tuple[Finding, ...] = tuple(f for p in parsed for f in p.findings)
    notes: tuple[Notification, ...] = tuple(n for p in parsed for n in p.notifications)
    incomplete = next((p.incomplete for p in parsed if p.incomplete is not None), None)
    status, reason = ScannerStatus.OK, None
    if failure is not None:
        status, reason = ScannerStatus.FAILED, failure
    elif incomplete is not None:
        status, reason = ScannerStatus.INCOMPLETE, incomplete
    return ScannerResult(
        name=tool,
        version=next((p.version for p in parsed if p.version), ""),
        status=status,
        duration_s=0.0,
        exit_code=None,
        findings=findings,
        rules=tuple(rules.values()),
        notifications=notes,
        scope=frozenset({"."}) if status is ScannerStatus.OK else frozenset(),
        reason=reason,
    )


def _with_identities(scanners: Sequence[ScannerResult], read: ReadText) -> list[ScannerResult]:
    """The scanners with their findings fingerprinted, in one pass (each file is read once)."""
    # No GitHub line hashes: nothing on this path keeps or shows them (the store has no column
    # for them; ingest prints ids and counts), and they are a third of the fingerprinting work.
    identified = assign_identities([f for s in scanners for f in s.findings], read, line_hashes=False)
    out, start = [], 0
    for scanner in scanners:
        end = start + len(scanner.findings)
        out.append(replace(scanner, findings=identified[start:end]))
        start = end
    return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one bulk step (restored after, if it was on).

    A log of 100k results is millions of JSON containers and then 100k findings, none of them
    in a reference cycle; while they pile up, the collector would walk the growing heap again
    and again (about a fifth of an ingest's time). Reference counting still frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_run(request: IngestRequest, now: datetime, policy: SeverityPolicy) -> ScanRun:
    """Read, validate, parse, redact and fingerprint the log into a :class:`ScanRun`. No writes."""
    with _gc_paused():
        return _build_run(request, now, policy)


def _read_runs(
    request: IngestRequest, root: Path | None, policy: SeverityPolicy, known: frozenset[str]
) -> tuple[list[tuple[ParsedRun, str | None]], frozenset[str], bool]:
    """One pass over the log: each run parsed (and redacted with the secret values found so far,
    ``known`` included) with why it is not a complete analysis. Also returns every value found
    and whether each run was redacted with all of them."""
    found = set(known)
    redactor, redacted_with = Redactor(found), frozenset(found)
    runs: list[tuple[ParsedRun, str | None]] = []
    used: list[int] = []  # how many values each run was redacted with (the set only grows)
    try:
        watch = SnippetWatch(log_chunks(request.path, MAX_INGEST_BYTES))
        for streamed in stream_runs(
            watch,
            max_results=MAX_RESULTS_PER_RUN,
            on_result=lambda result: found.update(quoted_snippets(result)) if watch.maybe else None,
        ):
            if found != redacted_with:
                redactor, redacted_with = Redactor(found), frozenset(found)
            parsed = parse_run(
                streamed,
                tool=request.tool,
                root=root or _NO_ROOT,
                policy=policy,
                redact=redactor.text,
                redact_rule=redactor.rule_text,
            )
            runs.append((parsed, run_failure(streamed.run)))
            used.append(len(redacted_with))
    except LogFileError:
        raise
    except InputError as exc:
        raise InputError(f"{request.path}: {exc}") from None
    return runs, frozenset(found), all(size == len(found) for size in used)


def _build_run(request: IngestRequest, now: datetime, policy: SeverityPolicy) -> ScanRun:
    root = None if request.root is None else request.root.resolve()
    runs, secrets, exact = _read_runs(request, root, policy, frozenset())
    if not exact:  # an earlier run may quote a value a later one pointed at: read it again
        runs, _, _ = _read_runs(request, root, policy, secrets)
    by_tool: dict[ToolName, list[int]] = {}
    for index, (p, _) in enumerate(runs):
        by_tool.setdefault(p.tool, []).append(index)
    merged = []
    for tool, indexes in by_tool.items():
        # Runs of one tool are one scanner: a failed one must not let an ok one close its findings.
        failure = next((runs[i][1] for i in indexes if runs[i][1] is not None), None)
        merged.append(_merge(tool, [runs[i][0] for i in indexes], failure))
    if not merged:
        raise InputError(f"{request.path}: the SARIF log has no runs; there is nothing to ingest")
    del runs
    read: ReadText = source_reader(root) if root is not None else (lambda _path: None)
    scanners = _with_identities(merged, read)
    target = str(root) if root is not None else request.target_name
    return ScanRun(
        run_id=new_run_id(now),
        target=target,
        target_name=request.target_name,
        started_at=now,
        finished_at=now,
        scanners=tuple(scanners),
    )


def record(
    store: Store, run: ScanRun, now: datetime, sla_policy: SlaPolicy, root: Path | None = None
) -> RunOutcome:
    """Record a built run in one transaction, with the suppressions file of ``root`` if given.

    Without ``root`` the file cannot be read: the store is told so (``None``) and keeps the
    decisions that file made so far as they are.
    """
    suppressions = None if root is None else read_suppressions(root)
    with _gc_paused():
        outcome = tracking.record_run(store, run, now, sla_policy, suppressions)
    logger.info("ingested %d findings into %s as run %s", len(run.findings), run.target_name, run.run_id)
    return outcome


def ingest_file(
    store: Store,
    path: Path,
    target_name: str,
    tool: ToolName | None,
    now: datetime,
    policy: SeverityPolicy,
    sla_policy: SlaPolicy,
    *,
    root: Path | None = None,
) -> RunOutcome:
    """Read ``path`` and record it as a run of ``target_name``: all of it, or nothing."""
    request = IngestRequest(path=path, target_name=target_name, tool=tool, root=root)
    run = build_run(request, now, policy)
    return record(store, run, now, sla_policy, request.root)


__all__ = [
    "IngestRequest",
    "build_run",
    "ingest_file",
    "record",
]
