"""``secscan ingest``: record a third-party SARIF log (CodeQL, semgrep, gitleaks...) as a run.

The file is untrusted input. It is read with a hard cap on its size (for ``.sarif.gz``, on the
*decompressed* size, read as a stream so a gzip bomb stops at the cap), then decoded, depth-checked
and validated by :mod:`secscan.sarif_input`. Every problem is one :class:`InputError` naming the
file; nothing is written until the whole log is understood, and the run is then recorded with
one ``store.record_run`` call, which is one transaction: all of it or nothing.

Decisions:

* Each SARIF run becomes one scanner result (runs of the same tool are merged into one). A tool
  that ran is a *full* analysis of the target, so its scope is ``.``: findings it reported
  before and not now are fixed. A run whose ``invocations[].executionSuccessful`` is false, or
  that has no ``results`` array, is ``failed`` with an empty scope: it closes nothing. Runs of
  one tool are merged, so a failed run is never overruled by an ok one of the same tool.
* Targets are identified by name (as in the store). The recorded root path is ``root`` when
  given, else the target's name. Without ``root`` relative URIs are kept as given and absolute
  ``file:`` URIs are skipped (with a notification). ``.secscan/suppressions.toml`` is read from
  ``root`` when given; without it the decisions the file made so far are kept as they are.
* Identity is secscan's own fingerprint (:mod:`secscan.identity`): with ``root`` the code
  context is read from the checkout, without it the context is empty (identity is then tool,
  rule, path and occurrence order). Tool fingerprints are not trusted.
* Texts are redacted with the built-in token patterns and with the secret values the log itself
  points at: a region snippet that is one token and is quoted by its result's message (the shape
  of gitleaks' output) is treated as a secret value, so it never reaches the database.
"""

from __future__ import annotations

import gzip
import json
import logging
import secrets
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from secscan.errors import InputError
from secscan.identity import ReadText, assign_identities, source_reader
from secscan.model import (
    Finding,
    FindingState,
    Notification,
    Rule,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    ToolName,
)
from secscan.policy import SeverityPolicy
from secscan.redact import MIN_SECRET_LENGTH, Redactor
from secscan.sarif_input import MAX_SARIF_BYTES, ParsedRun, parse_sarif
from secscan.sla import SlaPolicy
from secscan.store.interface import FindingQuery, RunOutcome, Store, Suppression
from secscan.triage import SUPPRESSIONS_ACTOR, parse_suppressions

logger = logging.getLogger(__name__)

MAX_INGEST_BYTES = MAX_SARIF_BYTES
"""The cap on a log's (decompressed) size."""
MAX_SUPPRESSIONS_BYTES = 1024 * 1024
SUPPRESSIONS_FILE = ".secscan/suppressions.toml"
MIN_SNIPPET_SECRET = max(MIN_SECRET_LENGTH, 8)
"""A quoted snippet shorter than this is not taken as a secret value (it would shred messages)."""

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1024 * 1024
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


def new_run_id(now: datetime) -> RunId:
    """Sortable, unique run id (the same shape as ``secscan run``'s)."""
    return RunId(f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}")


def _chunks(fh: Any) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk


