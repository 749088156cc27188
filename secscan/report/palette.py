"""Severity order and colours shared by every rendering (no imports beyond the model).

Colours are the Okabe-Ito palette, distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

from collections.abc import Mapping

from secscan.core.model import Severity

OKABE_ITO: Mapping[Severity, str] = {
    Severity.CRITICAL: "#D55E00",  # vermillion
    Severity.HIGH: "#E69F00",  # orange
    Severity.MEDIUM: "#F0E442",  # yellow
    Severity.LOW: "#56B4E9",  # sky blue
    Severity.INFO: "#999999",  # grey
}
WORST_FIRST: tuple[Severity, ...] = tuple(sorted(Severity, key=lambda s: -s.rank))
