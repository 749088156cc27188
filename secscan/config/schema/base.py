"""The base of every validated configuration section: unknown keys are errors, values frozen,
and a value of the wrong TOML type is refused rather than converted.

pydantic's default (lax) mode turns ``true`` into the number 1, ``"off"`` into ``False`` and
``"10"`` into 10, so ``timeout = true`` became a one-second timeout and ``enabled = "off"``
quietly disabled a scanner. Every model is therefore strict: a bool is only a bool, a number
only a number (an integer is still a float: ``timeout = 10``), a string only a string, and the
rule reaches the items of lists and tables too. TOML has no type for a path, an enumeration or a
tuple, so the few fields that mean those say so with the annotations below; they convert a TOML
string or array and nothing else.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict

T = TypeVar("T")

FROM_TOML = Strict(False)
"""On a field whose type TOML writes as a string (a path, an enumeration) or an array (a tuple):
that conversion is meant. It does not reach the items of a tuple, which stay strict."""

PathText = Annotated[Path, FROM_TOML]
"""A path, written as a string."""

Items = Annotated[tuple[T, ...], FROM_TOML]
"""A tuple, written as an array; each item is still checked strictly (``Items[int]`` refuses
``["0"]`` and ``[true]``)."""


def _iso_date(value: object) -> object:
    if not isinstance(value, str):
        return value  # a TOML date is a date; anything else is refused as not one
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("should be a date such as 2024-01-01") from None


DateText = Annotated[date, BeforeValidator(_iso_date)]
"""A day: a TOML date (``2024-01-01``) or the same written as text (``"2024-01-01"``); never a
number (pydantic's lax mode read ``1700000000`` as a Unix time)."""

DAY_S = 24 * 3600.0
YEAR_S = 366 * DAY_S
"""The longest interval, grace or cadence a setting takes (a longer one cannot be meant, and
one of ``1e12`` seconds overflowed the scheduler's clock arithmetic)."""

MIN_INTERVAL_S = 0.001
"""The shortest interval between a daemon's or a worker's repeated jobs: a millisecond (a
smaller positive number is zero to the scheduler)."""

MAX_RETENTION_DAYS = 36_525
"""A hundred years: the longest a retention (``keep_runs_days``) may be."""


class ConfigModel(BaseModel):
    """A ``secscan.toml`` table: extra keys are refused, the validated value is immutable, and
    values are not coerced between types (see the module docstring).

    TOML has ``inf`` and ``nan``; no number of secscan's can mean them (``timeout = inf``), so
    every float is refused unless finite.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)
