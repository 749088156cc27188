"""The posture rules: data files in ``rules/posture/*.toml``, loaded and checked here.

Each rule has a stable ``id`` (API: it appears in SARIF, the database and uploads), a ``name``,
a ``severity``, a ``message`` (a template over what the check found: ``{path}`` and the check's
own fields), a ``description``, ``help`` and ``tags``, the ``check`` that evaluates it (see
:mod:`secscan.scanners._posture_checks`) with its ``params``, and a ``scope``: ``repository``
rules judge the repository as a whole and run only at the top of a git work tree, ``file`` rules
judge single files and run on any target. A repository rule that finds something missing
reports it at its ``location`` (the file it expects).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secscan.config.policy import read_toml, rules_dir
from secscan.core.errors import ConfigError
from secscan.core.model import Rule, Severity

CHECKS = ("present", "owned", "files", "workflow-key")
SCOPES = ("repository", "file")
_REQUIRED = ("id", "name", "severity", "check", "scope", "message", "description", "help")


@dataclass(frozen=True)
class PostureRule:
    id: str
    name: str
    severity: Severity
    check: str
    scope: str
    message: str
    description: str
    help: str
    help_uri: str | None = None
    location: str | None = None
    tags: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def repository(self) -> bool:
        return self.scope == "repository"

    def as_rule(self) -> Rule:
        return Rule(
            id=self.id,
            name=self.name,
            short_description=self.description.split(": ", 1)[0].split(". ", 1)[0],
            full_description=self.description,
            help_text=self.help,
            help_uri=self.help_uri,
            tags=self.tags,
        )


def _rule(path: Path) -> PostureRule:
    data = read_toml(path, "posture rule")
    where = f"posture rule {path}"
    missing = [key for key in _REQUIRED if not isinstance(data.get(key), str) or not data[key]]
    if missing:
        raise ConfigError(
            f"{where}: '{missing[0]}' is missing or not a string; compare with the bundled rules"
        )
    try:
        severity = Severity(data["severity"])
    except ValueError:
        raise ConfigError(f"{where}: severity {data['severity']!r} is not a secscan severity") from None
    if data["check"] not in CHECKS:
        raise ConfigError(f"{where}: check {data['check']!r} is not one of {', '.join(CHECKS)}")
    if data["scope"] not in SCOPES:
        raise ConfigError(f"{where}: scope {data['scope']!r} is not one of {', '.join(SCOPES)}")
    if data["check"] == "present" and not isinstance(data.get("location"), str):
        raise ConfigError(f"{where}: a 'present' rule needs a 'location' (the file it expects)")
    params = data.get("params", {})
    tags = data.get("tags", [])
    if not isinstance(params, dict) or not isinstance(tags, list):
        raise ConfigError(f"{where}: 'params' must be a table and 'tags' a list")
    return PostureRule(
        id=data["id"],
        name=data["name"],
        severity=severity,
        check=data["check"],
        scope=data["scope"],
        message=data["message"],
        description=data["description"],
        help=data["help"],
        help_uri=data.get("help_uri"),
        location=data.get("location"),
        tags=tuple(str(t) for t in tags),
        params=params,
    )


def load_rules(folder: Path | None = None) -> tuple[PostureRule, ...]:
    """Every rule of ``folder`` (default: the bundled ``rules/posture``), sorted by id."""
    base = folder or rules_dir() / "posture"
    rules = [_rule(path) for path in sorted(base.glob("*.toml"))]
    ids = [r.id for r in rules]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise ConfigError(f"posture rules in {base}: the id {duplicate!r} is used twice")
    return tuple(sorted(rules, key=lambda r: r.id))


@functools.cache
def bundled_rules() -> tuple[PostureRule, ...]:
    return load_rules()


def rule_ids() -> frozenset[str]:
    return frozenset(r.id for r in bundled_rules())
