"""The schema of ``secscan.toml`` as a whole: pydantic validates a parsed configuration here and
hands back :class:`secscan.config.values.Settings` (plain frozen values, see :func:`validate`).

Every problem becomes one :class:`~secscan.core.errors.ConfigError` line naming the file, the key
and the fix; the trust rules and the reading of files are :mod:`secscan.config.settings`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from secscan.config import cache, daemon, fleet, github, notify, report, values
from secscan.config.schema.base import ConfigModel, DateText, Items, PathText
from secscan.config.schema.cache import CacheConfig
from secscan.config.schema.daemon import DaemonConfig
from secscan.config.schema.errors import format_error
from secscan.config.schema.fleet import FleetConfig
from secscan.config.schema.github import GithubConfig
from secscan.config.schema.notify import NotifyConfig
from secscan.config.schema.report import ReportConfig
from secscan.config.values import BUILTIN_SCANNERS, DEFAULT_EXCLUDES, MAX_TIMEOUT_S, FailOn, max_processes
from secscan.core.errors import ConfigError

_Model = ConfigModel


class ScanConfig(_Model):
    """Validates :class:`secscan.config.values.ScanConfig` (documented there)."""

    exclude: Items[str] = DEFAULT_EXCLUDES
    extend_exclude: Items[str] = ()
    max_file_size: int = Field(default=5_000_000, gt=0, description="bytes; larger files are not scanned")
    max_memory_mb: int = Field(default=4096, ge=0, le=1_048_576, description="per scanner command; 0: no cap")
    fail_on: FailOn = "high"
    include_ignored: bool = False  # scan files git ignores too (secscan.fs.exclusions)


class PolicyConfig(_Model):
    """Validates :class:`secscan.config.values.PolicyConfig` (documented there)."""

    severity: PathText | None = None
    sla: PathText | None = None


def _processes(value: int | None) -> int | None:
    if value is not None and value > max_processes():
        raise ValueError(f"must be at most {max_processes()} (four per CPU on this machine)")
    return value


class ScannerConfig(_Model):
    """Options every scanner has (``[scanners.<name>]``)."""

    enabled: bool = True
    timeout: float = Field(default=600.0, gt=0, le=MAX_TIMEOUT_S, description="seconds, may be fractional")
    args: Items[str] = ()
    exclude: Items[str] = ()


class BanditConfig(ScannerConfig):
    shards: int | None = Field(default=None, ge=1, description="bandit processes; default: CPU count")

    _shards = field_validator("shards")(_processes)


class DetectSecretsConfig(ScannerConfig):
    processes: int | None = Field(default=None, ge=1, description="detect-secrets -c; default: CPU count")

    _processes = field_validator("processes")(_processes)


class PipAuditConfig(ScannerConfig):
    osv_db: PathText | None = None
    osv_url: str | None = None
    requirements: Items[str] | None = None

    @field_validator("osv_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL of an OSV /v1/query endpoint")
        return value


class LockfileAuditConfig(ScannerConfig):
    """Validates :class:`secscan.config.values.LockfileAuditConfig` (documented there)."""

    osv_db: PathText | None = None


class ZizmorConfig(ScannerConfig):
    """Validates :class:`secscan.config.values.ZizmorConfig` (documented there)."""

    persona: Literal["regular", "pedantic", "auditor"] = "regular"
    config: PathText | None = None

    @field_validator("config")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"zizmor config file {value} does not exist")
        return value


class SemgrepConfig(ScannerConfig):
    """Validates :class:`secscan.config.values.SemgrepConfig` (documented there)."""

    jobs: int | None = Field(default=None, ge=1, description="semgrep --jobs; default: 1 (see semgrep.py)")
    shards: int | None = Field(default=None, ge=1, description="semgrep processes; default: CPU count")
    max_target_bytes: int = Field(default=1_000_000, gt=0, description="larger files are not scanned")
    rule_timeout: float = Field(
        default=30.0, ge=0, le=MAX_TIMEOUT_S, description="seconds per rule and file; 0: none"
    )

    _shards = field_validator("shards")(_processes)


class GitHistoryConfig(ScannerConfig):
    """Validates :class:`secscan.config.values.GitHistoryConfig` (documented there)."""

    all_branches: bool = Field(default=True, description="all branches, tags, remote branches; false: HEAD")
    max_commits: int | None = Field(default=None, ge=1, description="read at most the newest N commits")
    since: DateText | None = Field(default=None, description="read only commits made on or after this day")
    max_commit_bytes: int = Field(default=100_000_000, gt=0, description="bytes of one commit's patch read")
    processes: int | None = Field(default=None, ge=1, description="scanning processes; default: CPU count")


class PostureConfig(ScannerConfig):
    """Validates :class:`secscan.config.values.PostureConfig` (documented there)."""

    binary_paths: Items[str] = Field(default=(), description="globs where binaries and archives belong")
    disable: Items[str] = Field(default=(), description="posture rule ids not to check")

    @field_validator("disable")
    @classmethod
    def _known_rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from secscan.config.posture_rules import rule_ids

        known = rule_ids()
        for rule_id in value:
            if rule_id not in known:
                raise ValueError(f"has no posture rule {rule_id!r} (rules: {', '.join(sorted(known))})")
        return value


class SarifToolConfig(ScannerConfig):
    """Validates :class:`secscan.config.values.SarifToolConfig` (documented there)."""

    command: Items[str] = Field(min_length=1)
    version_command: Items[str] | None = None
    output: Literal["file", "stdout"] = "file"
    ok_exit_codes: Items[int] = (0, 1)
    file_local: bool = False


_BUILTIN_MODELS: Mapping[str, type[ScannerConfig]] = {
    "bandit": BanditConfig,
    "detect-secrets": DetectSecretsConfig,
    "pip-audit": PipAuditConfig,
    "lockfile-audit": LockfileAuditConfig,
    "zizmor": ZizmorConfig,
    "semgrep": SemgrepConfig,
    "git-history": GitHistoryConfig,
    "posture": PostureConfig,
}


class Settings(_Model):
    """The whole validated configuration."""

    scan: ScanConfig = ScanConfig()
    policy: PolicyConfig = PolicyConfig()
    scanners: Mapping[str, ScannerConfig] = Field(default_factory=dict)
    daemon: DaemonConfig = DaemonConfig()
    fleet: FleetConfig = FleetConfig()  # issue 17
    github: GithubConfig | None = None
    notify: NotifyConfig = NotifyConfig()
    cache: CacheConfig = CacheConfig()
    report: ReportConfig = ReportConfig()
    source: PathText | None = Field(default=None, exclude=True)


_VALUES: Mapping[str, type[Any]] = {
    cls.__name__: cls
    for module in (values, cache, daemon, fleet, github, notify, report)
    for cls in vars(module).values()
    if isinstance(cls, type) and cls.__module__ == module.__name__
}
"""Each schema model's values class, by name (a test checks every model has one, field by field)."""


