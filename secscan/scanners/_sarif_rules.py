"""A SARIF run's rules, for :mod:`secscan.scanners.sarif_input`: the rule object a result refers
to (by index or id, in the driver or an extension, SARIF 3.52.4's order), its default level and
security-severity, and its :class:`~secscan.core.model.Rule` with every text redacted.

The rules are indexed once per run and each rule's defaults are read once: a run's results look
their rule up one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from secscan.core.model import Rule
from secscan.fs.names import valid_text
from secscan.scanners._sarif_values import as_dict, as_int, as_list, as_str, clip


class RuleIndex:
    """The rules of one run's tool components (the driver first, then its extensions)."""

    def __init__(
        self, driver: dict[str, Any], extensions: list[dict[str, Any]], redact_rule: Callable[[str], str]
    ) -> None:
        self.extensions = extensions
        self.redact_rule = redact_rule
        self.rule_redacted: dict[str, str] = {}
        self.defaults: dict[int, tuple[str | None, str | None]] = {}
        self.component_rules = [[as_dict(r) for r in as_list(c.get("rules"))] for c in (driver, *extensions)]
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

    def rule_text(self, text: str) -> str:
        """``redact_rule(text)``, computed once per distinct text."""
        done = self.rule_redacted.get(text)
        if done is None:
            done = self.rule_redacted[text] = self.redact_rule(valid_text(text))
        return done

    def rule_of(self, result: dict[str, Any]) -> dict[str, Any] | None:
        ref = as_dict(result.get("rule"))
        component = 0
        if ref:  # most results have only ruleId / ruleIndex
            ext_index = as_int(as_dict(ref.get("toolComponent")).get("index"), 0)
            if ext_index is not None and ext_index < len(self.extensions):
                component = ext_index + 1
        rules = self.component_rules[component]
        index = as_int(result.get("ruleIndex"), 0)
        index = index if index is not None or not ref else as_int(ref.get("index"), 0)
        if index is not None and index < len(rules):
            return rules[index]
        rule_id = as_str(result.get("ruleId")) or as_str(ref.get("id"))
        if rule_id is None:
            return None
        # the result's own component first, then any extension (SARIF 3.52.4 order)
        return self.component_ids[component].get(rule_id) or self.extension_ids.get(rule_id)

    def rule_defaults(self, rule: dict[str, Any] | None) -> tuple[str | None, str | None]:
        """A rule's default level and security-severity, read once per rule object."""
        if rule is None:
            return None, None
        # Keyed by id(): the rule dicts are held in self.component_rules as long as this index lives.
        known = self.defaults.get(id(rule))
        if known is None:
            level = as_str(as_dict(rule.get("defaultConfiguration")).get("level"))
            score = as_str(as_dict(rule.get("properties")).get("security-severity"))
            known = self.defaults[id(rule)] = (level, score)
        return known

    def model(self, rule_id: str, rule: dict[str, Any] | None) -> Rule:
        rule = rule or {}
        short = as_str(as_dict(rule.get("shortDescription")).get("text"))
        full = as_str(as_dict(rule.get("fullDescription")).get("text"))
        help_obj = as_dict(rule.get("help"))
        help_text = as_str(help_obj.get("text")) or as_str(help_obj.get("markdown"))
        name = as_str(rule.get("name"))
        tags = [t for t in as_list(as_dict(rule.get("properties")).get("tags")) if isinstance(t, str)]
        short = short or name or rule_id
        return Rule(
            id=rule_id,
            name=self.rule_text(name or rule_id)[:255],
            short_description=clip(self.rule_text(short)),
            full_description=clip(self.rule_text(full or short)),
            help_text=self.rule_text(help_text or full or short)[:8192],
            help_uri=valid_text(as_str(rule.get("helpUri")) or "") or None,
            tags=tuple(dict.fromkeys(map(valid_text, tags)))[:20],
        )