def read_capped(path: Path, limit: int = MAX_INGEST_BYTES) -> bytes:
    """The bytes of ``path`` (gunzipped when it is gzip), refusing more than ``limit`` of them.

    Gzip is recognised by its magic number, so ``.sarif.gz`` and a gzip log under any name work.
    Decompression streams chunk by chunk and stops at the cap. Raises InputError.
    """
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise InputError(f"SARIF file {path} {what}; give the path of a .sarif or .sarif.gz file")
    too_big = f"SARIF file {path} is larger than {limit} bytes"
    try:
        with path.open("rb") as raw:
            if raw.read(2) != _GZIP_MAGIC:
                if path.stat().st_size > limit:
                    raise InputError(f"{too_big}; split the analysis or filter its results")
                raw.seek(0)
                data = raw.read(limit + 1)
                if len(data) > limit:  # it grew while we read it
                    raise InputError(f"{too_big}; split the analysis or filter its results")
                return data
            raw.seek(0)
            parts: list[bytes] = []
            total = 0
            with gzip.GzipFile(fileobj=raw, mode="rb") as fh:
                for chunk in _chunks(fh):
                    total += len(chunk)
                    if total > limit:
                        raise InputError(f"{too_big} once decompressed; split it or filter its results")
                    parts.append(chunk)
            return b"".join(parts)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(f"SARIF file {path} is not a valid gzip file ({exc}); re-compress it") from None
    except OSError as exc:
        raise InputError(f"cannot read SARIF file {path}: {exc.strerror or exc}; check the path") from None


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _get(obj: object, *keys: str) -> object:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _message_texts(result: dict[str, Any]) -> list[str]:
    message = result.get("message")
    arguments = _get(message, "arguments")
    texts = [_get(message, "text"), _get(message, "markdown")]
    texts += arguments if isinstance(arguments, list) else []
    return [t for t in texts if isinstance(t, str)]


def quoted_snippets(doc: dict[str, Any]) -> set[str]:
    """Region snippets that are one token and that their result's message quotes (see module doc)."""
    values: set[str] = set()
    for run in _dicts(doc.get("runs")):
        for result in _dicts(run.get("results")):
            texts = _message_texts(result)
            for location in _dicts(result.get("locations")) if texts else ():
                snippet = _get(location, "physicalLocation", "region", "snippet", "text")
                value = snippet.strip() if isinstance(snippet, str) else ""
                one_token = len(value) >= MIN_SNIPPET_SECRET and not any(c.isspace() for c in value)
                if one_token and any(value in text for text in texts):
                    values.add(value)
    return values


