"""Validated settings remembered between commands, so an unchanged configuration is not validated
(nor pydantic imported) again (issue 18).

:func:`load_settings_memo` answers what :func:`secscan.config.settings.load_settings` would, from a
file in ``$XDG_CACHE_HOME/secscan/settings/`` named by a digest of everything the answer depends on
(:func:`memo_key`): secscan's version and the source of this package, the Python and the libraries
that validate (the folders they are installed in), the CPU count (a limit of processes depends on
it), the bundled posture rules (``disable`` names them), the arguments, and the bytes, identities
and real folders of the ``--config`` file and of the target's ``secscan.toml`` (the working folder
counts through those real folders: relative paths resolve against them). No environment variable is
read by the settings themselves (``SECSCAN_CONFIG`` and ``SECSCAN_FAIL_ON`` arrive here as
arguments). The files a configuration *names* (policy files, OSV databases, zizmor's config) are
not known before it is parsed: each entry records where each resolved, and whether it was a file,
and is used only while that still holds.

Only a configuration that validated is remembered, so every error is the full load's own, one
line, exit 2. An entry is written to a temporary file and renamed into place (a reader sees a
whole entry or none), and is checked on reading (its key, a SHA-256 of its body, its owner and
its mode; pickle is read only from a file of this user that nobody else may write); anything
unreadable, foreign or stale is ignored and the settings are validated and remembered again.
Settings that carry a credential (anything secscan's redaction recognises, such as a database URL
with its password) are never written: they are validated on every command instead.
This is not the result cache: ``--no-cache`` and ``[cache] enabled`` do not turn it off (it can
never change a result); ``SECSCAN_SETTINGS_MEMO=0`` does.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from secscan import __version__
from secscan.config import memo_file
from secscan.config.memo_file import FORMAT, Fact
from secscan.config.policy import rules_dir
from secscan.config.settings import CONFIG_NAME, load_settings, read_config, read_repository_config
from secscan.config.values import Settings
from secscan.core.errors import SecscanError
from secscan.fs.paths import cache_home

FOLDER = "settings"
KEEP = 64
"""Entries kept; the oldest beyond this many are removed when one is written."""
SWITCH = "SECSCAN_SETTINGS_MEMO"
VALIDATORS = ("pydantic", "pydantic_core", "annotated_types", "typing_extensions", "apscheduler", "tzdata")
"""The libraries whose behaviour decides what validates (their installed folders are in the key)."""


def memo_folder(env: Mapping[str, str] | None = None) -> Path | None:
    """``$XDG_CACHE_HOME/secscan/settings`` (``~/.cache/...``; a relative ``XDG_CACHE_HOME`` is
    ignored, as the XDG spec requires), or None when turned off or there is no home folder."""
    env = os.environ if env is None else env
    if env.get(SWITCH) == "0":
        return None
    home = cache_home(env)
    return home / FOLDER if home is not None else None


def _source_digest() -> bytes:
    """This package's source (a development checkout's edit changes the schema without a new
    version number) and the areas a report may file tools under."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    files = [*sorted(here.rglob("*.py")), here.parent / "core" / "areas.py"]
    for path in files:
        data = path.read_bytes()
        digest.update(f"{path.relative_to(here.parent)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.digest()


def _stat(path: str | Path) -> tuple[int, int, int, int] | None:
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _validators() -> list[tuple[str, object, object]]:
    """Where each validating library is installed, and the stat of its folder and of the folder
    above it (installing, upgrading or removing a package changes both)."""
    from importlib.machinery import PathFinder

    found: list[tuple[str, object, object]] = []
    for name in VALIDATORS:
        spec = PathFinder.find_spec(name)
        origin = spec.origin if spec is not None and spec.origin else None
        folder = Path(origin).parent if origin else None
        found.append((name, folder and _stat(folder), folder and _stat(folder.parent)))
    return found


def _posture_rules() -> list[tuple[str, object]]:
    folder = rules_dir() / "posture"
    return sorted((entry.name, _stat(entry.path)) for entry in os.scandir(folder))


def memo_key(config: Path | None, target: Path | None, overrides: Sequence[tuple[str, Any]]) -> str:
    """The digest of everything :func:`load_settings` depends on, bar the files a configuration
    names (see the module's text). Raises what reading the configuration files raises."""
    digest = hashlib.sha256(FORMAT + b"\0" + __version__.encode() + b"\0" + _source_digest())
    parts: list[object] = [
        sys.version,
        os.cpu_count(),
        _validators(),
        _posture_rules(),
        [(str(key), repr(value)) for key, value in overrides],
    ]
    found = read_repository_config(target) if target is not None else None
    if target is not None:
        parts += ["target", str(target), os.path.realpath(target), found is not None]
    if found is not None:
        digest.update(hashlib.sha256(found).digest())
    if config is not None:
        given = read_config(config)
        parts += ["config", str(config), os.path.realpath(config.parent)]
        if found is not None and target is not None:  # the target's own file given as --config is trusted
            parts.append((target / CONFIG_NAME).resolve().samefile(config))
        digest.update(hashlib.sha256(given).digest())
    digest.update(repr(parts).encode())
    return digest.hexdigest()


def _fact(path: Path) -> Fact:
    return str(path), os.path.realpath(path), path.is_file()


def load_settings_memo(
    config: Path | None,
    target: Path | None = None,
    overrides: Sequence[tuple[str, Any]] = (),
    *,
    folder: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """:func:`~secscan.config.settings.load_settings`'s answer, remembered in ``folder`` (default:
    :func:`memo_folder`) for as long as nothing it depends on changes."""
    folder = folder or memo_folder(env)
    if folder is None:
        return load_settings(config, target, overrides)
    try:
        key = memo_key(config, target, overrides)
    except (SecscanError, OSError):
        return load_settings(config, target, overrides)  # which says what is wrong, as always
    remembered = memo_file.read(folder, key)
    if remembered is not None and all(_fact(Path(fact[0])) == fact for fact in remembered[0]):
        return remembered[1]
    seen: list[Path] = []
    settings = load_settings(config, target, overrides, seen=seen.append)
    if not _carries_credentials(settings):
        memo_file.write(folder, key, [_fact(path) for path in seen], settings, KEEP)
    return settings


def _carries_credentials(settings: Settings) -> bool:
    """Whether any value of ``settings`` holds what secscan's redaction recognises as a credential
    (a database URL with its password, say): such settings are not copied into the cache folder,
    and are validated on every command instead."""
    from secscan.core.redact import Redactor

    text = repr(settings)
    return Redactor().text(text) != text
