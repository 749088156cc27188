"""Configuration: ``secscan.toml`` validated by pydantic into frozen settings.

Settings are validated once, passed down explicitly and never stored globally. Every problem
becomes one :class:`~secscan.core.errors.ConfigError` line naming the file, the key and the fix.

Trust: a ``secscan.toml`` that secscan *discovers* in the scanned target belongs to a repository
that may be untrusted, so it may not make secscan run commands (custom SARIF tools) or pass
extra arguments to scanners, and every file it names (``[policy] severity`` and ``sla``,
``[scanners.pip-audit] osv_db``) must resolve inside the repository. A file given explicitly with
``--config`` is trusted: its paths may point anywhere. Either way a configuration or policy file
is read only if it is a regular file of at most 1 MB (:mod:`secscan.fs.safe_read`), before any
scanner starts.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator

from secscan.config.base import ConfigModel
from secscan.config.cache import CacheConfig
from secscan.config.daemon import DaemonConfig
from secscan.config.fleet import FleetConfig
from secscan.config.github import GithubConfig
from secscan.config.notify import CHANNEL_TYPES, NotifyConfig
from secscan.config.report import ReportConfig
from secscan.core.errors import ConfigError
from secscan.core.model import Severity
from secscan.fs.safe_read import MAX_CONFIG_BYTES, read_inside, read_regular

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


_Model = ConfigModel

TRUSTED_ONLY_SECTIONS = ("daemon", "fleet", "github", "notify", "cache", "report")
"""Sections that decide where secscan sends data, what it pages or where it writes: a
``secscan.toml`` found inside a scanned repository may not set them."""


class ScanConfig(_Model):
    """``[scan]``: what secscan walks and when it fails a build."""

    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    max_file_size: int = Field(default=5_000_000, gt=0, description="bytes; larger files are not scanned")
    fail_on: FailOn = "high"
    include_ignored: bool = False  # scan files git ignores too (secscan.fs.exclusions)

    @property
    def excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude


class PolicyConfig(_Model):
    """``[policy]``: overrides of the bundled policy data in ``rules/``."""

    severity: Path | None = None
    sla: Path | None = None


MAX_TIMEOUT_S = 7 * 24 * 3600.0
"""A week: a scanner timeout beyond it cannot be meant (``inf`` and ``nan`` are refused too)."""


def max_processes() -> int:
    """The most processes one scanner may start: four per CPU (more only thrash the machine)."""
    return 4 * (os.cpu_count() or 1)


def _processes(value: int | None) -> int | None:
    if value is not None and value > max_processes():
        raise ValueError(f"must be at most {max_processes()} (four per CPU on this machine)")
    return value


class ScannerConfig(_Model):
    """Options every scanner has (``[scanners.<name>]``)."""

    enabled: bool = True
    timeout: float = Field(default=600.0, gt=0, le=MAX_TIMEOUT_S, description="seconds, may be fractional")
    args: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    trusted_only: ClassVar[tuple[str, ...]] = ("args",)
    """Keys a ``secscan.toml`` found inside the scanned repository may not set."""

    def scanner_options(self) -> dict[str, object]:
        """The scanner's own options, as ``ScanJob.options``."""
        return {}


class BanditConfig(ScannerConfig):
    shards: int | None = Field(default=None, ge=1, description="bandit processes; default: CPU count")

    _shards = field_validator("shards")(_processes)


class DetectSecretsConfig(ScannerConfig):
    processes: int | None = Field(default=None, ge=1, description="detect-secrets -c; default: CPU count")

    _processes = field_validator("processes")(_processes)


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


class LockfileAuditConfig(ScannerConfig):
    """``[scanners.lockfile-audit]``: its offline OSV database (default: ``--osv-db``, else pip-audit's)."""

    osv_db: Path | None = None


class ZizmorConfig(ScannerConfig):
    """``[scanners.zizmor]``. ``config`` would let a repository's own zizmor.yml disable audits,
    so only a trusted configuration may name one."""

    persona: Literal["regular", "pedantic", "auditor"] = "regular"
    config: Path | None = None

    trusted_only: ClassVar[tuple[str, ...]] = ("args", "config")

    @field_validator("config")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"zizmor config file {value} does not exist")
        return value

    def scanner_options(self) -> dict[str, object]:
        return {"persona": self.persona, **({"config": str(self.config)} if self.config else {})}


