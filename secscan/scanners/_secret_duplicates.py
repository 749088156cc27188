"""One credential, one finding: detect-secrets' entropy plugins re-report what a typed plugin found.

A Slack token on a line is reported by its own plugin (high) and again, for the very same value,
by the Base64 entropy plugin (medium): the second finding says nothing the first does not, and a
team reads that secret twice. An entropy finding is dropped when a typed finding on the same line
has the same hash, so the same value (which the run still recovers for redaction from the typed
finding). Where the two hashes differ the entropy finding is kept, even when one value holds the
other: the typed plugins sometimes hash only a part of what they match (the GitHub token plugin
hashes ``ghp``), and the entropy finding is then what tells the run the whole value to redact.
"""

from __future__ import annotations

from collections.abc import Sequence

from secscan.core.model import Finding

ENTROPY_TYPES = frozenset({"Base64 High Entropy String", "Hex High Entropy String"})


def without_entropy_duplicates(findings: Sequence[Finding]) -> list[Finding]:
    """``findings`` of detect-secrets without the entropy findings that repeat a typed finding of
    their line with the same hash (see the module docstring)."""
    typed = {
        (f.location.path, f.location.start_line, (f.identity or "").lower())
        for f in findings
        if f.rule_id not in ENTROPY_TYPES
    }
    return [
        f
        for f in findings
        if f.rule_id not in ENTROPY_TYPES
        or (f.location.path, f.location.start_line, (f.identity or "").lower()) not in typed
    ]
