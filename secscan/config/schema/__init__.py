"""The configuration's schema: pydantic models that validate ``secscan.toml`` and turn into the
plain values of :mod:`secscan.config.values` (and its sibling modules). Imported only when a
configuration is actually validated, never on a run whose configuration is memoised
(:mod:`secscan.config.memo`).
"""