class SemgrepConfig(ScannerConfig):
    """``[scanners.semgrep]`` (secscan's rule packs; semgrep itself is the ``semgrep`` extra)."""

    jobs: int | None = Field(default=None, ge=1, description="semgrep --jobs; default: 1 (see semgrep.py)")
    shards: int | None = Field(default=None, ge=1, description="semgrep processes; default: CPU count")
    max_target_bytes: int = Field(default=1_000_000, gt=0, description="larger files are not scanned")
    rule_timeout: float = Field(default=30.0, ge=0, description="seconds per rule and file; 0: none")

    def scanner_options(self) -> dict[str, object]:
        options: dict[str, object] = {"max_target_bytes": self.max_target_bytes}
        options["rule_timeout"] = self.rule_timeout
        if self.jobs:
            options["jobs"] = self.jobs
        if self.shards:
            options["shards"] = self.shards
        return options

    _shards = field_validator("shards")(_processes)


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
        from secscan.config.posture_rules import rule_ids

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
    "lockfile-audit": LockfileAuditConfig,
    "zizmor": ZizmorConfig,
    "semgrep": SemgrepConfig,
    "git-history": GitHistoryConfig,
    "posture": PostureConfig,
}

_TAGGED_UNIONS: Mapping[str, tuple[str, ...]] = {"notify": CHANNEL_TYPES}
"""The tables whose entries are chosen by a key (``type``), and the values it takes."""

_PATH_KEYS: Mapping[str, tuple[str, ...]] = {
    "pip-audit": ("osv_db",),
    "lockfile-audit": ("osv_db",),
    "zizmor": ("config",),
}
"""Scanner keys holding paths, relative to the config file's folder."""


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
    source: Path | None = Field(default=None, exclude=True)

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


def _user_loc(loc: Sequence[int | str]) -> list[str]:
    """pydantic's path of a value as the user wrote it: ``[notify.<name>]`` tables are gathered
    into ``notify.channels`` and a channel's path holds its ``type`` tag; neither is in the file."""
    parts = [str(p) for p in loc]
    if parts[:2] == ["notify", "channels"] and len(parts) > 2:
        del parts[1]
        del parts[2:3]  # the tag pydantic inserts after a tagged union's member
    return parts


def _format_error(exc: ValidationError, source: str, prefix: str = "") -> str:
    err = exc.errors()[0]
    loc = prefix + ".".join(_user_loc(err["loc"]))
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{source}: unknown key '{loc}'; remove it or check its spelling (see README, Configuration)"
    if kind == "missing":
        return f"{source}: '{loc}' is required; add it (see README, Configuration)"
    if kind in ("union_tag_not_found", "union_tag_invalid"):  # never pydantic's own words
        key = str(err.get("ctx", {}).get("discriminator", "type")).strip("'")
        values = ", ".join(_TAGGED_UNIONS.get(loc.rsplit(".", 1)[0], ()))
        got = f"is {err['input'].get(key)!r}" if kind == "union_tag_invalid" else "is missing"
        return f"{source}: '{loc}.{key}' {got}; set it to one of: {values} (see README, Configuration)"
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
    msg = err["msg"].removeprefix("Value error, ")  # a validator's own words
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        msg = "should be a table"  # not pydantic's "instance of ScanConfig"
    elif kind in ("tuple_type", "list_type"):
        msg = "should be a list"
    msg = msg.removeprefix("Input ")
    return f"{source}: '{loc}' {msg[:1].lower()}{msg[1:]}{shown}; fix the value"


def _path_keys(raw: dict[str, Any]) -> list[tuple[dict[str, Any], str, str]]:
    """Every key of a parsed config that names a file: (its table, the key, its dotted name)."""
    found: list[tuple[dict[str, Any], str, str]] = []
    policy = raw.get("policy")
    if isinstance(policy, dict):
        keys = [key for key in ("severity", "sla") if isinstance(policy.get(key), str)]
        found += [(policy, key, f"policy.{key}") for key in keys]
    scanners = raw.get("scanners")
    if isinstance(scanners, dict):
        for scanner, names in _PATH_KEYS.items():
            table = scanners.get(scanner)
            if isinstance(table, dict):
                given = [k for k in names if isinstance(table.get(k), str)]
                found += [(table, k, f"scanners.{scanner}.{k}") for k in given]
    return found


def _resolve_paths(raw: dict[str, Any], base: Path, source: Path, *, trusted: bool) -> None:
    """Make config-relative paths absolute (relative to the config file's folder). An untrusted
    config's paths are resolved (symbolic links too) and must stay inside its repository."""
    for table, key, name in _path_keys(raw):
        path = base / table[key]
        if not trusted:
            path = Path(os.path.realpath(path))
            if not path.is_relative_to(base):
                raise ConfigError(
                    f"{source}: '{name}' points outside the scanned repository ({table[key]!r}); a "
                    "repository's secscan.toml may only name its own files: pass a config with --config"
                )
        table[key] = str(path)


