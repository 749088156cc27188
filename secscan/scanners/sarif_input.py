"""Read third-party SARIF 2.1.0 (semgrep, gitleaks, zizmor, trivy, CodeQL, ...) into Findings.

Pure: the caller hands over the bytes (:func:`parse_sarif`) or the runs of
:func:`secscan.scanners.sarif_load.stream_runs` (:func:`parse_run`). The log is untrusted input: it is
size-, depth- and type-checked, and a malformed part never crashes the reader. Unusable results
are skipped with a :class:`Notification` saying why (no rule id, no location, a location outside
the root).

Decisions:

- Snippets and ``contextRegion`` are never copied (they hold raw source, secrets included);
  every text taken from the log passes through ``redact`` when given (rule texts, which the
  tool wrote, through ``redact_rule`` when given).
- ``identity`` is left ``None``: the pipeline then fingerprints the normalised code context,
  the same way for every tool. Tool fingerprints (``partialFingerprints``) change between tool
  versions and some include line numbers, so they are not trusted as identity.
- Results with ``kind`` ``pass``/``notApplicable``, ``baselineState`` ``absent`` or an
  accepted suppression are not findings and are skipped silently.
- Without ``tool``, the run's tool name is the driver name lower-cased and slugged
  (``Semgrep OSS`` -> ``semgrep-oss``).
- A run with more than :data:`MAX_RESULTS_PER_RUN` results is read up to the cap and is
  *incomplete* (:attr:`ParsedRun.incomplete`): the results left out may include findings that are
  still present, so such a run must close nothing.
- URIs are percent-decoded to the path's bytes (:func:`secscan.fs.names.from_uri`), so a file
  name that is not UTF-8 is found again; a lone surrogate in any other text becomes U+FFFD.
  Line and column numbers above :data:`~secscan.scanners._sarif_paths.MAX_POSITION` are clamped
  to it, with a notification.

This module reads a run's results and notifications; where they point is resolved by
:mod:`secscan.scanners._sarif_paths`, the rules they refer to by :mod:`secscan.scanners._sarif_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secscan.core.model import Finding, Location, Notification, NotificationLevel, Rule, Severity, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.fs.names import valid_text
from secscan.scanners._sarif_paths import MAX_POSITION, ArtifactPaths, position
from secscan.scanners._sarif_rules import RuleIndex
from secscan.scanners._sarif_values import as_dict, as_list, as_str, clip
from secscan.scanners.sarif_load import StreamedRun, chunked, stream_runs

MAX_RESULTS_PER_RUN = 100_000
"""Results read per run; a run with more is incomplete (and closes nothing)."""
_MAX_MEMO_TEXT = 4096  # longer texts are redacted each time (a memo of them could hold a lot)
_SLUG = re.compile(r"[^a-z0-9]+")
_ARGUMENT = re.compile(r"\{(\d+)\}")
_SKIPPED_KINDS = ("pass", "notApplicable")
_ACCEPTED = (None, "accepted")  # suppression statuses that make a result no finding
_LEVELS = {"error": NotificationLevel.ERROR, "warning": NotificationLevel.WARNING}

Redact = Callable[[str], str]


@dataclass(frozen=True)
class ParsedRun:
    """One SARIF run, normalised. ``rules`` holds the rules its findings refer to.

    ``incomplete`` says why the run is not a whole analysis (its results were cut at
    :data:`MAX_RESULTS_PER_RUN`), or is ``None``.
    """

    tool: ToolName
    version: str
    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    notifications: tuple[Notification, ...]
    incomplete: str | None = None


class _RunReader:
    """Turns one run object into a ParsedRun."""

    def __init__(
        self,
        run: dict[str, Any],
        tool: ToolName | None,
        root: Path,
        policy: SeverityPolicy,
        redact: Redact,
        redact_rule: Redact | None = None,
    ) -> None:
        tool_obj = as_dict(run.get("tool"))
        self.driver = as_dict(tool_obj.get("driver"))
        driver_name = as_str(self.driver.get("name")) or "sarif"
        self.tool = tool or ToolName(_SLUG.sub("-", driver_name.lower()).strip("-") or "sarif")
        self.run = run
        self.policy = policy
        self.redact = redact
        # Rules are looked up once per result: indexed once per run.
        extensions = [as_dict(e) for e in as_list(tool_obj.get("extensions"))]
        self.rule_index = RuleIndex(self.driver, extensions, redact_rule or redact)
        self.paths = ArtifactPaths(run, root)
        self.notes: list[Notification] = []
        self.clamped = False
        # Results repeat their texts: each distinct one is redacted once.
        self.redacted: dict[str, str] = {}
        self.severities: dict[tuple[str | None, str], tuple[Severity, str]] = {}

    def note(
        self, level: NotificationLevel, message: str, where: tuple[str, int | None] | None = None
    ) -> None:
        path, line = where if where is not None else (None, None)
        self.notes.append(Notification(level, clip(self.text(message)), path, line))

    def text(self, text: str) -> str:
        """``redact(text)`` (lone surrogates as U+FFFD), once per distinct (not too long) text."""
        done = self.redacted.get(text)
        if done is None:
            done = self.redact(valid_text(text))
            if len(text) <= _MAX_MEMO_TEXT:
                self.redacted[text] = done
        return done

    # -- locations ---------------------------------------------------------------------
    def location(self, result: dict[str, Any]) -> Location | str:
        """The first physical location, or why there is none."""
        locations = result.get("locations")
        first = locations[0] if isinstance(locations, list) and locations else None
        physical = as_dict(as_dict(first).get("physicalLocation"))
        artifact = as_dict(physical.get("artifactLocation"))
        if not artifact:
            return "it has no file location"
        path = self.paths.relative(artifact)
        if path is None:
            return "its location is outside the scanned root"
        region = as_dict(physical.get("region"))
        start, end = region.get("startLine"), region.get("endLine")
        column, end_column = region.get("startColumn"), region.get("endColumn")
        # ``type(x) is int`` and in range is the common case of _position, checked inline (per result)
        start = start if type(start) is int and 1 <= start <= MAX_POSITION else position(start, 1) or 1
        end = end if type(end) is int and start <= end <= MAX_POSITION else position(end, start)
        column = column if type(column) is int and 1 <= column <= MAX_POSITION else position(column, 1)
        if not (type(end_column) is int and 1 <= end_column <= MAX_POSITION):
            end_column = position(end_column, 1)
        if MAX_POSITION in (start, end, column, end_column) and not self.clamped:
            self.clamped = True
            self.note(
                NotificationLevel.WARNING,
                f"{self.tool}: a line or column number above {MAX_POSITION} was clamped to it",
                (path, None),
            )
        return Location(path, start, column, end, end_column)

    # -- results -----------------------------------------------------------------------
    def message(self, result: dict[str, Any], rule: dict[str, Any] | None) -> str:
        message = as_dict(result.get("message"))
        text = as_str(message.get("text")) or as_str(message.get("markdown"))
        if text is None and (msg_id := as_str(message.get("id"))) is not None and rule is not None:
            template = as_dict(as_dict(rule.get("messageStrings")).get(msg_id))
            text = as_str(template.get("text")) or as_str(template.get("markdown"))
        if text is None:
            return ""
        if "{" in text:
            arguments = [str(a) for a in as_list(message.get("arguments"))]
            text = _ARGUMENT.sub(lambda m: arguments[int(m[1])] if int(m[1]) < len(arguments) else m[0], text)
        return clip(self.text(text))

    def severity(self, score: str | None, level: str) -> tuple[Severity, str]:
        """The severity and ``tool_severity`` of a (security-severity, level) pair, once per pair."""
        key = (score, level)
        known = self.severities.get(key)
        if known is None:
            tool_severity = f"security-severity {score[:16]}" if score else level[:16]
            known = self.severities[key] = (self.policy.sarif(score, level), tool_severity)
        return known

    def finding(self, result: dict[str, Any], rules: dict[str, Rule]) -> Finding | None:
        if result.get("kind") in _SKIPPED_KINDS or result.get("baselineState") == "absent":
            return None
        suppressions = result.get("suppressions")  # usually absent
        if suppressions and any(as_dict(s).get("status") in _ACCEPTED for s in as_list(suppressions)):
            return None
        rule = self.rule_index.rule_of(result)
        rule_id = as_str(result.get("ruleId")) or as_str(as_dict(result.get("rule")).get("id"))
        rule_id = rule_id or (as_str(rule.get("id")) if rule is not None else None)
        if not rule_id:
            self.note(NotificationLevel.WARNING, f"{self.tool}: result skipped: it has no rule id")
            return None
        rule_id = valid_text(rule_id)
        location = self.location(result)
        if isinstance(location, str):
            self.note(NotificationLevel.WARNING, f"{self.tool}: result of rule {rule_id} skipped: {location}")
            return None
        default_level, default_score = self.rule_index.rule_defaults(rule)
        level = as_str(result.get("level")) or default_level or "warning"
        properties = result.get("properties")
        score = as_str(as_dict(properties).get("security-severity")) if properties else None
        score = score or default_score
        if rule_id not in rules:
            rules[rule_id] = self.rule_index.model(rule_id, rule)
        severity, tool_severity = self.severity(score, level)
        return Finding(
            tool=self.tool,
            rule_id=rule_id,
            message=self.message(result, rule) or rules[rule_id].short_description,
            location=location,
            severity=severity,
            tool_severity=tool_severity,
        )

    def invocation_notes(self) -> None:
        for invocation in as_list(self.run.get("invocations")):
            invocation = as_dict(invocation)
            if invocation.get("executionSuccessful") is False:
                self.note(
                    NotificationLevel.ERROR, f"{self.tool} reported that its execution was not successful"
                )
            for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
                for raw in as_list(invocation.get(key)):
                    text = self.message(as_dict(raw), None)
                    level = _LEVELS.get(str(as_dict(raw).get("level")), NotificationLevel.NOTE)
                    first = next(iter(as_list(as_dict(raw).get("locations"))), None)
                    physical = as_dict(as_dict(first).get("physicalLocation"))
                    path = self.paths.relative(as_dict(physical.get("artifactLocation")))
                    line = position(as_dict(physical.get("region")).get("startLine"), 1)
                    self.note(
                        level,
                        f"{self.tool}: {text or 'notification without text'}",
                        (path, line) if path else None,
                    )

    def read(self, total_results: int) -> ParsedRun:
        """The run, its first ``MAX_RESULTS_PER_RUN`` results read; ``total_results`` counts all."""
        rules: dict[str, Rule] = {}
        findings: list[Finding] = []
        results = as_list(self.run.get("results"))
        total_results = max(total_results, len(results))
        incomplete = None
        if total_results > MAX_RESULTS_PER_RUN:
            incomplete = (
                f"only the first {MAX_RESULTS_PER_RUN} of {total_results} results were read "
                "(secscan's cap per run); the others were not, so this run closes no finding"
            )
            self.note(NotificationLevel.ERROR, f"{self.tool}: {incomplete}")
        for raw in results[:MAX_RESULTS_PER_RUN]:
            if (finding := self.finding(as_dict(raw), rules)) is not None:
                findings.append(finding)
        self.invocation_notes()
        version = as_str(self.driver.get("semanticVersion")) or as_str(self.driver.get("version")) or ""
        return ParsedRun(
            self.tool, valid_text(version[:100]), tuple(findings), tuple(rules.values()), tuple(self.notes),
            incomplete,
        )  # fmt: skip


def parse_run(
    streamed: StreamedRun,
    *,
    tool: ToolName | None,
    root: Path,
    policy: SeverityPolicy,
    redact: Redact | None = None,
    redact_rule: Redact | None = None,
) -> ParsedRun:
    """One run of :func:`secscan.scanners.sarif_load.stream_runs` as a ParsedRun.

    ``root`` is the absolute scanned root (``file://`` URIs under it become repo-relative);
    ``redact`` is applied to every text taken from the log, ``redact_rule`` (default:
    ``redact``) to the rules' names, descriptions and help.
    """
    reader = _RunReader(as_dict(streamed.run), tool, root, policy, redact or (lambda text: text), redact_rule)
    return reader.read(streamed.total_results)


def parse_sarif(
    data: bytes,
    *,
    tool: ToolName | None,
    root: Path,
    policy: SeverityPolicy,
    redact: Redact | None = None,
) -> list[ParsedRun]:
    """Check and parse a whole SARIF log held in memory: one ParsedRun per run, in order.

    Raises InputError when the log is unusable.
    """
    runs = stream_runs(chunked(data), max_results=MAX_RESULTS_PER_RUN)
    return [parse_run(run, tool=tool, root=root, policy=policy, redact=redact) for run in runs]
