"""What ``secscan ingest`` reads from a SARIF log's raw values itself (the findings are
:mod:`secscan.scanners.sarif_input`'s): whether a run is a complete analysis (:func:`run_failure`),
and the secret values the log points at (:func:`quoted_snippets`): a region snippet that is one
token and that its result's message quotes (the shape of gitleaks' output).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from secscan.core.redact import MIN_SECRET_LENGTH

MIN_SNIPPET_SECRET = max(MIN_SECRET_LENGTH, 8)
"""A quoted snippet shorter than this is not taken as a secret value (it would shred messages)."""


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _get(obj: object, *keys: str) -> object:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _message_texts(result: dict[str, Any]) -> list[str]:
    message = result.get("message")
    arguments = _get(message, "arguments")
    texts = [_get(message, "text"), _get(message, "markdown")]
    texts += arguments if isinstance(arguments, list) else []
    return [t for t in texts if isinstance(t, str)]


def _snippet_tokens(result: dict[str, Any]) -> list[str]:
    """The one-token region snippets of a result's locations (most results have none)."""
    tokens = []
    for location in _dicts(result.get("locations")):
        snippet = _get(location, "physicalLocation", "region", "snippet", "text")
        value = snippet.strip() if isinstance(snippet, str) else ""
        if len(value) >= MIN_SNIPPET_SECRET and not any(c.isspace() for c in value):
            tokens.append(value)
    return tokens


def quoted_snippets(result: object) -> list[str]:
    """A result's region snippets that are one token and that its message quotes."""
    tokens = _snippet_tokens(result) if isinstance(result, dict) else ()
    if not tokens:  # the usual case
        return []
    texts = _message_texts(result)  # type: ignore[arg-type]
    return [value for value in tokens if any(value in text for text in texts)]


class SnippetWatch:
    """The log's chunks, watched for bytes that could belong to a ``snippet`` key: the word, or a
    ``\\u`` escape that could spell it. Until one passes, no result can quote a snippet, and
    :func:`quoted_snippets` need not look (most logs have none: it would cost a tenth of a build).
    The reader pulls a result's bytes through here before it decodes the result."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._tail = b""
        self.maybe = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if not self.maybe:
                probe = self._tail + chunk  # the word may straddle two chunks
                self.maybe = b"snippet" in probe or b"\\u" in probe
                self._tail = chunk[-8:]
            yield chunk


def run_failure(run: object) -> str | None:
    """Why a SARIF run is not a complete analysis, or ``None`` when it is one.

    ``executionSuccessful: false`` says so; a run without a ``results`` array did not analyse
    (SARIF: an empty array means "nothing found", an absent one "no analysis").
    """
    if not isinstance(run, dict):
        return "the SARIF run is not an object"
    if any(inv.get("executionSuccessful") is False for inv in _dicts(run.get("invocations"))):
        return "the SARIF log says its execution was not successful"
    if not isinstance(run.get("results"), list):
        return "the SARIF run has no results array (the tool did not complete its analysis)"
    return None