REPO_TOOL_KEYS = frozenset({"enabled", "timeout", "exclude"})
"""What a repository's ``secscan.toml`` may set for a tool that the trusted ``--config`` defines."""


def refuse_untrusted(raw: Mapping[str, Any], where: str, trusted_tools: frozenset[str] = frozenset()) -> None:
    """Refuse what a ``secscan.toml`` found inside the scanned repository may not set: the trusted
    sections, a scanner's trusted-only keys, and a tool's command (``trusted_tools``: the tools
    the trusted ``--config`` defines, of which the repository may tune only :data:`REPO_TOOL_KEYS`)."""
    for section in TRUSTED_ONLY_SECTIONS:
        if section in raw:
            raise ConfigError(
                f"{where}: [{section}] comes from the scanned repository, which may be untrusted; "
                "move it to a config file passed with --config"
            )
    scanners = raw.get("scanners")
    tables = scanners.items() if isinstance(scanners, dict) else ()
    for name, table in tables:
        if not isinstance(table, dict):
            continue  # build_settings says what is wrong with it
        model = _BUILTIN_MODELS.get(name)
        if model is not None:
            keys = [key for key in model.trusted_only if table.get(key)]
        elif name in trusted_tools:
            keys = [key for key in table if key not in REPO_TOOL_KEYS]
        else:
            keys = ["command"] if "command" in table else []
        if keys:
            raise ConfigError(
                f"{where}: [scanners.{name}] {keys[0]} comes from the scanned repository, which may be "
                "untrusted, so secscan will not use it; pass the file with --config to trust it"
            )


def build_settings(raw: Mapping[str, Any], *, source: Path | None = None, trusted: bool = True) -> Settings:
    """Validate a parsed config mapping. ``trusted=False`` for a config found inside the target."""
    where = str(source) if source else "configuration"
    data: dict[str, Any] = {k: v for k, v in raw.items()}
    if not trusted:
        refuse_untrusted(data, where)
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
            raise ConfigError(_format_error(exc, where, f"scanners.{name}.")) from None
    for name, default in _BUILTIN_MODELS.items():
        scanners.setdefault(name, default())
    try:
        return Settings.model_validate({**data, "scanners": scanners, "source": source})
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, where)) from None


def _parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}; fix the syntax") from None


def _repository_config(target: Path) -> tuple[Path, dict[str, Any]] | None:
    """``TARGET/secscan.toml`` parsed, its paths resolved inside the repository (untrusted: no
    symbolic link, no FIFO, no device, at most 1 MB), or None when there is none."""
    data = read_inside(target, CONFIG_NAME, MAX_CONFIG_BYTES, "config file")
    if data is None:
        return None
    path = target / CONFIG_NAME
    raw = _parse_toml(path, data)
    _resolve_paths(raw, path.parent.resolve(), path, trusted=False)
    return path, raw


def merge_over(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base`` key by key: tables merge recursively, any other value of ``top``
    (a list too) replaces ``base``'s."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        both_tables = isinstance(below, Mapping) and isinstance(value, Mapping)
        merged[key] = merge_over(below, value) if both_tables else value  # type: ignore[arg-type]
    return merged


def load_settings(
    config: Path | None, target: Path | None = None, overrides: Sequence[tuple[str, Any]] = ()
) -> Settings:
    """The settings of a run: ``TARGET/secscan.toml`` (untrusted), with ``config`` (trusted)
    merged over it key by key, or either alone, or the defaults.

    What comes from the repository's file obeys the trust rules whether or not a ``config`` is
    merged over it (:func:`refuse_untrusted`); the repository's file given as ``config`` is
    trusted. ``overrides`` are dotted keys from the command line, applied last.
    """
    repository = _repository_config(target) if target is not None else None
    raw: dict[str, Any] = {}
    path: Path | None = None
    trusted = True
    if config is not None:
        if not config.exists():
            raise ConfigError(f"config file {config} does not exist; check the --config path")
        path, raw = config, _parse_toml(config, read_regular(config, MAX_CONFIG_BYTES, "config file"))
        _resolve_paths(raw, config.parent.resolve(), config, trusted=True)
        if repository is not None and not repository[0].resolve().samefile(config):
            tools = raw.get("scanners")
            named = frozenset(tools) if isinstance(tools, dict) else frozenset()
            refuse_untrusted(repository[1], str(repository[0]), named)
            raw = merge_over(repository[1], raw)
    elif repository is not None:
        (path, raw), trusted = repository, False
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
