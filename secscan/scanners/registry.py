"""Which scanners exist and how settings turn into scanner instances."""

from __future__ import annotations

from collections.abc import Sequence

from secscan.config.settings import SarifToolConfig, ScannerConfig, Settings
from secscan.core.errors import ConfigError
from secscan.core.model import ToolName
from secscan.scanners.bandit import BanditScanner
from secscan.scanners.detect_secrets import DetectSecretsScanner
from secscan.scanners.git_history import GitHistoryScanner
from secscan.scanners.interface import Scanner
from secscan.scanners.lockfile_audit import LockfileAuditScanner
from secscan.scanners.pip_audit import PipAuditScanner
from secscan.scanners.posture import PostureScanner
from secscan.scanners.semgrep import SemgrepScanner
from secscan.scanners.zizmor import ZizmorScanner

BUILTIN: dict[str, type[Scanner]] = {
    "bandit": BanditScanner,
    "detect-secrets": DetectSecretsScanner,
    "pip-audit": PipAuditScanner,
    "lockfile-audit": LockfileAuditScanner,
    "zizmor": ZizmorScanner,
    "semgrep": SemgrepScanner,
    "git-history": GitHistoryScanner,
    "posture": PostureScanner,
}


def make_scanner(name: str, config: ScannerConfig) -> Scanner:
    if isinstance(config, SarifToolConfig):
        from secscan.scanners.sarif_tool import SarifToolScanner  # issue 18: only when one is configured

        return SarifToolScanner(
            name=ToolName(name),
            command=config.command,
            output=config.output,
            ok_exit_codes=frozenset(config.ok_exit_codes),
            version_command=config.version_command,
            file_local=config.file_local,
        )
    return BUILTIN[name]()


def select_scanners(
    settings: Settings, only: Sequence[str] = (), *, option: str = "--scanner"
) -> list[tuple[Scanner, ScannerConfig]]:
    """The enabled scanners (or exactly ``only``, which may name disabled ones), in config order.
    ``option`` is where ``only`` came from, for the error ("--scanner", a daemon target's key)."""
    unknown = [n for n in only if n not in settings.scanners]
    if unknown:
        known = ", ".join(settings.scanners)
        raise ConfigError(f"{option} {unknown[0]}: no such scanner; choose from {known}")
    chosen = []
    for name, config in settings.scanners.items():
        if (name in only) if only else config.enabled:
            chosen.append((make_scanner(name, config), config))
    if not chosen:
        raise ConfigError("no scanner is enabled; enable one in secscan.toml or name it with --scanner")
    return chosen
