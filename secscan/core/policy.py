"""Severity policy: pure mapping from each tool's own scale to :class:`Severity`.

The data lives in ``rules/severity.toml`` (shipped inside the package as ``secscan/_rules``);
a user file given as ``[policy] severity`` in ``secscan.toml`` is merged over it key by key.
Reading those files is :mod:`secscan.config.policy`'s job; this module only interprets the data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secscan.core.errors import ConfigError
from secscan.core.model import Severity
from secscan.core.policy_schema import Entries, Shape, check_shape, choice, number, whole


def merge_data(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_data(merged[key], value)
        else:
            merged[key] = value
    return merged


_SEVERITIES = tuple(s.value for s in Severity)
_SCORE_TEXT = re.compile(r"^[0-9]{1,2}(\.[0-9]+)?$")
_PAIR = re.compile(r"^[A-Za-z]+/[A-Za-z]+$")


def _score(value: object) -> str | None:
    """A threshold on a 0-10 scale (CVSS, SARIF security-severity)."""
    return None if number(value) and 0 <= value <= 10 else "a number from 0 to 10"


def _security_severity(value: object) -> str | None:
    """What secscan writes as a SARIF rule's ``security-severity``: GitHub takes a string holding
    a score from 0.0 to 10.0 (github-code-scanning.md), so a number, or text that reads as one."""
    if isinstance(value, str) and _SCORE_TEXT.match(value) and float(value) <= 10:
        return None
    if number(value) and 0 <= value <= 10:
        return None
    return 'a score from 0.0 to 10.0, as text ("9.5") or a number (GitHub\'s SARIF security-severity)'


def _score_text(value: object) -> str:
    """A checked security-severity as SARIF holds it: text (a number is written as ``9.5``)."""
    return repr(float(value)) if number(value) else str(value)


_LEVEL = choice(_SEVERITIES)
_NAMED = Entries(_LEVEL)  # rule ids, secret types, advisory labels: any name
_MATRIX = Entries(
    _LEVEL, key_check=lambda k: bool(_PAIR.match(k)), key_hint='SEVERITY/CONFIDENCE, e.g. "HIGH/LOW"'
)
_BOUNDS = Entries(_score, keys=_SEVERITIES)

SEVERITY_SHAPE: Shape = {
    "version": whole(1),
    "security-severity": Entries(_security_severity, keys=_SEVERITIES),
    "bandit": {"matrix": _MATRIX, "rules": _NAMED},
    "detect-secrets": {"default": _LEVEL, "verified": _LEVEL, "types": _NAMED},
    "advisory": {"default": _LEVEL, "cvss": _BOUNDS, "labels": _NAMED},
    "sarif": {
        "levels": Entries(_LEVEL, keys=("error", "warning", "note", "none")),
        "security-severity": _BOUNDS,
    },
    "zizmor": {"default": _LEVEL, "matrix": _MATRIX, "rules": _NAMED},
    "semgrep": {"default": _LEVEL, "matrix": _MATRIX, "rules": _NAMED},
}
"""What ``severity.toml`` (and a user's file merged over it) may hold."""


def check_severity_data(data: Mapping[str, Any], source: str) -> None:
    """Refuse an unknown table or key, or a bad value, in a severity policy file (the bundled one
    or a user's, each checked alone). Raises ConfigError naming ``source`` and the key."""
    check_shape(data, SEVERITY_SHAPE, "severity policy", source)


def _severity(value: object, where: str) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        allowed = ", ".join(_SEVERITIES)
        raise ConfigError(f"severity policy: {where} = {value!r} is not one of {allowed}") from None


def _thresholds(table: Mapping[str, Any], where: str) -> tuple[tuple[float, Severity], ...]:
    pairs = []
    for name, bound in table.items():
        if not number(bound):
            raise ConfigError(f"severity policy: {where}.{name} must be a number, got {bound!r}")
        pairs.append((float(bound), _severity(name, f"{where}.{name}")))
    return tuple(sorted(pairs, reverse=True))


def _from_score(score: float, thresholds: tuple[tuple[float, Severity], ...]) -> Severity:
    for bound, severity in thresholds:
        if score >= bound:
            return severity
    return Severity.INFO


MATRIX_TOOLS = ("zizmor", "semgrep")
"""Tools whose scale is a severity x confidence matrix (``[<tool>.matrix]``, ``[<tool>.rules]``)."""


@dataclass(frozen=True)
class MatrixPolicy:
    """One tool's matrix: per-rule overrides first, then ``SEVERITY/CONFIDENCE``, else ``default``."""

    matrix: Mapping[str, Severity]
    rules: Mapping[str, Severity]
    default: Severity

    def severity(self, rule_id: str, severity: str, confidence: str) -> Severity:
        if rule_id in self.rules:
            return self.rules[rule_id]
        return self.matrix.get(f"{severity.upper()}/{confidence.upper()}", self.default)


@dataclass(frozen=True)
class SeverityPolicy:
    """The validated severity policy. Build it with :func:`load_policy`."""

    security_severity: Mapping[Severity, str]
    bandit_matrix: Mapping[str, Severity]
    bandit_rules: Mapping[str, Severity]
    secrets_default: Severity
    secrets_verified: Severity
    secrets_types: Mapping[str, Severity]
    advisory_default: Severity
    advisory_cvss: tuple[tuple[float, Severity], ...]
    advisory_labels: Mapping[str, Severity]
    sarif_levels: Mapping[str, Severity]
    sarif_scores: tuple[tuple[float, Severity], ...]
    matrices: Mapping[str, MatrixPolicy] = field(default_factory=dict)

    def bandit(self, test_id: str, severity: str, confidence: str) -> Severity:
        if test_id in self.bandit_rules:
            return self.bandit_rules[test_id]
        return self.bandit_matrix.get(f"{severity.upper()}/{confidence.upper()}", Severity.MEDIUM)

    def secret(self, secret_type: str, verified: bool) -> Severity:
        if verified:
            return self.secrets_verified
        return self.secrets_types.get(secret_type, self.secrets_default)

    def advisory(self, cvss_score: float | None = None, label: str | None = None) -> Severity:
        """Severity of an advisory: CVSS base score first, then a label, else the default."""
        if cvss_score is not None and cvss_score > 0:
            return _from_score(cvss_score, self.advisory_cvss)
        if label and label.upper() in self.advisory_labels:
            return self.advisory_labels[label.upper()]
        return self.advisory_default

    def sarif(self, security_severity: str | None, level: str | None) -> Severity:
        """Severity of a third-party SARIF result (GitHub's reading of security-severity)."""
        if security_severity is not None:
            try:
                score = float(security_severity)
            except ValueError:
                score = 0.0
            if 0.0 < score <= 10.0:
                return _from_score(score, self.sarif_scores)
        return self.sarif_levels.get((level or "warning").lower(), Severity.MEDIUM)

    def matrix(self, tool: str, rule_id: str, severity: str, confidence: str) -> Severity:
        """Severity of a result of a matrix tool (zizmor, semgrep): its severity x confidence."""
        policy = self.matrices.get(tool)
        return policy.severity(rule_id, severity, confidence) if policy else Severity.MEDIUM

    def security_severity_of(self, severity: Severity) -> str:
        return self.security_severity[severity]


def _matrix(table: Mapping[str, Any], tool: str) -> MatrixPolicy:
    return MatrixPolicy(
        matrix={k.upper(): _severity(v, f"{tool}.matrix.{k}") for k, v in table["matrix"].items()},
        rules={k: _severity(v, f"{tool}.rules.{k}") for k, v in table.get("rules", {}).items()},
        default=_severity(table["default"], f"{tool}.default"),
    )


def policy_from_data(data: Mapping[str, Any]) -> SeverityPolicy:
    """The policy of parsed ``severity.toml`` data (bundled, merged with the user's file by
    :func:`secscan.config.policy.load_policy`, each checked by :func:`check_severity_data`).
    Raises ConfigError."""
    try:
        secrets = data["detect-secrets"]
        return SeverityPolicy(
            security_severity={
                _severity(k, "security-severity"): _score_text(v)
                for k, v in data["security-severity"].items()
            },
            bandit_matrix={
                k.upper(): _severity(v, f"bandit.matrix.{k}") for k, v in data["bandit"]["matrix"].items()
            },
            bandit_rules={
                k: _severity(v, f"bandit.rules.{k}") for k, v in data["bandit"].get("rules", {}).items()
            },
            secrets_default=_severity(secrets["default"], "detect-secrets.default"),
            secrets_verified=_severity(secrets["verified"], "detect-secrets.verified"),
            secrets_types={
                k: _severity(v, f"detect-secrets.types.{k}") for k, v in secrets.get("types", {}).items()
            },
            advisory_default=_severity(data["advisory"]["default"], "advisory.default"),
            advisory_cvss=_thresholds(data["advisory"]["cvss"], "advisory.cvss"),
            advisory_labels={
                k.upper(): _severity(v, f"advisory.labels.{k}")
                for k, v in data["advisory"].get("labels", {}).items()
            },
            sarif_levels={
                k.lower(): _severity(v, f"sarif.levels.{k}") for k, v in data["sarif"]["levels"].items()
            },
            sarif_scores=_thresholds(data["sarif"]["security-severity"], "sarif.security-severity"),
            matrices={tool: _matrix(data[tool], tool) for tool in MATRIX_TOOLS},
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"severity policy is incomplete or malformed near {exc}; compare with rules/severity.toml"
        ) from None
