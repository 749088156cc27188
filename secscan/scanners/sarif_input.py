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
  Line and column numbers above :data:`MAX_POSITION` are clamped to it, with a notification.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from secscan.core.model import Finding, Location, Notification, NotificationLevel, Rule, Severity, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.fs.names import from_uri, valid_text
from secscan.scanners.sarif_load import StreamedRun, chunked, stream_runs

MAX_RESULTS_PER_RUN = 100_000
"""Results read per run; a run with more is incomplete (and closes nothing)."""
MAX_POSITION = 2**31 - 1
"""The largest line or column number kept (larger ones are clamped to it, with a notification)."""
_MAX_TEXT = 1024
_MAX_MEMO_TEXT = 4096  # longer texts are redacted each time (a memo of them could hold a lot)
_SLUG = re.compile(r"[^a-z0-9]+")
_ARGUMENT = re.compile(r"\{(\d+)\}")
_SRCROOT = ("%SRCROOT%", "SRCROOT")
_SKIPPED_KINDS = ("pass", "notApplicable")
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


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object, minimum: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= minimum else None


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _position(value: object, minimum: int) -> int | None:
    """A line or column number (``None`` if it is not one), clamped to :data:`MAX_POSITION`."""
    number = value if type(value) is int and value >= minimum else _int(value, minimum)
    return number if number is None or number <= MAX_POSITION else MAX_POSITION


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
        tool_obj = _dict(run.get("tool"))
        self.driver = _dict(tool_obj.get("driver"))
        self.extensions = [_dict(e) for e in _list(tool_obj.get("extensions"))]
        driver_name = _str(self.driver.get("name")) or "sarif"
        self.tool = tool or ToolName(_SLUG.sub("-", driver_name.lower()).strip("-") or "sarif")
        self.run = run
        self.roots = {root.as_posix(), root.resolve().as_posix()}
        self.policy = policy
        self.redact = redact
        self.redact_rule = redact_rule or redact
        self.rule_redacted: dict[str, str] = {}
        self.bases = _dict(run.get("originalUriBaseIds"))
        self.notes: list[Notification] = []
        self.clamped = False
        # Results repeat their texts and URIs: each distinct one is redacted / resolved once.
        self.redacted: dict[str, str] = {}
        self.paths: dict[tuple[str | None, int | None, str | None], str | None] = {}
        self.severities: dict[tuple[str | None, str], tuple[Severity, str]] = {}
        self.defaults: dict[int, tuple[str | None, str | None]] = {}
        # Rules are looked up once per result: index them once per run.
        self.component_rules = [
            [_dict(r) for r in _list(c.get("rules"))] for c in (self.driver, *self.extensions)
        ]
        self.component_ids: list[dict[object, dict[str, Any]]] = []
        for rules in self.component_rules:
            ids: dict[object, dict[str, Any]] = {}
            for candidate in rules:
                ids.setdefault(candidate.get("id"), candidate)
            self.component_ids.append(ids)
        self.extension_ids: dict[object, dict[str, Any]] = {}
        for ids in self.component_ids[1:]:
            for key, candidate in ids.items():
                self.extension_ids.setdefault(key, candidate)

    def note(
        self, level: NotificationLevel, message: str, where: tuple[str, int | None] | None = None
    ) -> None:
        path, line = where if where is not None else (None, None)
        self.notes.append(Notification(level, _clip(self.text(message)), path, line))

    def text(self, text: str) -> str:
        """``redact(text)`` (lone surrogates as U+FFFD), once per distinct (not too long) text."""
        done = self.redacted.get(text)
        if done is None:
            done = self.redact(valid_text(text))
            if len(text) <= _MAX_MEMO_TEXT:
                self.redacted[text] = done
        return done

    def rule_text(self, text: str) -> str:
        """``redact_rule(text)``, computed once per distinct text."""
        done = self.rule_redacted.get(text)
        if done is None:
            done = self.rule_redacted[text] = self.redact_rule(valid_text(text))
        return done

    # -- rules -------------------------------------------------------------------------
    def rule_of(self, result: dict[str, Any]) -> dict[str, Any] | None:
        ref = _dict(result.get("rule"))
        component = 0
        if ref:  # most results have only ruleId / ruleIndex
            ext_index = _int(_dict(ref.get("toolComponent")).get("index"), 0)
            if ext_index is not None and ext_index < len(self.extensions):
                component = ext_index + 1
        rules = self.component_rules[component]
        index = _int(result.get("ruleIndex"), 0)
        index = index if index is not None or not ref else _int(ref.get("index"), 0)
        if index is not None and index < len(rules):
            return rules[index]
        rule_id = _str(result.get("ruleId")) or _str(ref.get("id"))
        if rule_id is None:
            return None
        # the result's own component first, then any extension (SARIF 3.52.4 order)
        return self.component_ids[component].get(rule_id) or self.extension_ids.get(rule_id)

    def rule_defaults(self, rule: dict[str, Any] | None) -> tuple[str | None, str | None]:
        """A rule's default level and security-severity, read once per rule object."""
        if rule is None:
            return None, None
        # Keyed by id(): the rule dicts live in self.run as long as this reader does.
        known = self.defaults.get(id(rule))
        if known is None:
            level = _str(_dict(rule.get("defaultConfiguration")).get("level"))
            score = _str(_dict(rule.get("properties")).get("security-severity"))
            known = self.defaults[id(rule)] = (level, score)
        return known

    def rule_model(self, rule_id: str, rule: dict[str, Any] | None) -> Rule:
        rule = rule or {}
        short = _str(_dict(rule.get("shortDescription")).get("text"))
        full = _str(_dict(rule.get("fullDescription")).get("text"))
        help_obj = _dict(rule.get("help"))
        help_text = _str(help_obj.get("text")) or _str(help_obj.get("markdown"))
        name = _str(rule.get("name"))
        tags = [t for t in _list(_dict(rule.get("properties")).get("tags")) if isinstance(t, str)]
        short = short or name or rule_id
        return Rule(
            id=rule_id,
            name=self.rule_text(name or rule_id)[:255],
            short_description=_clip(self.rule_text(short)),
            full_description=_clip(self.rule_text(full or short)),
            help_text=self.rule_text(help_text or full or short)[:8192],
            help_uri=valid_text(_str(rule.get("helpUri")) or "") or None,
            tags=tuple(dict.fromkeys(map(valid_text, tags)))[:20],
        )

    # -- locations ---------------------------------------------------------------------
    def _absolute(self, path: str) -> str | None:
        """Repo-relative form of an absolute path ("" for the root itself), None outside the root."""
        for root in self.roots:
            if path == root or path.startswith(root.rstrip("/") + "/"):
                return self._inside(path[len(root) :].lstrip("/"))
        return None

    @staticmethod
    def _inside(path: str) -> str | None:
        rel = posixpath.normpath(path) if path else "."
        if rel == ".":
            return ""
        return None if rel == ".." or rel.startswith(("../", "/")) else rel

    def _resolve(self, artifact: dict[str, Any], depth: int) -> str | None:
        uri = _str(artifact.get("uri"))
        index = _int(artifact.get("index"), 0)
        artifacts = _list(self.run.get("artifacts"))
        if uri is None and index is not None and index < len(artifacts):
            artifact = _dict(_dict(artifacts[index]).get("location"))
            uri = _str(artifact.get("uri"))
        if uri is None or depth > 4:
            return None
        parts = urlsplit(uri)
        if parts.scheme:
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                return None
            return self._absolute(from_uri(parts.path))
        path = from_uri(parts.path)
        if path.startswith("/"):
            return self._absolute(path)
        base_id = _str(artifact.get("uriBaseId"))
        base = ""
        # %SRCROOT% always means the scanned root; an undefined base id is taken as the root too.
        if base_id is not None and base_id not in _SRCROOT and base_id in self.bases:
            resolved = self._resolve(_dict(self.bases[base_id]), depth + 1)
            if resolved is None:
                return None
            base = resolved
        return self._inside(posixpath.join(base, path))

    def relative_path(self, artifact: dict[str, Any]) -> str | None:
        """The artifact's repo-relative POSIX path, or None when it is not a file under the root."""
        # The answer depends only on these three values (and the run): resolved once each.
        uri, index, base_id = artifact.get("uri"), artifact.get("index"), artifact.get("uriBaseId")
        key: tuple[str | None, int | None, str | None]
        if type(uri) is str and index is None and (base_id is None or type(base_id) is str):
            key = (uri, None, base_id)  # the usual shape, the same key as below
        else:
            key = (_str(uri), _int(index, 0), _str(base_id))
        if key in self.paths:
            return self.paths[key]
        path = self.paths[key] = self._resolve(artifact, 0) or None
        return path

    def location(self, result: dict[str, Any]) -> Location | str:
        """The first physical location, or why there is none."""
        locations = result.get("locations")
        first = locations[0] if isinstance(locations, list) and locations else None
        physical = _dict(_dict(first).get("physicalLocation"))
        artifact = _dict(physical.get("artifactLocation"))
        if not artifact:
            return "it has no file location"
        path = self.relative_path(artifact)
        if path is None:
            return "its location is outside the scanned root"
        region = _dict(physical.get("region"))
        start, end = region.get("startLine"), region.get("endLine")
        column, end_column = region.get("startColumn"), region.get("endColumn")
        # ``type(x) is int`` and in range is the common case of _position, checked inline (per result)
        start = start if type(start) is int and 1 <= start <= MAX_POSITION else _position(start, 1) or 1
        end = end if type(end) is int and start <= end <= MAX_POSITION else _position(end, start)
        column = column if type(column) is int and 1 <= column <= MAX_POSITION else _position(column, 1)
        if not (type(end_column) is int and 1 <= end_column <= MAX_POSITION):
            end_column = _position(end_column, 1)
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
        message = _dict(result.get("message"))
        text = _str(message.get("text")) or _str(message.get("markdown"))
        if text is None and (msg_id := _str(message.get("id"))) is not None and rule is not None:
            template = _dict(_dict(rule.get("messageStrings")).get(msg_id))
            text = _str(template.get("text")) or _str(template.get("markdown"))
        if text is None:
            return ""
        if "{" in text:
            arguments = [str(a) for a in _list(message.get("arguments"))]
            text = _ARGUMENT.sub(lambda m: arguments[int(m[1])] if int(m[1]) < len(arguments) else m[0], text)
        return _clip(self.text(text))

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
        if suppressions and any(_dict(s).get("status") in (None, "accepted") for s in _list(suppressions)):
            return None
        rule = self.rule_of(result)
        rule_id = _str(result.get("ruleId")) or _str(_dict(result.get("rule")).get("id"))
        rule_id = rule_id or (_str(rule.get("id")) if rule is not None else None)
        if not rule_id:
            self.note(NotificationLevel.WARNING, f"{self.tool}: result skipped: it has no rule id")
            return None
        rule_id = valid_text(rule_id)
        location = self.location(result)
        if isinstance(location, str):
            self.note(NotificationLevel.WARNING, f"{self.tool}: result of rule {rule_id} skipped: {location}")
            return None
        default_level, default_score = self.rule_defaults(rule)
        level = _str(result.get("level")) or default_level or "warning"
        properties = result.get("properties")
        score = (_str(_dict(properties).get("security-severity")) if properties else None) or default_score
        if rule_id not in rules:
            rules[rule_id] = self.rule_model(rule_id, rule)
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
        for invocation in _list(self.run.get("invocations")):
            invocation = _dict(invocation)
            if invocation.get("executionSuccessful") is False:
                self.note(
                    NotificationLevel.ERROR, f"{self.tool} reported that its execution was not successful"
                )
            for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
                for raw in _list(invocation.get(key)):
                    text = self.message(_dict(raw), None)
                    level = _LEVELS.get(str(_dict(raw).get("level")), NotificationLevel.NOTE)
                    physical = _dict(
                        _dict(next(iter(_list(_dict(raw).get("locations"))), None)).get("physicalLocation")
                    )
                    path = self.relative_path(_dict(physical.get("artifactLocation")))
                    line = _position(_dict(physical.get("region")).get("startLine"), 1)
                    self.note(
                        level,
                        f"{self.tool}: {text or 'notification without text'}",
                        (path, line) if path else None,
                    )

    def read(self, total_results: int) -> ParsedRun:
        """The run, its first ``MAX_RESULTS_PER_RUN`` results read; ``total_results`` counts all."""
        rules: dict[str, Rule] = {}
        findings: list[Finding] = []
        results = _list(self.run.get("results"))
        total_results = max(total_results, len(results))
        incomplete = None
        if total_results > MAX_RESULTS_PER_RUN:
            incomplete = (
                f"only the first {MAX_RESULTS_PER_RUN} of {total_results} results were read "
                "(secscan's cap per run); the others were not, so this run closes no finding"
            )
            self.note(NotificationLevel.ERROR, f"{self.tool}: {incomplete}")
        for raw in results[:MAX_RESULTS_PER_RUN]:
            if (finding := self.finding(_dict(raw), rules)) is not None:
                findings.append(finding)
        self.invocation_notes()
        version = _str(self.driver.get("semanticVersion")) or _str(self.driver.get("version")) or ""
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
    reader = _RunReader(_dict(streamed.run), tool, root, policy, redact or (lambda text: text), redact_rule)
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