def to_values(value: Any) -> Any:
    """A validated model as its plain values (:mod:`secscan.config.values`), recursively; every
    field of the model is passed on, so a field the values class lacks is a TypeError here."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return _VALUES[type(value).__name__](**{name: to_values(getattr(value, name)) for name in fields})
    if isinstance(value, Mapping):
        return {key: to_values(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(to_values(item) for item in value)
    return value


def validate(data: Mapping[str, Any], *, source: Path | None, where: str) -> values.Settings:
    """Validate a parsed config mapping (its trust already checked) into plain settings."""
    data = dict(data)
    scanners_raw = data.pop("scanners", {}) or {}
    if not isinstance(scanners_raw, dict):
        raise ConfigError(f"{where}: 'scanners' must be a table of [scanners.<name>] tables")
    scanners: dict[str, ScannerConfig] = {}
    for name, table in scanners_raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [scanners.{name}] must be a table")
        model = _BUILTIN_MODELS.get(name, SarifToolConfig)
        if model is not SarifToolConfig and "command" in table:
            raise ConfigError(
                f"{where}: [scanners.{name}] is a built-in scanner and takes no 'command'; remove it "
                f"to use the built-in (see README, Configuration), or name your own tool differently"
            )
        if model is SarifToolConfig and "command" not in table:
            raise ConfigError(
                f"{where}: [scanners.{name}] is not a built-in scanner "
                f"({', '.join(BUILTIN_SCANNERS)}); give it a 'command' that writes SARIF"
            )
        try:
            scanners[name] = model.model_validate(table)
        except ValidationError as exc:
            raise ConfigError(format_error(exc, where, f"scanners.{name}.")) from None
    for name, default in _BUILTIN_MODELS.items():
        scanners.setdefault(name, default())
    try:
        settings = Settings.model_validate({**data, "scanners": scanners, "source": source})
    except ValidationError as exc:
        raise ConfigError(format_error(exc, where)) from None
    result: values.Settings = to_values(settings)
    return result
