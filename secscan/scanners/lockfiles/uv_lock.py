"""``uv.lock``: one ``[[package]]`` table per locked distribution, with its ``source``.

Only ``source = { registry = "..." }`` is a package from an index; ``editable`` and ``virtual``
sources are the workspace's own projects, and ``git``, ``path``, ``directory`` and ``url``
sources are skipped with their reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from secscan.scanners.lockfiles import _toml
from secscan.scanners.lockfiles.model import PYPI, Collector, Lockfile, SkipReason

_SOURCE_SKIPS = {
    "editable": SkipReason.WORKSPACE,
    "virtual": SkipReason.WORKSPACE,
    "git": SkipReason.GIT,
    "path": SkipReason.FILE,
    "directory": SkipReason.FILE,
    "url": SkipReason.URL,
}


def parse(data: bytes, filename: str = "uv.lock") -> Lockfile:
    """Parse a ``uv.lock``. Raises LockfileError."""
    doc, text = _toml.load(data)
    out = Collector(f"{filename} v{doc.get('version', '?')}", PYPI)
    for index, (line, entry) in enumerate(_toml.entries(doc, text, "package")):
        source = entry.get("source") if isinstance(entry, Mapping) else None
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            out.skip(SkipReason.UNREADABLE)
            continue
        kinds = [k for k in (source or {}) if k in _SOURCE_SKIPS] if isinstance(source, Mapping) else []
        if kinds:
            out.skip(_SOURCE_SKIPS[kinds[0]])
            continue
        if not isinstance(source, Mapping) or "registry" not in source:
            out.skip(SkipReason.UNREADABLE)
            continue
        if not isinstance(entry.get("version"), str) or not entry["version"]:
            out.skip(SkipReason.NO_VERSION)
            continue
        out.add(entry["name"], entry["version"], line, path=f"package[{index}]")
    return out.result()
