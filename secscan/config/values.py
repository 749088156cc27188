"""The validated configuration as the rest of secscan reads it: frozen dataclasses, no pydantic.

:mod:`secscan.config.schema` validates ``secscan.toml`` with pydantic and hands back these
values (the sections of ``[daemon]``, ``[notify]``, ... live in their own modules beside this
one); a run whose configuration is unchanged gets them from :mod:`secscan.config.memo` without
importing pydantic at all. A test keeps each class's fields and defaults equal to its schema's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import ClassVar, Literal

from secscan.config.cache import CacheConfig
from secscan.config.daemon import DaemonConfig
from secscan.config.fleet import FleetConfig
from secscan.config.github import GithubConfig
from secscan.config.notify import NotifyConfig
from secscan.config.report import ReportConfig

CONFIG_NAME = "secscan.toml"
BUILTIN_SCANNERS = (
    "bandit",
    "detect-secrets",
    "pip-audit",
    "lockfile-audit",
    "zizmor",
    "semgrep",
    "git-history",
    "posture",
)

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
)
"""Directory or file names excluded by default. Directories holding ``pyvenv.cfg`` (any
virtualenv, whatever its name) are always excluded as well."""

FailOn = Literal["critical", "high", "medium", "low", "none"]

TRUSTED_ONLY_SECTIONS = ("daemon", "fleet", "github", "notify", "cache", "report")
"""Sections that decide where secscan sends data, what it pages or where it writes: a
``secscan.toml`` found inside a scanned repository may not set them."""

MAX_TIMEOUT_S = 7 * 24 * 3600.0
"""A week: a scanner timeout beyond it cannot be meant (``inf`` and ``nan`` are refused too)."""


def max_processes() -> int:
    """The most processes one scanner may start: four per CPU (more only thrash the machine)."""
    return 4 * (os.cpu_count() or 1)


@dataclass(frozen=True, kw_only=True)
class ScanConfig:
    """``[scan]``: what secscan walks and when it fails a build."""

    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    max_file_size: int = 5_000_000  # bytes; larger files are not scanned
    # resident memory one scanner command (its whole process tree) may hold before it is killed and
    # the scanner fails, closing nothing: a hostile file cannot take the machine's memory; 0: no cap
    max_memory_mb: int = 4096
    fail_on: FailOn = "high"
    include_ignored: bool = False  # scan files git ignores too (secscan.fs.exclusions)

    @property
    def excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude


@dataclass(frozen=True, kw_only=True)
class PolicyConfig:
    """``[policy]``: overrides of the bundled policy data in ``rules/``."""

    severity: Path | None = None
    sla: Path | None = None


@dataclass(frozen=True, kw_only=True)
class ScannerConfig:
    """Options every scanner has (``[scanners.<name>]``); ``timeout`` in seconds."""

    enabled: bool = True
    timeout: float = 600.0
    args: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    trusted_only: ClassVar[tuple[str, ...]] = ("args",)
    """Keys a ``secscan.toml`` found inside the scanned repository may not set."""

    def scanner_options(self) -> dict[str, object]:
        """The scanner's own options, as ``ScanJob.options``."""
        return {}


@dataclass(frozen=True, kw_only=True)
class BanditConfig(ScannerConfig):
    shards: int | None = None  # bandit processes; default: CPU count


@dataclass(frozen=True, kw_only=True)
class DetectSecretsConfig(ScannerConfig):
    processes: int | None = None  # detect-secrets -c; default: CPU count


@dataclass(frozen=True, kw_only=True)
class PipAuditConfig(ScannerConfig):
    osv_db: Path | None = None
    osv_url: str | None = None
    requirements: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class LockfileAuditConfig(ScannerConfig):
    """``[scanners.lockfile-audit]``: its offline OSV database (default: ``--osv-db``, else pip-audit's)."""

    osv_db: Path | None = None


