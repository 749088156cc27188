"""Configuration: ``secscan.toml`` read, checked against the trust rules and validated into frozen
settings (:mod:`secscan.config.values`; pydantic, :mod:`secscan.config.schema`, loads only to
validate).

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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from secscan.config.values import (
    BUILTIN_CONFIGS,
    BUILTIN_SCANNERS,
    CONFIG_NAME,
    DEFAULT_EXCLUDES,
    TRUSTED_ONLY_SECTIONS,
    BanditConfig,
    DetectSecretsConfig,
    FailOn,
    GitHistoryConfig,
    LockfileAuditConfig,
    PipAuditConfig,
    PolicyConfig,
    PostureConfig,
    SarifToolConfig,
    ScanConfig,
    ScannerConfig,
    SemgrepConfig,
    Settings,
    ZizmorConfig,
)
from secscan.core.errors import ConfigError
from secscan.core.model import Severity
from secscan.fs.safe_read import MAX_CONFIG_BYTES, read_inside, read_regular

PathSeen = Callable[[Path], None]
"""Told each file path a configuration names, as it is resolved (:mod:`secscan.config.memo`)."""

_PATH_KEYS: Mapping[str, tuple[str, ...]] = {
    "pip-audit": ("osv_db",),
    "lockfile-audit": ("osv_db",),
    "zizmor": ("config",),
}
"""Scanner keys holding paths, relative to the config file's folder."""


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


def _resolve_paths(
    raw: dict[str, Any], base: Path, source: Path, *, trusted: bool, seen: PathSeen | None = None
) -> None:
    """Make config-relative paths absolute (relative to the config file's folder). An untrusted
    config's paths are resolved (symbolic links too) and must stay inside its repository."""
    for table, key, name in _path_keys(raw):
        path = base / table[key]
        if seen is not None:
            seen(path)
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
        model = BUILTIN_CONFIGS.get(name)
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
    from secscan.config.schema.settings import validate  # pydantic: only to validate

    where = str(source) if source else "configuration"
    if not trusted:
        refuse_untrusted(raw, where)
    return validate(raw, source=source, where=where)


def _parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}; fix the syntax") from None


def read_repository_config(target: Path) -> bytes | None:
    """The bytes of ``TARGET/secscan.toml`` (untrusted: no symbolic link, no FIFO, no device, at
    most 1 MB), or None when there is none."""
    return read_inside(target, CONFIG_NAME, MAX_CONFIG_BYTES, "config file")


def read_config(config: Path) -> bytes:
    """The bytes of the trusted ``--config`` file (a regular file of at most 1 MB)."""
    if not config.exists():
        raise ConfigError(f"config file {config} does not exist; check the --config path")
    return read_regular(config, MAX_CONFIG_BYTES, "config file")


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
    config: Path | None,
    target: Path | None = None,
    overrides: Sequence[tuple[str, Any]] = (),
    *,
    seen: PathSeen | None = None,
) -> Settings:
    """The settings of a run: ``TARGET/secscan.toml`` (untrusted), with ``config`` (trusted)
    merged over it key by key, or either alone, or the defaults.

    What comes from the repository's file obeys the trust rules whether or not a ``config`` is
    merged over it (:func:`refuse_untrusted`); the repository's file given as ``config`` is
    trusted. ``overrides`` are dotted keys from the command line, applied last. ``seen`` is told
    every file path the configuration names. :func:`secscan.config.memo.load_settings_memo`
    gives the same settings without validating again when nothing they depend on has changed.
    """
    repository: tuple[Path, dict[str, Any]] | None = None
    data = read_repository_config(target) if target is not None else None
    if target is not None and data is not None:
        path = target / CONFIG_NAME
        repository = path, _parse_toml(path, data)
        _resolve_paths(repository[1], path.parent.resolve(), path, trusted=False, seen=seen)
    raw: dict[str, Any] = {}
    source: Path | None = None
    trusted = True
    if config is not None:
        source, raw = config, _parse_toml(config, read_config(config))
        _resolve_paths(raw, config.parent.resolve(), config, trusted=True, seen=seen)
        if repository is not None and not repository[0].resolve().samefile(config):
            tools = raw.get("scanners")
            named = frozenset(tools) if isinstance(tools, dict) else frozenset()
            refuse_untrusted(repository[1], str(repository[0]), named)
            raw = merge_over(repository[1], raw)
    elif repository is not None:
        (source, raw), trusted = repository, False
    for dotted, value in overrides:
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return build_settings(raw, source=source, trusted=trusted)


def fail_threshold(settings: Settings) -> Severity | None:
    """The lowest severity that fails the run, or None for ``fail_on = "none"``."""
    return None if settings.scan.fail_on == "none" else Severity(settings.scan.fail_on)


__all__ = [
    "BUILTIN_SCANNERS",
    "CONFIG_NAME",
    "DEFAULT_EXCLUDES",
    "BanditConfig",
    "DetectSecretsConfig",
    "FailOn",
    "GitHistoryConfig",
    "LockfileAuditConfig",
    "PipAuditConfig",
    "PolicyConfig",
    "PostureConfig",
    "SarifToolConfig",
    "ScanConfig",
    "ScannerConfig",
    "SemgrepConfig",
    "Settings",
    "ZizmorConfig",
    "build_settings",
    "fail_threshold",
    "load_settings",
    "merge_over",
    "refuse_untrusted",
]
