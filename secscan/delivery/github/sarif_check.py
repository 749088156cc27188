"""Checks a SARIF log from outside (``secscan upload --sarif FILE``) before it is prepared. Pure.

:mod:`~secscan.delivery.github.prepare` trusts the shape of secscan's own log; a file given on
the command line may have any JSON in any place. This checks the parts that preparing reads and
that GitHub requires (``github-code-scanning.md`` section 4; types as in the SARIF 2.1.0 schema),
so a bad file is refused with the JSON path of its first problem instead of failing half-way.
Everything else in the file is passed through as it is (GitHub ignores it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_INDEX = 2**63 - 1  # GitHub: ruleIndex 0..2^63-1
MAX_LINE = 2**31 - 1  # no text file has more lines or columns
MAX_NAME = 1000  # a tool name or category: part of the outbox key and of every message about it
_LEVELS = ("none", "note", "warning", "error")
_BASELINE = ("new", "unchanged", "updated", "absent")
_NOT_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""What a tool name or category may not hold: they become the outbox key, the receipt and
one-line messages (a control character would split the line; a lone surrogate is not UTF-8)."""


class SarifShapeError(ValueError):
    """The first problem of a SARIF log: ``where`` is its JSON path (``runs[0].results[3]...``)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where} {problem}")
        self.where = where
        self.problem = problem


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _obj(value: Any, where: str, *, required: bool = True) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if value is None:
        raise SarifShapeError(where, "is missing or null (it must be an object)")
    if not isinstance(value, dict):
        raise SarifShapeError(where, f"must be an object, not {_kind(value)}")
    return value


def _list(value: Any, where: str, *, required: bool = True) -> list[Any]:
    if value is None and not required:
        return []
    if value is None:
        raise SarifShapeError(where, "is missing or null (it must be a list)")
    if not isinstance(value, list):
        raise SarifShapeError(where, f"must be a list, not {_kind(value)}")
    return value


def _str(parent: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = parent.get(key)
    if value is None and not required and key not in parent:
        return None
    if not isinstance(value, str):
        raise SarifShapeError(f"{where}.{key}", f"must be a string, not {_kind(value)}")
    return value


def _int(parent: Mapping[str, Any], key: str, where: str, low: int, high: int) -> None:
    if key not in parent:
        return
    value = parent[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise SarifShapeError(f"{where}.{key}", f"must be a whole number, not {_kind(value)}")
    if not low <= value <= high:
        raise SarifShapeError(f"{where}.{key}", f"must be between {low} and {high}, not {value}")


def _name(parent: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> None:
    value = _str(parent, key, where, required=required)
    if value is None:
        return
    if required and not value:
        raise SarifShapeError(f"{where}.{key}", "must not be empty")
    found = _NOT_NAME.search(value)
    if found:
        raise SarifShapeError(f"{where}.{key}", f"holds the character U+{ord(found.group()):04X}")
    if len(value) > MAX_NAME:
        raise SarifShapeError(f"{where}.{key}", f"is longer than {MAX_NAME} characters")


def _location(value: Any, where: str) -> None:
    location = _obj(value, where)
    if "physicalLocation" not in location:
        return
    physical = _obj(location["physicalLocation"], f"{where}.physicalLocation")
    if "artifactLocation" in physical:
        artifact = _obj(physical["artifactLocation"], f"{where}.physicalLocation.artifactLocation")
        _str(artifact, "uri", f"{where}.physicalLocation.artifactLocation")
        _str(artifact, "uriBaseId", f"{where}.physicalLocation.artifactLocation")
    if "region" in physical:
        region = _obj(physical["region"], f"{where}.physicalLocation.region")
        for key in ("startLine", "startColumn", "endLine", "endColumn"):
            _int(region, key, f"{where}.physicalLocation.region", 1, MAX_LINE)


def _locations(parent: Mapping[str, Any], key: str, where: str) -> None:
    if key in parent:
        for i, item in enumerate(_list(parent[key], f"{where}.{key}")):
            _location(item, f"{where}.{key}[{i}]")


def _code_flows(result: Mapping[str, Any], where: str) -> None:
    if "codeFlows" not in result:
        return
    for i, flow in enumerate(_list(result["codeFlows"], f"{where}.codeFlows")):
        at = f"{where}.codeFlows[{i}]"
        flow = _obj(flow, at)
        for j, thread in enumerate(_list(flow.get("threadFlows"), f"{at}.threadFlows", required=False)):
            thread = _obj(thread, f"{at}.threadFlows[{j}]")
            _list(thread.get("locations"), f"{at}.threadFlows[{j}].locations", required=False)


def _result(value: Any, where: str, rules: int) -> None:
    result = _obj(value, where)
    _str(result, "ruleId", where)
    if "ruleIndex" in result and rules == 0:
        raise SarifShapeError(f"{where}.ruleIndex", "refers to a rule, but tool.driver.rules is empty")
    _int(result, "ruleIndex", where, 0, min(MAX_INDEX, rules - 1))
    if "level" in result and result["level"] not in _LEVELS:
        raise SarifShapeError(f"{where}.level", f"must be one of {', '.join(_LEVELS)}")
    if "baselineState" in result and result["baselineState"] not in _BASELINE:
        raise SarifShapeError(f"{where}.baselineState", f"must be one of {', '.join(_BASELINE)}")
    message = _obj(result.get("message"), f"{where}.message")
    _str(message, "text", f"{where}.message", required=True)
    _locations(result, "locations", where)
    _locations(result, "relatedLocations", where)
    _code_flows(result, where)
    if "partialFingerprints" in result:
        prints = _obj(result["partialFingerprints"], f"{where}.partialFingerprints")
        for key in prints:
            _str(prints, key, f"{where}.partialFingerprints")
    if "properties" in result:
        props = _obj(result["properties"], f"{where}.properties")
        _str(props, "secscan-id", f"{where}.properties")


def _rules(driver: Mapping[str, Any], where: str) -> int:
    seen: set[str] = set()
    rules = _list(driver.get("rules"), f"{where}.rules", required=False)
    for i, rule in enumerate(rules):
        at = f"{where}.rules[{i}]"
        ident = _str(_obj(rule, at), "id", at, required=True)
        if ident in seen:
            raise SarifShapeError(f"{at}.id", f"repeats rule id {ident!r} (rule ids must be unique)")
        seen.add(ident or "")
    return len(rules)


def _run(value: Any, where: str) -> None:
    run = _obj(value, where)
    tool = _obj(run.get("tool"), f"{where}.tool")
    driver = _obj(tool.get("driver"), f"{where}.tool.driver")
    _name(driver, "name", f"{where}.tool.driver", required=True)
    rules = _rules(driver, f"{where}.tool.driver")
    if "automationDetails" in run:
        details = f"{where}.automationDetails"
        _name(_obj(run["automationDetails"], details), "id", details)
    if "originalUriBaseIds" in run:
        bases = _obj(run["originalUriBaseIds"], f"{where}.originalUriBaseIds")
        for key, base in bases.items():
            _str(_obj(base, f"{where}.originalUriBaseIds.{key}"), "uri", f"{where}.originalUriBaseIds.{key}")
    for i, result in enumerate(_list(run.get("results"), f"{where}.results")):
        _result(result, f"{where}.results[{i}]", rules)


def check(document: Any) -> None:
    """Raise :class:`SarifShapeError` at the first part of ``document`` that preparing an upload reads
    (or GitHub requires) and that has the wrong type or value."""
    log = _obj(document, "the document")
    if log.get("version") != "2.1.0":
        raise SarifShapeError("version", 'must be "2.1.0" (GitHub takes SARIF 2.1.0 only)')
    for i, run in enumerate(_list(log.get("runs"), "runs")):
        _run(run, f"runs[{i}]")


__all__ = ["SarifShapeError", "check"]