@dataclass(frozen=True, kw_only=True)
class ZizmorConfig(ScannerConfig):
    """``[scanners.zizmor]``. ``config`` would let a repository's own zizmor.yml disable audits,
    so only a trusted configuration may name one."""

    persona: Literal["regular", "pedantic", "auditor"] = "regular"
    config: Path | None = None

    trusted_only: ClassVar[tuple[str, ...]] = ("args", "config")

    def scanner_options(self) -> dict[str, object]:
        return {"persona": self.persona, **({"config": str(self.config)} if self.config else {})}


@dataclass(frozen=True, kw_only=True)
class SemgrepConfig(ScannerConfig):
    """``[scanners.semgrep]`` (secscan's rule packs; semgrep itself is the ``semgrep`` extra)."""

    jobs: int | None = None  # semgrep --jobs; default: 1 (see semgrep.py)
    shards: int | None = None  # semgrep processes; default: CPU count
    max_target_bytes: int = 1_000_000  # larger files are not scanned
    rule_timeout: float = 30.0  # seconds per rule and file; 0: none

    def scanner_options(self) -> dict[str, object]:
        options: dict[str, object] = {"max_target_bytes": self.max_target_bytes}
        options["rule_timeout"] = self.rule_timeout
        if self.jobs:
            options["jobs"] = self.jobs
        if self.shards:
            options["shards"] = self.shards
        return options


@dataclass(frozen=True, kw_only=True)
class GitHistoryConfig(ScannerConfig):
    """``[scanners.git-history]``: secrets that were ever committed (``args``: extra detect-secrets
    arguments, after those of ``[scanners.detect-secrets]``)."""

    all_branches: bool = True  # all branches, tags, remote branches; false: HEAD
    max_commits: int | None = None  # read at most the newest N commits
    since: date | None = None  # read only commits made on or after this day
    max_commit_bytes: int = 100_000_000  # bytes of one commit's patch read
    processes: int | None = None  # scanning processes; default: CPU count


@dataclass(frozen=True, kw_only=True)
class PostureConfig(ScannerConfig):
    """``[scanners.posture]``: repository hygiene rules (``rules/posture/``)."""

    binary_paths: tuple[str, ...] = ()  # globs where binaries and archives belong
    disable: tuple[str, ...] = ()  # posture rule ids not to check


@dataclass(frozen=True, kw_only=True)
class SarifToolConfig(ScannerConfig):
    """A configured tool that writes SARIF (semgrep, zizmor, gitleaks, trivy, ...)."""

    command: tuple[str, ...]
    version_command: tuple[str, ...] | None = None
    output: Literal["file", "stdout"] = "file"
    ok_exit_codes: tuple[int, ...] = (0, 1)
    file_local: bool = False


BUILTIN_CONFIGS: Mapping[str, type[ScannerConfig]] = {
    "bandit": BanditConfig,
    "detect-secrets": DetectSecretsConfig,
    "pip-audit": PipAuditConfig,
    "lockfile-audit": LockfileAuditConfig,
    "zizmor": ZizmorConfig,
    "semgrep": SemgrepConfig,
    "git-history": GitHistoryConfig,
    "posture": PostureConfig,
}
"""Each built-in scanner's options."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The whole validated configuration (``source``: the file it came from, if any)."""

    scan: ScanConfig = field(default_factory=ScanConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    scanners: Mapping[str, ScannerConfig] = field(default_factory=dict)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    fleet: FleetConfig = field(default_factory=FleetConfig)  # issue 17
    github: GithubConfig | None = None
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    source: Path | None = None

    def scanner(self, name: str) -> ScannerConfig:
        return self.scanners[name]

    def osv_db(self, name: str, override: Path | None = None) -> Path | None:
        """The offline OSV database of scanner ``name``: ``override`` (``--osv-db``), else its
        own ``osv_db``, else (lockfile-audit) pip-audit's: one database serves both."""
        if override is not None:
            return override
        own = getattr(self.scanners.get(name), "osv_db", None)
        if own is None and name == "lockfile-audit":
            own = getattr(self.scanners.get("pip-audit"), "osv_db", None)
        return own if isinstance(own, Path) else None
