"""``Pipfile.lock`` (pipenv): JSON, packages under ``default`` and ``develop``.

A pinned package has ``"version": "==1.2.3"``; entries with ``git``, ``path``, ``file`` or
``editable`` are not from an index and are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

from secscan.scanners.lockfiles import _json_lines
from secscan.scanners.lockfiles.model import PYPI, Collector, Lockfile, LockfileError, SkipReason

_SECTIONS = ("default", "develop")


def _skip(entry: Mapping[str, object]) -> SkipReason | None:
    if "git" in entry or "hg" in entry or "svn" in entry or "bzr" in entry:
        return SkipReason.GIT
    if "path" in entry or "editable" in entry:
        return SkipReason.FILE
    if "file" in entry:
        remote = isinstance(entry["file"], str) and entry["file"].startswith(("http:", "https:"))
        return SkipReason.URL if remote else SkipReason.FILE
    return None


def parse(data: bytes, filename: str = "Pipfile.lock") -> Lockfile:
    """Parse a ``Pipfile.lock``. Raises LockfileError."""
    doc = _json_lines.load(data)
    if not isinstance(doc, Mapping):
        raise LockfileError("is not a JSON object")
    meta = doc.get("_meta")
    spec = meta.get("pipfile-spec", "?") if isinstance(meta, Mapping) else "?"
    out = Collector(f"{filename} v{spec}", PYPI)
    lines = _json_lines.key_lines(data.decode("utf-8"), set(_SECTIONS))
    for section in _SECTIONS:
        packages = doc.get(section, {})
        if not isinstance(packages, Mapping):
            raise LockfileError(f"has a '{section}' that is not an object")
        for name, entry in packages.items():
            if not isinstance(entry, Mapping):
                out.skip(SkipReason.UNREADABLE)
                continue
            reason = _skip(entry)
            version = entry.get("version")
            if reason is not None:
                out.skip(reason)
            elif not isinstance(version, str) or not version.startswith("=="):
                out.skip(SkipReason.NO_VERSION)
            else:
                out.add(
                    name,
                    version.lstrip("="),
                    lines.get((section, name), 1),
                    path=f"{section}.{name}",
                    dev=section == "develop",
                )
    return out.result()
