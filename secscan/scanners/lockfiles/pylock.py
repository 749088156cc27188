"""``pylock.toml`` (PEP 751, also ``pylock.<name>.toml``): one ``[[packages]]`` table per package.

A package installed from ``vcs``, a local ``directory`` or an ``archive`` is not from an index
and is skipped; the others (``sdist``/``wheels`` from an ``index``) are audited by ``version``,
which PEP 751 makes optional only for those sources.
"""

from __future__ import annotations

from collections.abc import Mapping

from secscan.scanners.lockfiles import _toml
from secscan.scanners.lockfiles.model import PYPI, Collector, Lockfile, SkipReason


def _skip(entry: Mapping[str, object]) -> SkipReason | None:
    if "vcs" in entry:
        return SkipReason.GIT
    if "directory" in entry:
        return SkipReason.FILE
    if "archive" in entry:
        archive = entry["archive"]
        local = isinstance(archive, Mapping) and "path" in archive and "url" not in archive
        return SkipReason.FILE if local else SkipReason.URL
    return None


def parse(data: bytes, filename: str = "pylock.toml") -> Lockfile:
    """Parse a ``pylock.toml``. Raises LockfileError."""
    doc, text = _toml.load(data)
    out = Collector(f"{filename} v{doc.get('lock-version', '?')}", PYPI)
    for index, (line, entry) in enumerate(_toml.entries(doc, text, "packages")):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            out.skip(SkipReason.UNREADABLE)
            continue
        reason = _skip(entry)
        if reason is not None:
            out.skip(reason)
        elif not isinstance(entry.get("version"), str) or not entry["version"]:
            out.skip(SkipReason.NO_VERSION)
        else:
            out.add(entry["name"], entry["version"], line, path=f"packages[{index}]")
    return out.result()
