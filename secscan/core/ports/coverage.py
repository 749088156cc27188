"""Frozen records of the coverage map that cross the Store seam (issue 14)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from secscan.core.model import CoverageEntry, RunId


@dataclass(frozen=True)
class RunCoverage:
    """The coverage map of one recorded run of ``target`` (``started_at``: when the run began)."""

    target: str
    run_id: RunId
    started_at: datetime
    status: str
    entries: tuple[CoverageEntry, ...]
