"""Configuration: ``secscan.toml`` validated by pydantic into frozen settings.

Settings are validated once, passed down explicitly and never stored globally. Every problem
becomes one :class:`~secscan.errors.ConfigError` line naming the file, the key and the fix.

Trust: a ``secscan.toml`` that secscan *discovers* in the scanned target belongs to a repository
that may be untrusted, so it may not make secscan run commands (custom SARIF tools) or pass
extra arguments to scanners. A file given explicitly with ``--config`` is trusted.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from secscan.cache.config import CacheConfig
from secscan.config_base import ConfigModel
from secscan.daemon.config import DaemonConfig
from secscan.errors import ConfigError
from secscan.github.config import GithubConfig
from secscan.model import Severity
from secscan.notify.config import NotifyConfig
from secscan.report.config import ReportConfig

CONFIG_NAME = "secscan.toml"
BUILTIN_SCANNERS = ("bandit", "detect-secrets", "pip-audit", "git-history", "posture")

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


_Model = ConfigModel

TRUSTED_ONLY_SECTIONS = ("daemon", "github", "notify", "cache", "report")
"""Sections that decide where secscan sends data, what it pages or where it writes: a
``secscan.toml`` found inside a scanned repository may not set them."""


class ScanConfig(_Model):
    """``[scan]``: what secscan walks and when it fails a build."""

    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    max_file_size: int = Field(default=5_000_000, gt=0, description="bytes; larger files are not scanned")
    fail_on: FailOn = "high"

    @property
    def excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude


class PolicyConfig(_Model):
    """``[policy]``: overrides of the bundled policy data in ``rules/``."""

    severity: Path | None = None
    sla: Path | None = None


class ScannerConfig(_Model):
    """Options every scanner has (``[scanners.<name>]``)."""

    enabled: bool = True
    timeout: float = Field(default=600.0, gt=0, description="seconds, may be fractional")
    args: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


class BanditConfig(ScannerConfig):
    shards: int | None = Field(default=None, ge=1, description="bandit processes; default: CPU count")


class DetectSecretsConfig(ScannerConfig):
    processes: int | None = Field(default=None, ge=1, description="detect-secrets -c; default: CPU count")


class PipAuditConfig(ScannerConfig):
    osv_db: Path | None = None
    osv_url: str | None = None
    requirements: tuple[str, ...] | None = None

    @field_validator("osv_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL of an OSV /v1/query endpoint")
        return value


class GitHistoryConfig(ScannerConfig):
    """``[scanners.git-history]``: secrets that were ever committed (``args``: extra detect-secrets
    arguments, after those of ``[scanners.detect-secrets]``)."""

    all_branches: bool = Field(default=True, description="all branches, tags, remote branches; false: HEAD")
    max_commits: int | None = Field(default=None, ge=1, description="read at most the newest N commits")
    since: date | None = Field(default=None, description="read only commits made on or after this day")
    max_commit_bytes: int = Field(default=100_000_000, gt=0, description="bytes of one commit's patch read")
    processes: int | None = Field(default=None, ge=1, description="scanning processes; default: CPU count")


class PostureConfig(ScannerConfig):
    """``[scanners.posture]``: repository hygiene rules (``rules/posture/``)."""

    binary_paths: tuple[str, ...] = Field(default=(), description="globs where binaries and archives belong")
    disable: tuple[str, ...] = Field(default=(), description="posture rule ids not to check")

    @field_validator("disable")
    @classmethod
    def _known_rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from secscan.scanners._posture_rules import rule_ids

        known = rule_ids()
        for rule_id in value:
            if rule_id not in known:
                raise ValueError(f"has no posture rule {rule_id!r} (rules: {', '.join(sorted(known))})")
        return value


class SarifToolConfig(ScannerConfig):
    """A configured tool that writes SARIF (semgrep, zizmor, gitleaks, trivy, ...)."""

    command: tuple[str, ...] = Field(min_length=1)
    version_command: tuple[str, ...] | None = None
    output: Literal["file", "stdout"] = "file"
    ok_exit_codes: tuple[int, ...] = (0, 1)
    file_local: bool = False


_BUILTIN_MODELS: Mapping[str, type[ScannerConfig]] = {
    "bandit": BanditConfig,
    "detect-secrets": DetectSecretsConfig,
    "pip-audit": PipAuditConfig,
    "git-history": GitHistoryConfig,
    "posture": PostureConfig,
}


class Settings(_Model):
    """The whole validated configuration."""

    scan: ScanConfig = ScanConfig()
    policy: PolicyConfig = PolicyConfig()
    scanners: Mapping[str, ScannerConfig] = Field(default_factory=dict)
    daemon: DaemonConfig = DaemonConfig()
    github: GithubConfig | None = None
    notify: NotifyConfig = NotifyConfig()
    cache: CacheConfig = CacheConfig()
    report: ReportConfig = ReportConfig()
    source: Path | None = Field(default=None, exclude=True)

    def scanner(self, name: str) -> ScannerConfig:
        return self.scanners[name]


def _format_error(exc: ValidationError, source: str, prefix: str = "") -> str:
    err = exc.errors()[0]
    loc = prefix + ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{source}: unknown key '{loc}'; remove it or check its spelling (see README, Configuration)"
    if err["type"] == "missing":
        return f"{source}: '{loc}' is required; add it (see README, Configuration)"
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
    return f"{source}: '{loc}' {err['msg'][:1].lower()}{err['msg'][1:]}{shown}; fix the value"


def _resolve_paths(raw: dict[str, Any], base: Path) -> None:
    """Make config-relative paths absolute (relative to the config file's folder)."""
    policy = raw.get("policy")
    if isinstance(policy, dict):
        for key in ("severity", "sla"):
            if isinstance(policy.get(key), str):
                policy[key] = str(base / policy[key])
    scanners = raw.get("scanners")
    if isinstance(scanners, dict):
        pip_audit = scanners.get("pip-audit")
        if isinstance(pip_audit, dict) and isinstance(pip_audit.get("osv_db"), str):
            pip_audit["osv_db"] = str(base / pip_audit["osv_db"])


def build_settings(
    raw: Mapping[str, Any], *, source: Path | None = None, trusted: bool = True
) -> Settings:
    """Validate a parsed config mapping. ``trusted=False`` for a config found inside the target."""
    where = str(source) if source else "configuration"
    data: dict[str, Any] = {k: v for k, v in raw.items()}
    if not trusted:
        for section in TRUSTED_ONLY_SECTIONS:
            if section in data:
                raise ConfigError(
                    f"{where}: [{section}] comes from the scanned repository, which may be untrusted; "
                    "move it to a config file passed with --config"
                )
    scanners_raw = data.pop("scanners", {}) or {}
    if not isinstance(scanners_raw, dict):
        raise ConfigError(f"{where}: 'scanners' must be a table of [scanners.<name>] tables")
    scanners: dict[str, ScannerConfig] = {}
    for name, table in scanners_raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [scanners.{name}] must be a table")
        model = _BUILTIN_MODELS.get(name, SarifToolConfig)
        if model is SarifToolConfig and "command" not in table:
            raise ConfigError(
                f"{where}: [scanners.{name}] is not a built-in scanner "
                f"({', '.join(BUILTIN_SCANNERS)}); give it a 'command' that writes SARIF"
            )
        if not trusted and (model is SarifToolConfig or table.get("args")):
            key = "command" if model is SarifToolConfig else "args"
            raise ConfigError(
                f"{where}: [scanners.{name}] {key} comes from the scanned repository, which may be "
                "untrusted, so secscan will not run it; pass the file with --config to trust it"
            )
        try:
            scanners[name] = model.model_validate(table)
        except ValidationError as exc:
            raise ConfigError(_format_error(exc, where, f"scanners.{name}.")) from None
    for name, default in _BUILTIN_MODELS.items():
        scanners.setdefault(name, default())
    try:
        return Settings.model_validate({**data, "scanners": scanners, "source": source})
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, where)) from None


def load_settings(
    config: Path | None, target: Path | None = None, overrides: Sequence[tuple[str, Any]] = ()
) -> Settings:
    """Load ``config`` (trusted) or ``TARGET/secscan.toml`` (untrusted), or the defaults.

    ``overrides`` are dotted keys from the command line, applied before validation.
    """
    path: Path | None = None
    trusted = True
    if config is not None:
        path = config
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist; check the --config path")
    elif target is not None and (target / CONFIG_NAME).is_file():
        path, trusted = target / CONFIG_NAME, False
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"config file {path} is not UTF-8 text; save it as UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}; fix the syntax") from None
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        _resolve_paths(raw, path.parent.resolve())
    for dotted, value in overrides:
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return build_settings(raw, source=path, trusted=trusted)


def fail_threshold(settings: Settings) -> Severity | None:
    """The lowest severity that fails the run, or None for ``fail_on = "none"``."""
    return None if settings.scan.fail_on == "none" else Severity(settings.scan.fail_on)
