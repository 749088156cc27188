"""Loading the severity and SLA policies: the bundled ``severity.toml`` and ``sla.toml``, each
merged with the user's file.

The files are read here (the configuration layer does the I/O); :mod:`secscan.core.policy`
interprets the data.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from secscan.config.values import PolicyConfig
from secscan.core.errors import ConfigError
from secscan.core.policy import SeverityPolicy, check_severity_data, merge_data, policy_from_data
from secscan.core.sla import SlaPolicy, check_sla_data, sla_policy_from
from secscan.fs.safe_read import MAX_CONFIG_BYTES, read_regular


def rules_dir() -> Path:
    """The directory holding the bundled policy data.

    A source checkout has ``rules/`` beside the package; an installed wheel carries the same
    files as ``secscan/_rules``.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "_rules", here.parent.parent / "rules"):
        if (candidate / "severity.toml").is_file():
            return candidate
    raise ConfigError(  # pragma: no cover - only a broken installation gets here
        f"secscan's policy data is missing: no severity.toml in {here.parent / '_rules'}; reinstall secscan"
    )


def read_toml(path: Path, what: str = "policy file") -> dict[str, Any]:
    """A policy TOML file: a regular file of at most 1 MB (never a FIFO or a device, see
    :mod:`secscan.fs.safe_read`); unreadable or invalid files are a one-line error (exit 2)."""
    data = read_regular(path, MAX_CONFIG_BYTES, what)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}; fix the syntax") from exc


def load_policy(override: Path | None = None) -> SeverityPolicy:
    """Load the bundled policy, merged with ``override`` when given. Each file is checked on its
    own first (:func:`~secscan.core.policy.check_severity_data`: unknown tables and keys, bad
    values), so an error names the file that has it. Raises ConfigError."""
    bundled = rules_dir() / "severity.toml"
    data = read_toml(bundled, "severity policy")
    check_severity_data(data, str(bundled))
    if override is not None:
        extra = read_toml(override, "severity policy")
        check_severity_data(extra, str(override))
        data = merge_data(data, extra)
    return policy_from_data(data)


def load_sla_policy(override: Path | None = None) -> SlaPolicy:
    """Load ``rules/sla.toml``, with ``override`` merged over it key by key, each file checked on
    its own first (:func:`~secscan.core.sla.check_sla_data`). Raises ConfigError."""
    bundled = rules_dir() / "sla.toml"
    data = read_toml(bundled, "SLA policy")
    check_sla_data(data, str(bundled))
    if override is not None:
        extra = read_toml(override, "SLA policy")
        check_sla_data(extra, str(override))
        for table in ("windows", "clock"):
            data[table] = {**data.get(table, {}), **extra.get(table, {})}
    return sla_policy_from(data, str(override or bundled))


def check_policies(config: PolicyConfig) -> None:
    """Load both policies once, so that a bad ``[policy]`` file is refused when a long-running
    process starts (or reloads), not at its first scan. Raises ConfigError."""
    load_policy(config.severity)
    load_sla_policy(config.sla)
