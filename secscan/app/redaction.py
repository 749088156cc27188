"""The run's redaction of what its scanners report, and of every log record while it is worked on
(split from :mod:`secscan.app.pipeline`, which applies them once the scanners are done)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator, Sequence

from secscan.core.model import Rule, ScannerResult
from secscan.core.records import Suppression
from secscan.core.redact import Redactor, SecretFilter


@contextlib.contextmanager
def redacting_logs(redactor: Redactor) -> Iterator[None]:
    """Redact the redactor's values from every record the root logger's handlers emit.

    Filters go on handlers: a filter on a logger would miss records of its child loggers.
    """
    secret_filter = SecretFilter(redactor)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(secret_filter)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(secret_filter)


def redact_result(result: ScannerResult, r: Redactor) -> ScannerResult:
    """``result`` with its free texts redacted; an object whose texts are unchanged is kept as it is
    (copying every finding and rule of a cached re-run cost more than redacting them)."""
    findings = tuple(
        f if (message := r.text(f.message)) == f.message else dataclasses.replace(f, message=message)
        for f in result.findings
    )
    rules = tuple(redact_rule(rule, r) for rule in result.rules)
    notifications = tuple(
        n if (message := r.text(n.message)) == n.message else dataclasses.replace(n, message=message)
        for n in result.notifications
    )
    return dataclasses.replace(
        result,
        findings=findings,
        rules=rules,
        notifications=notifications,
        reason=r.text(result.reason) if result.reason else None,
    )


def redact_suppressions(suppressions: Sequence[Suppression], r: Redactor) -> tuple[Suppression, ...]:
    """The suppressions file's entries with their reasons redacted: the file is the scanned
    repository's, and a reason is stored, shown and reported as the decision's."""
    return tuple(
        s if (reason := r.text(s.reason)) == s.reason else dataclasses.replace(s, reason=reason)
        for s in suppressions
    )


def redact_rule(rule: Rule, r: Redactor) -> Rule:
    short, full, help_text = (r.rule_text(rule.short_description), r.rule_text(rule.full_description),
                              r.rule_text(rule.help_text))  # fmt: skip
    if (short, full, help_text) == (rule.short_description, rule.full_description, rule.help_text):
        return rule
    return dataclasses.replace(rule, short_description=short, full_description=full, help_text=help_text)


__all__ = ["redact_result", "redact_rule", "redact_suppressions", "redacting_logs"]
