"""The base of every validated configuration section: unknown keys are errors, values frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """A ``secscan.toml`` table: extra keys are refused and the validated value is immutable.

    TOML has ``inf`` and ``nan``; no number of secscan's can mean them (``timeout = inf``), so
    every float is refused unless finite.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
