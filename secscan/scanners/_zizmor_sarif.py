"""zizmor's SARIF log -> findings, with zizmor's own severity and confidence.

secscan reads zizmor's SARIF itself rather than through the generic reader
(:mod:`secscan.scanners.sarif_input`) because the level alone loses what the severity policy needs:
zizmor puts its severity and confidence in each result's properties (``zizmor/severity``,
``zizmor/confidence``), and they go through ``[zizmor.matrix]`` like bandit's.

Rule ids: zizmor's SARIF names rules ``zizmor/<audit>``; secscan uses the bare audit name
(``template-injection``), the name zizmor's documentation, configuration and
``# zizmor: ignore[<audit>]`` comments use (the tool is already ``zizmor``). They are API.
Snippets are never copied (they hold workflow source); messages are zizmor's own texts.

Identity: zizmor's regions can span a whole job (``excessive-permissions`` points at the job
without a ``permissions:`` block), and secscan's default identity material is every line of the
region, so adding a step to the job would close the finding and open a new one. A zizmor
finding's identity material is therefore the normalised text of the line its region starts on
(the job's key, the ``uses:`` line), hashed: the material is stored in the result cache, and a
workflow line can hold a credential (``hardcoded-container-credentials``).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from secscan.core.clip import clip
from secscan.core.errors import InputError, ScannerError
from secscan.core.identity import normalise_line
from secscan.core.model import Finding, Location, Notification, NotificationLevel, Rule, ToolName
from secscan.core.policy import SeverityPolicy
from secscan.scanners._tools import ByteColumns
from secscan.scanners.sarif_input import MAX_RESULTS_PER_RUN
from secscan.scanners.sarif_load import chunked, stream_runs

NAME = ToolName("zizmor")
PREFIX = "zizmor/"
_MAX_TEXT = 1024


@dataclass
class ZizmorLog:
    """What one or more zizmor logs held (private, mutable)."""

    findings: list[Finding] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)
    notes: list[Notification] = field(default_factory=list)
    incomplete: str | None = None  # why the results are not whole (more than secscan reads)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _clip(text: str) -> str:
    return clip(" ".join(text.split()), _MAX_TEXT)  # redacted later: a cut keeps no part of a secret


def audit_of(rule_id: str) -> str:
    """``zizmor/template-injection`` -> ``template-injection``."""
    return rule_id.removeprefix(PREFIX)


def _path(uri: str) -> str:
    parts = urlsplit(uri)
    raw = unquote(parts.path) if parts.scheme in ("file", "") else uri
    return posixpath.normpath(raw).removeprefix("./")


def _rule(audit: str, raw: dict[str, Any]) -> Rule:
    help_obj = _dict(raw.get("help"))
    summary = _clip(
        _str(help_obj.get("text")) or _str(_dict(raw.get("shortDescription")).get("text")) or audit
    )
    uri = _str(raw.get("helpUri")) or f"https://docs.zizmor.sh/audits/#{audit}"
    tags = [t for t in _list(_dict(raw.get("properties")).get("tags")) if isinstance(t, str)]
    return Rule(
        id=audit,
        name=audit,
        short_description=summary[:1].upper() + summary[1:],
        full_description=f"zizmor audit {audit}: {summary}.",
        help_text=(
            f"zizmor audit {audit}: {summary}. What it finds and how to fix it: {uri}\n\n"
            f"A reviewed false positive can be marked with a `# zizmor: ignore[{audit}]` comment on the line."
        ),
        help_uri=uri,
        tags=tuple(dict.fromkeys(["security", *tags]))[:20],
    )


class ZizmorReader:
    """Reads zizmor's SARIF logs of one run into a :class:`ZizmorLog`."""

    def __init__(self, policy: SeverityPolicy, given: Collection[str], columns: ByteColumns) -> None:
        self.policy = policy
        self.given = set(given)
        self.columns = columns
        self.log = ZizmorLog()

    def read(self, data: bytes, where: str) -> None:
        try:
            streamed = list(stream_runs(chunked(data), max_results=MAX_RESULTS_PER_RUN))
        except InputError as exc:
            raise ScannerError(f"zizmor output {where}: {exc}") from None
        for one in streamed:
            if one.total_results > MAX_RESULTS_PER_RUN:
                self.log.incomplete = (
                    f"zizmor reported {one.total_results} results in one run; secscan reads the first "
                    f"{MAX_RESULTS_PER_RUN}, so the run closes nothing"
                )
            run = _dict(one.run)
            driver = _dict(_dict(run.get("tool")).get("driver"))
            rules = {r["id"]: r for r in map(_dict, _list(driver.get("rules"))) if _str(r.get("id"))}
            for invocation in map(_dict, _list(run.get("invocations"))):
                if invocation.get("executionSuccessful") is False:
                    self.log.notes.append(
                        Notification(
                            NotificationLevel.ERROR, "zizmor reported that its execution was not successful"
                        )
                    )
            results = run.get("results")
            if not isinstance(results, list):
                raise ScannerError(f"zizmor output {where} is malformed: a run has no 'results' list")
            for result in map(_dict, results):
                self._result(result, rules)

    def _given_path(self, location: dict[str, Any], uri: str) -> str | None:
        """The input a result belongs to, as secscan named it.

        zizmor writes the artifact URI relative to the nearest folder holding ``.git`` above the
        input (the enclosing repository when a subfolder is scanned, a submodule's own root
        inside the target), so two inputs can share a URI. The path exactly as given on the
        command line is in the location's ``symbolic.key.Local.verbatim_path``: it comes first.
        """
        for logical in _list(location.get("logicalLocations")):
            key = _dict(_dict(_dict(_dict(logical).get("properties")).get("symbolic")).get("key"))
            verbatim = _str(_dict(key.get("Local")).get("verbatim_path"))
            if verbatim is not None and _path(verbatim) in self.given:
                return _path(verbatim)
        path = _path(uri)
        return path if path in self.given else None

    def _identity(self, path: str, line: int) -> str | None:
        text = self.columns.line_text(path, line)
        if text is None:
            return None
        return "start-line:" + hashlib.sha256(normalise_line(text).encode("utf-8")).hexdigest()

    def _result(self, result: dict[str, Any], rules: dict[str, dict[str, Any]]) -> None:
        if result.get("kind", "fail") != "fail":
            return
        if any(_dict(s).get("status") in (None, "accepted") for s in _list(result.get("suppressions"))):
            return
        rule_id = _str(result.get("ruleId"))
        locations = result.get("locations")
        first = locations[0] if isinstance(locations, list) and locations else None
        physical = _dict(_dict(first).get("physicalLocation"))
        uri = _str(_dict(physical.get("artifactLocation")).get("uri"))
        if rule_id is None or uri is None:
            self.log.notes.append(
                Notification(
                    NotificationLevel.WARNING, "zizmor: a result without a rule or a file was skipped"
                )
            )
            return
        path = self._given_path(_dict(first), uri)
        if path is None:
            message = f"zizmor: a result for {uri!r} matches no scanned file"
            self.log.notes.append(Notification(NotificationLevel.WARNING, message))
            return
        audit = audit_of(rule_id)
        if audit not in self.log.rules:
            self.log.rules[audit] = _rule(audit, rules.get(rule_id, {}))
        region = _dict(physical.get("region"))
        line = _int(region.get("startLine")) or 1
        end_line = max(_int(region.get("endLine")) or line, line)
        column = self.columns.column(path, line, _int(region.get("startColumn")))
        end_column = self.columns.column(path, end_line, _int(region.get("endColumn")))
        if end_line == line and end_column is not None and end_column <= (column or 0):
            end_column = None
        properties = _dict(result.get("properties"))
        severity = (_str(properties.get("zizmor/severity")) or "unknown").upper()
        confidence = (_str(properties.get("zizmor/confidence")) or "unknown").upper()
        message = _str(_dict(result.get("message")).get("text")) or self.log.rules[audit].short_description
        self.log.findings.append(
            Finding(
                tool=NAME,
                rule_id=audit,
                message=_clip(message),
                location=Location(path, line, column, end_line, end_column),
                identity=self._identity(path, line),
                severity=self.policy.matrix("zizmor", audit, severity, confidence),
                tool_severity=f"{severity.title()}/{confidence.title()}",
            )
        )
