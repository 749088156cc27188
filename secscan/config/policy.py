"""Loading the severity and SLA policies: the bundled ``severity.toml`` and ``sla.toml``, each
merged with the user's file.

The files are read here (the configuration layer does the I/O); :mod:`secscan.core.policy`
interprets the data.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from secscan.core.errors import ConfigError
from secscan.core.policy import SeverityPolicy, merge_data, policy_from_data
from secscan.core.sla import SlaPolicy, sla_policy_from
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
    """Load the bundled policy, merged with ``override`` when given. Raises ConfigError."""
    data = read_toml(rules_dir() / "severity.toml")
    if override is not None:
        data = merge_data(data, read_toml(override))
    return policy_from_data(data)


def load_sla_policy(override: Path | None = None) -> SlaPolicy:
    """Load ``rules/sla.toml``, with ``override`` merged over it key by key. Raises ConfigError."""
    data = read_toml(rules_dir() / "sla.toml", "SLA policy")
    if override is not None:
        extra = read_toml(override, "SLA policy")
        for table in ("windows", "clock"):
            data[table] = {**data.get(table, {}), **extra.get(table, {})}
    return sla_policy_from(data, str(override or "rules/sla.toml"))