class _LogRedactor:
    """The ``redact`` of one log: token patterns plus the log's quoted snippets (module doc).

    It is built on the first text it is given. ``parse_sarif`` hands it texts only after it has
    checked the log (size, UTF-8, depth, version), so the log is then safe to load, and it is
    loaded once more only here, not checked twice.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._doc: dict[str, Any] | None = None
        self._redactor: Redactor | None = None

    def document(self) -> dict[str, Any]:
        """The parsed log; call it only after ``parse_sarif`` accepted the log."""
        if self._doc is None:
            doc = json.loads(self._data.decode("utf-8-sig"))
            self._doc = doc if isinstance(doc, dict) else {}
        return self._doc

    def __call__(self, text: str) -> str:
        if self._redactor is None:
            self._redactor = Redactor(quoted_snippets(self.document()))
        return self._redactor.text(text)


def _merge(tool: ToolName, parsed: Sequence[ParsedRun], failure: str | None) -> ScannerResult:
    rules: dict[str, Rule] = {}
    for p in parsed:
        for rule in p.rules:
            rules.setdefault(rule.id, rule)
    findings: tuple[Finding, ...] = tuple(f for p in parsed for f in p.findings)
    notes: tuple[Notification, ...] = tuple(n for p in parsed for n in p.notifications)
    return ScannerResult(
        name=tool,
        version=next((p.version for p in parsed if p.version), ""),
        status=ScannerStatus.OK if failure is None else ScannerStatus.FAILED,
        duration_s=0.0,
        exit_code=None,
        findings=findings,
        rules=tuple(rules.values()),
        notifications=notes,
        scope=frozenset({"."}) if failure is None else frozenset(),
        reason=failure,
    )


def run_failure(run: object) -> str | None:
    """Why a SARIF run is not a complete analysis, or ``None`` when it is one.

    ``executionSuccessful: false`` says so; a run without a ``results`` array did not analyse
    (SARIF: an empty array means "nothing found", an absent one "no analysis").
    """
    if not isinstance(run, dict):
        return "the SARIF run is not an object"
    if any(inv.get("executionSuccessful") is False for inv in _dicts(run.get("invocations"))):
        return "the SARIF log says its execution was not successful"
    if not isinstance(run.get("results"), list):
        return "the SARIF run has no results array (the tool did not complete its analysis)"
    return None


def build_run(request: IngestRequest, now: datetime, policy: SeverityPolicy) -> ScanRun:
    """Read, validate, parse, redact and fingerprint the log into a :class:`ScanRun`. No writes."""
    root = None if request.root is None else request.root.resolve()
    data = read_capped(request.path, MAX_INGEST_BYTES)
    log = _LogRedactor(data)
    try:
        parsed = parse_sarif(data, tool=request.tool, root=root or _NO_ROOT, policy=policy, redact=log)
    except InputError as exc:
        raise InputError(f"{request.path}: {exc}") from None
    runs = log.document().get("runs", []) if parsed else []
    failures = [run_failure(run) for run in runs]  # parse_sarif keeps the runs' order
    by_tool: dict[ToolName, list[int]] = {}
    for index, p in enumerate(parsed):
        by_tool.setdefault(p.tool, []).append(index)
    read: ReadText = source_reader(root) if root is not None else (lambda _path: None)
    scanners = []
    for tool, indexes in by_tool.items():
        # Runs of one tool are one scanner: a failed one must not let an ok one close its findings.
        failure = next((failures[i] for i in indexes if failures[i] is not None), None)
        merged = _merge(tool, [parsed[i] for i in indexes], failure)
        scanners.append(replace(merged, findings=assign_identities(merged.findings, read)))
    if not scanners:
        raise InputError(f"{request.path}: the SARIF log has no runs; there is nothing to ingest")
    target = str(root) if root is not None else request.target_name
    return ScanRun(
        run_id=new_run_id(now),
        target=target,
        target_name=request.target_name,
        started_at=now,
        finished_at=now,
        scanners=tuple(scanners),
    )


def read_suppressions(root: Path) -> tuple[Suppression, ...]:
    """The target's ``.secscan/suppressions.toml`` (empty when there is none). Raises InputError."""
    path = root / SUPPRESSIONS_FILE
    if not path.is_file():
        return ()
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_SUPPRESSIONS_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check its permissions") from None
    if len(raw) > MAX_SUPPRESSIONS_BYTES:
        raise InputError(f"{path} is larger than {MAX_SUPPRESSIONS_BYTES} bytes; trim it")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    return parse_suppressions(text, str(path))


def standing_suppressions(store: Store, target_name: str) -> tuple[Suppression, ...]:
    """The decisions the target's suppressions file made, as suppressions that keep them.

    Without ``root`` the file cannot be read, and the store takes the suppressions it is given
    as the whole file: it would lift every decision the file made (for every tool of the target).
    Handing back the standing decisions keeps them exactly as they are.
    """
    triaged = store.list_findings(FindingQuery(target=target_name, states=frozenset({FindingState.TRIAGED})))
    return tuple(
        Suppression(reason=d.reason, fingerprint=t.fingerprint, expires=d.until, status=d.status)
        for t in triaged
        if (d := t.triage) is not None and d.actor == SUPPRESSIONS_ACTOR
    )


def record(
    store: Store, run: ScanRun, now: datetime, sla_policy: SlaPolicy, root: Path | None = None
) -> RunOutcome:
    """Record a built run in one transaction, with the suppressions file of ``root`` if given
    (else the decisions that file made so far are kept: :func:`standing_suppressions`)."""
    if root is not None:
        suppressions = read_suppressions(root)
    else:
        suppressions = standing_suppressions(store, run.target_name)
    outcome = store.record_run(run, now, sla_policy, suppressions)
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
    "MAX_INGEST_BYTES",
    "IngestRequest",
    "build_run",
    "ingest_file",
    "read_capped",
    "record",
]
