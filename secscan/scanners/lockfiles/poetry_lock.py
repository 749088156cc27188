"""``poetry.lock``: one ``[[package]]`` table per locked distribution.

A package with a ``[package.source]`` of type ``git``, ``directory``, ``file`` or ``url`` is not
from an index and is skipped; ``legacy`` (a private index) counts as a registry. Development
dependencies are ``category = "dev"`` (Poetry before 1.5) or in ``groups`` without ``main``.
"""

from __future__ import annotations

from collections.abc import Mapping

from secscan.scanners.lockfiles import _toml
from secscan.scanners.lockfiles.model import PYPI, Collector, Lockfile, SkipReason

_SOURCE_SKIPS = {
    "git": SkipReason.GIT,
    "directory": SkipReason.FILE,
    "file": SkipReason.FILE,
    "url": SkipReason.URL,
}


def parse(data: bytes, filename: str = "poetry.lock") -> Lockfile:
    """Parse a ``poetry.lock``. Raises LockfileError."""
    doc, text = _toml.load(data)
    metadata = doc.get("metadata")
    version = metadata.get("lock-version", "?") if isinstance(metadata, Mapping) else "?"
    out = Collector(f"{filename} v{version}", PYPI)
    for index, (line, entry) in enumerate(_toml.entries(doc, text, "package")):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            out.skip(SkipReason.UNREADABLE)
            continue
        source = entry.get("source")
        kind = source.get("type") if isinstance(source, Mapping) else None
        if kind in _SOURCE_SKIPS:
            out.skip(_SOURCE_SKIPS[kind])
            continue
        if not isinstance(entry.get("version"), str) or not entry["version"]:
            out.skip(SkipReason.NO_VERSION)
            continue
        groups = entry.get("groups")
        in_groups = isinstance(groups, list) and bool(groups) and "main" not in groups
        dev = entry.get("category") == "dev" or in_groups
        out.add(
            entry["name"],
            entry["version"],
            line,
            path=f"package[{index}]",
            dev=dev,
            optional=entry.get("optional") is True,
        )
    return out.result()
