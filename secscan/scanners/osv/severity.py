"""Severity of an OSV record: a CVSS base score computed from its vectors, and a label.

OSV records carry CVSS *vectors*, not numbers; the base score is computed with the ``cvss``
package. Vectors come from the top-level ``severity[]`` and from every ``affected[].severity[]``;
the highest score wins. The label comes from ``database_specific.severity`` (GitHub advisories:
``CRITICAL``/``HIGH``/``MODERATE``/``LOW``) or else from an ``Ubuntu`` severity entry. A bad
vector is ignored (logged at DEBUG), never raised. Map the pair with
:meth:`secscan.core.policy.SeverityPolicy.advisory`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from secscan.core.model import Severity
from secscan.core.policy import SeverityPolicy

logger = logging.getLogger(__name__)

_CALCULATORS = {"CVSS_V2": "CVSS2", "CVSS_V3": "CVSS3", "CVSS_V4": "CVSS4"}
"""The ``cvss`` class of each vector type; ``cvss`` (and ``decimal``) load with the first vector
scored, so a record without CVSS vectors costs no import (issue 18)."""


def _severity_entries(record: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    lists: list[object] = [record.get("severity")]
    affected = record.get("affected")
    if isinstance(affected, list):
        lists.extend(entry.get("severity") for entry in affected if isinstance(entry, Mapping))
    for entries in lists:
        if isinstance(entries, list):
            yield from (entry for entry in entries if isinstance(entry, Mapping))


def cvss_base_score(kind: str, vector: str) -> float | None:
    """The base score of one ``CVSS_V2``/``CVSS_V3``/``CVSS_V4`` vector; None when unusable."""
    name = _CALCULATORS.get(kind)
    if name is None:
        return None
    import cvss

    try:
        score = float(getattr(cvss, name)(vector).base_score)
    except (cvss.CVSSError, ValueError, ArithmeticError, LookupError, TypeError, AttributeError) as exc:
        logger.debug("ignoring unusable %s vector %r: %s", kind, vector, exc)
        return None
    return score if 0.0 <= score <= 10.0 else None


def _label(record: Mapping[str, Any], ubuntu: str | None) -> str | None:
    specific = record.get("database_specific")
    if isinstance(specific, Mapping):
        label = specific.get("severity")
        if isinstance(label, str) and label.strip():
            return label.strip().upper()
    return ubuntu


def record_severity(record: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """``(highest CVSS base score, label)`` of an OSV record; either may be None."""
    best: float | None = None
    ubuntu: str | None = None
    for entry in _severity_entries(record):
        kind, score = entry.get("type"), entry.get("score")
        if not isinstance(kind, str) or not isinstance(score, str):
            continue
        if kind == "Ubuntu":
            ubuntu = ubuntu or score.strip().upper() or None
            continue
        value = cvss_base_score(kind, score)
        if value is not None and (best is None or value > best):
            best = value
    return best, _label(record, ubuntu)


SCORED = "secscan_scored"
"""Key of ``[score, label]`` (:func:`record_severity` of the whole record) in the record excerpt
the result cache keeps with a pip-audit answer, so that a cached answer scores no vector again
(and loads no ``cvss``): the excerpt's vectors would give the same pair, with the ``cvss`` version
that is part of the cached answer's key (pip-audit's cache material)."""


def remembered_severity(record: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """:func:`record_severity`, from the pair stored under :data:`SCORED` when there is a well-formed one."""
    pair = record.get(SCORED)
    if isinstance(pair, list) and len(pair) == 2:
        score, label = pair
        number = isinstance(score, int | float) and not isinstance(score, bool) and 0.0 <= score <= 10.0
        if (score is None or number) and (label is None or isinstance(label, str)):
            return (None if score is None else float(score)), label
    return record_severity(record)


def advisory_severity(record: Mapping[str, Any], policy: SeverityPolicy) -> Severity:
    """secscan's severity of an OSV record under ``policy``."""
    score, label = record_severity(record)
    return policy.advisory(score, label)
