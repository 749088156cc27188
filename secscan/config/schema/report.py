"""The schema of ``[report]`` (its values: :class:`secscan.config.report.ReportConfig`)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from secscan.config.report import ReportFormat
from secscan.config.schema.base import ConfigModel
from secscan.core.areas import Area

_REPO_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class ReportConfig(ConfigModel):
    """``[report]``: the daemon's nightly dashboard and the defaults of ``secscan report``.

    ``repositories`` maps a target name to its web URL (``https://github.com/OWNER/REPO``) for
    links to a finding's file and line; without it secscan reads the ``origin`` remote of the
    target's checkout and links only to github.com. ``areas`` files a configured tool's findings
    under one of the policy's areas (:mod:`secscan.core.areas`); ``expected_every_hours`` is also how
    old a target's last complete scan may be before the report flags it.
    """

    path: Path | None = Field(
        default=None, description="where the daemon writes the report after each nightly run"
    )
    format: ReportFormat = Field(default="html", description="html, md or json")
    since_days: int = Field(default=30, gt=0, le=3660, description="the trend charts cover this many days")
    expected_every_hours: float = Field(
        default=24.0, gt=0, description="a target without a run in such a slot has missed a scan"
    )
    max_rows: int = Field(default=100, gt=0, le=10_000, description="breached / due-soon findings listed")
    repositories: dict[str, str] = Field(
        default_factory=dict, description="target name -> repository web URL"
    )
    score_baseline: float = Field(
        default=95.0, ge=0, le=100, description="the security policy's score baseline (0-100)"
    )
    areas: dict[str, Area] = Field(
        default_factory=dict,
        description="tool -> secrets, dependencies, code or infrastructure (configured SARIF tools)",
    )
    expiring_days: int = Field(
        default=14, gt=0, le=366, description="accepted risks that end within this many days are listed"
    )

    @field_validator("repositories")
    @classmethod
    def _urls(cls, value: dict[str, str]) -> dict[str, str]:
        for name, url in value.items():
            if not _REPO_URL.match(url.rstrip("/")):
                raise ValueError(f"{name} = {url!r} must look like https://github.com/OWNER/REPO")
        return {name: url.rstrip("/") for name, url in value.items()}
