"""``[report]``: where the daemon writes the dashboard, and what it shows (validated by
:mod:`secscan.config.schema.report`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from secscan.core.areas import Area

ReportFormat = Literal["html", "md", "json"]


@dataclass(frozen=True, kw_only=True)
class ReportConfig:
    """``[report]``: the daemon's nightly dashboard and the defaults of ``secscan report``.

    ``repositories`` maps a target name to its web URL (``https://github.com/OWNER/REPO``) for
    links to a finding's file and line; without it secscan reads the ``origin`` remote of the
    target's checkout and links only to github.com. ``areas`` files a configured tool's findings
    under one of the policy's areas (:mod:`secscan.core.areas`); ``expected_every_hours`` is also how
    old a target's last complete scan may be before the report flags it.
    """

    path: Path | None = None
    format: ReportFormat = "html"
    since_days: int = 30
    expected_every_hours: float = 24.0
    max_rows: int = 100
    repositories: Mapping[str, str] = field(default_factory=dict)
    score_baseline: float = 95.0
    areas: Mapping[str, Area] = field(default_factory=dict)
    expiring_days: int = 14
