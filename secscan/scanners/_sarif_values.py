"""Type-checked reads of an untrusted SARIF log's values, for :mod:`secscan.scanners.sarif_input`.

A value of the wrong type reads as empty (``{}``, ``[]``) or absent (``None``), never as an error;
texts kept from the log are clipped to :data:`MAX_TEXT` characters.
"""

from __future__ import annotations

from typing import Any

from secscan.core.clip import clip as clip_words

MAX_TEXT = 1024
"""The longest message or description kept (longer ones end in ``...``)."""


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: object, minimum: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= minimum else None


def clip(text: str) -> str:
    """``text`` cut to :data:`MAX_TEXT` without keeping part of a word: the run's redactor sees
    it after the cut, and a known secret cut in two would no longer be found."""
    return clip_words(text, MAX_TEXT)
