"""The schema of ``[report]`` (its values: :class:`secscan.config.report.ReportConfig`)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from secscan.config.report import ReportFormat
from secscan.config.schema.base import FROM_TOML, YEAR_S, ConfigModel, PathText
from secscan.core.areas import Area

_REPO_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class ReportConfig(ConfigModel):
    """Validates :class:`secscan.config.report.ReportConfig` (documented there)."""

    path: PathText | None = Field(
        default=None, description="where the daemon writes the report after each nightly run"
    )
    format: ReportFormat = Field(default="html", description="html, md or json")
    since_days: int = Field(default=30, gt=0, le=3660, description="the trend charts cover this many days")
    expected_every_hours: float = Field(
        default=24.0,
        gt=0,
        le=YEAR_S / 3600,
        description="a target without a run in such a slot has missed a scan",
    )
    max_rows: int = Field(default=100, gt=0, le=10_000, description="breached / due-soon findings listed")
    repositories: dict[str, str] = Field(
        default_factory=dict, description="target name -> repository web URL"
    )
    score_baseline: float = Field(
        default=95.0, ge=0, le=100, description="the security policy's score baseline (0-100)"
    )
    areas: dict[str, Annotated[Area, FROM_TOML]] = Field(
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
