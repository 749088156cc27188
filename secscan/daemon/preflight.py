"""What the daemon (and a fleet worker) refuses at start, before it takes a lock, migrates the
database or opens the health endpoint: everything about a configuration that would otherwise
fail only at the first nightly run, hours later.

* every target: its path is a folder, its ``config`` loads, its ``scanners`` exist (the checks
  ``secscan run`` makes: :func:`secscan.config.settings.load_settings` and
  :func:`secscan.scanners.registry.select_scanners`);
* the nightly SARIF folder (``[daemon] state_dir``, else ``sarif/`` beside the database) exists
  and takes the targets' logs, or can be created;
* ``[report] path`` can be written (:func:`secscan.report.sinks.file.check_writable`, as for
  ``secscan run --sarif``).

Cron expressions that never fire are refused when the configuration is read
(:func:`secscan.config.daemon.check_cron`). On SIGHUP the same checks keep the running
configuration when the new one fails them. Each error is one line naming the file and key.
"""

from __future__ import annotations

import os
from pathlib import Path

from secscan.config.daemon import TargetConfig
from secscan.config.policy import check_policies
from secscan.config.settings import Settings, load_settings
from secscan.core.errors import ConfigError, SecscanError
from secscan.fs.locks import database_path


def sarif_folder(settings: Settings, db: str | None) -> Path:
    """Where the nightly runs write their SARIF logs: ``[daemon] state_dir``, else ``sarif/``
    beside the database (beside its node-local name for PostgreSQL)."""
    configured = settings.daemon.state_dir
    return configured if configured is not None else database_path(db).parent / "sarif"


def target_settings(target: TargetConfig, settings: Settings) -> Settings:
    """The settings a target is scanned with: its own ``config`` file, else the daemon's."""
    return load_settings(target.config) if target.config is not None else settings


def check_daemon(settings: Settings, source: Path | None, db: str | None) -> None:
    """Refuse (ConfigError, exit 2) what would make every nightly run fail; see the module docs.
    ``db`` is the database the daemon runs on (``--db``, else ``[daemon] db``)."""
    where = f"{source or 'configuration'}: "
    check_targets(settings, source)
    check_policies(settings.policy)
    for target in settings.daemon.targets:
        _check_target(target, settings, f"{where}[[daemon.targets]] {target.target_name!r}: ")
    _check_sarif_folder(settings, db or settings.daemon.db, where)
    if settings.report.path is not None:
        from secscan.report.sinks.file import check_writable

        try:
            check_writable(settings.report.path, "[report] path")
        except SecscanError as exc:
            raise ConfigError(f"{where}{exc}") from None


def check_targets(settings: Settings, source: Path | None) -> None:
    """Refuse a daemon configuration without targets, or with a target path that is no folder
    (a typo would otherwise fail every night)."""
    where = source or "configuration"
    if not settings.daemon.targets:
        raise ConfigError(f"{where}: [daemon] has no targets; add [[daemon.targets]] with a path")
    for target in settings.daemon.targets:
        if not target.path.is_dir():
            problem = "does not exist" if not target.path.exists() else "is not a folder"
            raise ConfigError(
                f"{where}: [[daemon.targets]] {target.target_name!r}: path {target.path} {problem}; "
                "fix the path or remove the target"
            )


def _check_target(target: TargetConfig, settings: Settings, where: str) -> None:
    from secscan.scanners.registry import select_scanners

    if target.config is not None and not target.config.is_file():
        problem = "does not exist" if not target.config.exists() else "is not a file"
        raise ConfigError(f"{where}config {target.config} {problem}; fix the path or remove the key")
    try:
        own = target_settings(target, settings)
        select_scanners(own, target.scanners, option="scanners")
        check_policies(own.policy)  # a bad severity or SLA file would fail every night
    except SecscanError as exc:
        raise ConfigError(f"{where}{exc}") from None


def _check_sarif_folder(settings: Settings, db: str | None, where: str) -> None:
    folder = sarif_folder(settings, db)
    key = "[daemon] state_dir" if settings.daemon.state_dir is not None else "the nightly SARIF folder"
    fix = "pick another state_dir" if settings.daemon.state_dir is not None else "set [daemon] state_dir"
    if folder.is_dir():
        from secscan.report.sinks.file import check_writable

        for target in settings.daemon.targets:  # a probe file, removed at once; a log that is a folder
            try:
                check_writable(folder / f"{target.target_name}.sarif", "nightly SARIF log")
            except SecscanError as exc:
                raise ConfigError(f"{where}{exc}") from None
        return
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{where}{key} {folder} cannot be created: {existing} is not a folder; {fix}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{where}{key} {folder} cannot be created: no permission to create it in {existing}; {fix}"
        )
