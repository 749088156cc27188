"""``package-lock.json`` and ``npm-shrinkwrap.json``, lockfile versions 1 to 3.

Versions 2 and 3 list every installed folder under ``packages``, keyed by its path
(``node_modules/a/node_modules/b``); the root project is ``""`` and workspace members are their
own folders (``packages/x``), linked from ``node_modules/x`` with ``link: true``. An alias
(``"x": "npm:real@1.2.3"``) is installed at ``node_modules/x`` with ``name: "real"``. Version 1
nests ``dependencies`` instead, aliases written as ``version: "npm:real@1.2.3"``. Version 2
carries both; ``packages`` is read.

Registry packages are the entries with a SemVer-looking version whose ``resolved`` (if any) is
a registry tarball (``.../name/-/name-1.2.3.tgz``); git, ``file:`` and other URL dependencies,
links and workspace folders are counted as skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secscan.scanners.lockfiles import _json_lines
from secscan.scanners.lockfiles.model import NPM, Collector, Lockfile, LockfileError, SkipReason

_MAX_NESTING = 200
_GIT_PREFIXES = ("git+", "git:", "git@", "github:", "gitlab:", "bitbucket:", "gist:")


def source_kind(spec: str) -> SkipReason | None:
    """Why a ``resolved`` URL or a version specifier is not a registry package (None: it is)."""
    if spec.startswith(_GIT_PREFIXES):
        return SkipReason.GIT
    if spec.startswith("file:"):
        return SkipReason.FILE
    if spec.startswith("link:"):
        return SkipReason.LINK
    if spec.startswith(("http://", "https://")) and "/-/" not in spec:
        return SkipReason.URL  # a registry tarball is .../<name>/-/<name>-<version>.tgz
    return None


def alias_target(version: str) -> tuple[str, str] | None:
    """``npm:real@1.2.3`` -> ``("real", "1.2.3")``; None for anything else."""
    if not version.startswith("npm:"):
        return None
    name, at, real = version[4:].rpartition("@")
    return (name, real) if at and name and real else None


def _flags(entry: Mapping[str, Any]) -> tuple[bool, bool]:
    dev = entry.get("dev") is True or entry.get("devOptional") is True
    optional = entry.get("optional") is True or entry.get("devOptional") is True
    return dev, optional


def _packages(doc: Mapping[str, Any], lines: Mapping[tuple[str, ...], int], out: Collector) -> None:
    for key, entry in doc["packages"].items():
        if key == "":
            continue  # the project itself
        line = lines.get(("packages", key), 1)
        if not isinstance(entry, Mapping):
            out.skip(SkipReason.UNREADABLE)
            continue
        installed = key.rpartition("node_modules/")[2] if "node_modules/" in key else None
        if entry.get("link") is True:
            out.skip(SkipReason.LINK)
            continue
        if installed is None:
            out.skip(SkipReason.WORKSPACE)  # a workspace member's own folder
            continue
        name, version, resolved = entry.get("name", installed), entry.get("version"), entry.get("resolved")
        if not isinstance(version, str) or not version or not isinstance(name, str):
            out.skip(SkipReason.NO_VERSION)
            continue
        reason = source_kind(resolved) if isinstance(resolved, str) else source_kind(version)
        if reason is not None:
            out.skip(reason)
            continue
        dev, optional = _flags(entry)
        alias = installed if name != installed else None
        out.add(name, version, line, path=key, dev=dev, optional=optional, alias=alias)


def _dependencies(
    tree: Mapping[str, Any],
    keys: tuple[str, ...],
    folder: str,
    lines: Mapping[tuple[str, ...], int],
    out: Collector,
) -> None:
    if len(keys) > 2 * _MAX_NESTING:
        raise LockfileError(f"nests dependencies deeper than {_MAX_NESTING} levels")
    for installed, entry in tree.items():
        path = (*keys, installed)
        where = f"{folder}node_modules/{installed}"
        if not isinstance(entry, Mapping):
            out.skip(SkipReason.UNREADABLE)
            continue
        version = entry.get("version")
        if not isinstance(version, str) or not version:
            out.skip(SkipReason.NO_VERSION)
        elif (target := alias_target(version)) is not None:
            dev, optional = _flags(entry)
            out.add(
                target[0],
                target[1],
                lines.get(path, 1),
                path=where,
                dev=dev,
                optional=optional,
                alias=installed,
            )
        elif (reason := source_kind(version)) is not None or (
            isinstance(entry.get("resolved"), str) and (reason := source_kind(entry["resolved"])) is not None
        ):
            out.skip(reason)
        else:
            dev, optional = _flags(entry)
            out.add(installed, version, lines.get(path, 1), path=where, dev=dev, optional=optional)
        nested = entry.get("dependencies")
        if isinstance(nested, Mapping):
            _dependencies(nested, (*path, "dependencies"), f"{where}/", lines, out)


def parse(data: bytes, filename: str = "package-lock.json") -> Lockfile:
    """Parse a ``package-lock.json`` or ``npm-shrinkwrap.json``. Raises LockfileError."""
    doc = _json_lines.load(data)
    if not isinstance(doc, Mapping):
        raise LockfileError("is not a JSON object")
    version = doc.get("lockfileVersion", 1)
    packages, dependencies = doc.get("packages"), doc.get("dependencies")
    if packages is not None and not isinstance(packages, Mapping):
        raise LockfileError("has a 'packages' that is not an object")
    if dependencies is not None and not isinstance(dependencies, Mapping):
        raise LockfileError("has a 'dependencies' that is not an object")
    text = data.decode("utf-8")
    if packages is not None:
        out = Collector(f"{filename} v{version}", NPM)
        _packages(doc, _json_lines.key_lines(text, {"packages"}), out)
    else:
        out = Collector(f"{filename} v{version}", NPM)
        lines = _json_lines.key_lines(text, {"dependencies"})
        _dependencies(dependencies or {}, ("dependencies",), "", lines, out)
    return out.result()
