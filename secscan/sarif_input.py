"""Read third-party SARIF 2.1.0 (semgrep, gitleaks, zizmor, trivy, CodeQL, ...) into Findings.

Pure: the caller hands over the bytes. The log is untrusted input: it is size-, depth- and
type-checked, and a malformed part never crashes the reader. Unusable results are skipped with
a :class:`Notification` saying why (no rule id, no location, a location outside the root).

Decisions:

- Snippets and ``contextRegion`` are never copied (they hold raw source, secrets included);
  every text taken from the log (messages, rule texts) passes through ``redact`` when given.
- ``identity`` is left ``None``: the pipeline then fingerprints the normalised code context,
  the same way for every tool. Tool fingerprints (``partialFingerprints``) change between tool
  versions and some include line numbers, so they are not trusted as identity.
- Results with ``kind`` ``pass``/``notApplicable``, ``baselineState`` ``absent`` or an
  accepted suppression are not findings and are skipped silently.
- Without ``tool``, the run's tool name is the driver name lower-cased and slugged
  (``Semgrep OSS`` -> ``semgrep-oss``).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from secscan.errors import InputError
from secscan.model import Finding, Location, Notification, NotificationLevel, Rule, ToolName
from secscan.policy import SeverityPolicy

MAX_SARIF_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 100
MAX_RUNS = 100
MAX_RESULTS_PER_RUN = 100_000
_MAX_TEXT = 1024
_SLUG = re.compile(r"[^a-z0-9]+")
_ARGUMENT = re.compile(r"\{(\d+)\}")
_SRCROOT = ("%SRCROOT%", "SRCROOT")
_SKIPPED_KINDS = ("pass", "notApplicable")
_LEVELS = {"error": NotificationLevel.ERROR, "warning": NotificationLevel.WARNING}

Redact = Callable[[str], str]


@dataclass(frozen=True)
class ParsedRun:
    """One SARIF run, normalised. ``rules`` holds the rules its findings refer to."""

    tool: ToolName
    version: str
    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    notifications: tuple[Notification, ...]


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


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _max_depth(text: str) -> int:
    """How deeply arrays and objects nest, at C speed: strings removed, brackets counted."""
    brackets = "".join(_BRACKET.findall(_STRING.sub("", text)))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def load_sarif(data: bytes) -> dict[str, Any]:
    """Decode and structurally check a SARIF log. Raises InputError."""
    if len(data) > MAX_SARIF_BYTES:
        raise InputError(f"SARIF log is larger than {MAX_SARIF_BYTES} bytes; split it or filter its results")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"SARIF log is not UTF-8 (byte {exc.start}); SARIF must be UTF-8 encoded") from None
    if _max_depth(text) > MAX_DEPTH:
        raise InputError(f"SARIF log nests deeper than {MAX_DEPTH} levels; refusing to read it")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"SARIF log is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise InputError("SARIF log has no 'runs' list; is it a SARIF 2.1.0 file?")
    if doc.get("version") != "2.1.0":
        raise InputError(f"SARIF version {doc.get('version')!r} is not supported; produce SARIF 2.1.0")
    if len(doc["runs"]) > MAX_RUNS:
        raise InputError(f"SARIF log has more than {MAX_RUNS} runs; split it")
    return doc


class _RunReader:
    """Turns one run object into a ParsedRun."""

    def __init__(
        self, run: dict[str, Any], tool: ToolName | None, root: Path, policy: SeverityPolicy, redact: Redact
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
        self.bases = _dict(run.get("originalUriBaseIds"))
        self.notes: list[Notification] = []
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
        self.notes.append(Notification(level, _clip(self.redact(message)), path, line))

    # -- rules -------------------------------------------------------------------------
    def rule_of(self, result: dict[str, Any]) -> dict[str, Any] | None:
        ref = _dict(result.get("rule"))
        component = 0
        ext_index = _int(_dict(ref.get("toolComponent")).get("index"), 0)
        if ext_index is not None and ext_index < len(self.extensions):
            component = ext_index + 1
        rules = self.component_rules[component]
        index = _int(result.get("ruleIndex"), 0)
        index = index if index is not None else _int(ref.get("index"), 0)
        if index is not None and index < len(rules):
            return rules[index]
        rule_id = _str(result.get("ruleId")) or _str(ref.get("id"))
        if rule_id is None:
            return None
        # the result's own component first, then any extension (SARIF 3.52.4 order)
        return self.component_ids[component].get(rule_id) or self.extension_ids.get(rule_id)

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
            name=self.redact(name or rule_id)[:255],
            short_description=_clip(self.redact(short)),
            full_description=_clip(self.redact(full or short)),
            help_text=self.redact(help_text or full or short)[:8192],
            help_uri=_str(rule.get("helpUri")),
            tags=tuple(dict.fromkeys(tags))[:20],
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
            return self._absolute(unquote(parts.path))
        path = unquote(parts.path)
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
        return self._resolve(artifact, 0) or None

    def location(self, result: dict[str, Any]) -> Location | str:
        """The first physical location, or why there is none."""
        physical = _dict(_dict(next(iter(_list(result.get("locations"))), None)).get("physicalLocation"))
        artifact = _dict(physical.get("artifactLocation"))
        if not artifact:
            return "it has no file location"
        path = self.relative_path(artifact)
        if path is None:
            return "its location is outside the scanned root"
        region = _dict(physical.get("region"))
        start = _int(region.get("startLine"), 1) or 1
        end = _int(region.get("endLine"), start)
        return Location(
            path, start, _int(region.get("startColumn"), 1), end, _int(region.get("endColumn"), 1)
        )

    # -- results -----------------------------------------------------------------------
    def message(self, result: dict[str, Any], rule: dict[str, Any] | None) -> str:
        message = _dict(result.get("message"))
        text = _str(message.get("text")) or _str(message.get("markdown"))
        if text is None and (msg_id := _str(message.get("id"))) is not None and rule is not None:
            template = _dict(_dict(rule.get("messageStrings")).get(msg_id))
            text = _str(template.get("text")) or _str(template.get("markdown"))
        if text is None:
            return ""
        arguments = [str(a) for a in _list(message.get("arguments"))]
        text = _ARGUMENT.sub(lambda m: arguments[int(m[1])] if int(m[1]) < len(arguments) else m[0], text)
        return _clip(self.redact(text))

    def finding(self, result: dict[str, Any], rules: dict[str, Rule]) -> Finding | None:
        if result.get("kind") in _SKIPPED_KINDS or result.get("baselineState") == "absent":
            return None
        suppressions = [_dict(s) for s in _list(result.get("suppressions"))]
        if any(s.get("status") in (None, "accepted") for s in suppressions):
            return None
        rule = self.rule_of(result)
        rule_id = _str(result.get("ruleId")) or _str(_dict(result.get("rule")).get("id"))
        rule_id = rule_id or (_str(rule.get("id")) if rule is not None else None)
        if not rule_id:
            self.note(NotificationLevel.WARNING, f"{self.tool}: result skipped: it has no rule id")
            return None
        location = self.location(result)
        if isinstance(location, str):
            self.note(NotificationLevel.WARNING, f"{self.tool}: result of rule {rule_id} skipped: {location}")
            return None
        config = _dict(rule.get("defaultConfiguration")) if rule is not None else {}
        level = _str(result.get("level")) or _str(config.get("level")) or "warning"
        score = _str(_dict(result.get("properties")).get("security-severity")) or (
            _str(_dict(rule.get("properties")).get("security-severity")) if rule is not None else None
        )
        if rule_id not in rules:
            rules[rule_id] = self.rule_model(rule_id, rule)
        return Finding(
            tool=self.tool,
            rule_id=rule_id,
            message=self.message(result, rule) or rules[rule_id].short_description,
            location=location,
            severity=self.policy.sarif(score, level),
            tool_severity=f"security-severity {score[:16]}" if score else level[:16],
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
                    line = _int(_dict(physical.get("region")).get("startLine"), 1)
                    self.note(
                        level,
                        f"{self.tool}: {text or 'notification without text'}",
                        (path, line) if path else None,
                    )

    def read(self) -> ParsedRun:
        rules: dict[str, Rule] = {}
        findings: list[Finding] = []
        results = _list(self.run.get("results"))
        if len(results) > MAX_RESULTS_PER_RUN:
            self.note(
                NotificationLevel.ERROR,
                f"{self.tool}: only the first {MAX_RESULTS_PER_RUN} of {len(results)} results were read",
            )
        for raw in results[:MAX_RESULTS_PER_RUN]:
            if (finding := self.finding(_dict(raw), rules)) is not None:
                findings.append(finding)
        self.invocation_notes()
        version = _str(self.driver.get("semanticVersion")) or _str(self.driver.get("version")) or ""
        return ParsedRun(self.tool, version[:100], tuple(findings), tuple(rules.values()), tuple(self.notes))


def parse_sarif(
    data: bytes,
    *,
    tool: ToolName | None,
    root: Path,
    policy: SeverityPolicy,
    redact: Redact | None = None,
) -> list[ParsedRun]:
    """Parse a SARIF log into one ParsedRun per run. Raises InputError when the log is unusable.

    ``root`` is the absolute scanned root (``file://`` URIs under it become repo-relative);
    ``redact`` is applied to every text taken from the log.
    """
    doc = load_sarif(data)
    return [
        _RunReader(_dict(run), tool, root, policy, redact or (lambda text: text)).read()
        for run in doc["runs"]
    ]
