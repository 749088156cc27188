"""``pnpm-lock.yaml``, lockfile versions 5.x, 6.x and 9.x.

Every resolved package is a key of ``packages``: ``/name/1.2.3`` or ``/@scope/name/1.2.3_peer@1``
in 5.x, ``/name@1.2.3(peer@1)`` in 6.x and ``name@1.2.3`` in 9.x (whose ``snapshots`` repeat the
packages with their peers, so only ``packages`` is read). Aliases are keyed by the real package.
An entry whose ``resolution`` is a ``directory``, a git ``repo``/``commit`` or a non-registry
``tarball`` is skipped, as are ``file:``/``link:`` keys; ``link:`` versions in ``importers``
(workspace members linked to each other) are counted as skipped links.
"""

from __future__ import annotations

import yaml

from secscan.scanners.lockfiles import _yaml_tree
from secscan.scanners.lockfiles.model import NPM, Collector, Lockfile, LockfileError, SkipReason
from secscan.scanners.lockfiles.npm_lock import source_kind


def split_key(key: str, slash_style: bool) -> tuple[str, str] | None:
    """(name, version) of a ``packages`` key; None when it names no registry version."""
    text = key[1:] if key.startswith("/") else key
    text = text.split("(", 1)[0]
    if slash_style:
        parts = text.split("/")
        count = 3 if text.startswith("@") else 2
        if len(parts) != count:
            return None
        return "/".join(parts[:-1]), parts[-1].split("_", 1)[0]
    name, at, version = text.rpartition("@")
    if not at or not name or not version or name == "@":
        return None
    return name, version


def _resolution_skip(entry: yaml.Node) -> SkipReason | None:
    resolution = _yaml_tree.child_of(entry, "resolution")
    if _yaml_tree.child_of(resolution, "directory") is not None:
        return SkipReason.FILE
    if (
        _yaml_tree.child_of(resolution, "repo") is not None
        or _yaml_tree.scalar(_yaml_tree.child_of(resolution, "type")) == "git"
    ):
        return SkipReason.GIT
    tarball = _yaml_tree.scalar(_yaml_tree.child_of(resolution, "tarball"))
    return source_kind(tarball) if tarball else None


def _links(importer: yaml.Node | None, out: Collector) -> None:
    """Count an importer's ``link:`` dependencies (``foo: link:../foo`` or ``version: link:...``)."""
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        for _, _, spec in _yaml_tree.items(_yaml_tree.child_of(importer, section)):
            version = _yaml_tree.scalar(spec) or _yaml_tree.scalar(_yaml_tree.child_of(spec, "version"))
            if version is not None and version.startswith("link:"):
                out.skip(SkipReason.LINK)


def parse(data: bytes, filename: str = "pnpm-lock.yaml") -> Lockfile:
    """Parse a ``pnpm-lock.yaml``. Raises LockfileError."""
    root = _yaml_tree.mapping(_yaml_tree.load(data), "a document")
    version = _yaml_tree.scalar(_yaml_tree.child_of(root, "lockfileVersion"))
    if version is None:
        raise LockfileError("has no 'lockfileVersion'; is it a pnpm lockfile?")
    slash_style = version.lstrip("'\"").startswith(("5.", "4.", "3."))
    out = Collector(f"{filename} v{version}", NPM)
    packages = _yaml_tree.child_of(root, "packages")
    if packages is not None and not isinstance(packages, yaml.MappingNode):
        _yaml_tree.mapping(packages, "a 'packages'")
    for key, line, entry in _yaml_tree.items(packages):
        if key.startswith(("file:", "link:")):
            out.skip(SkipReason.FILE if key.startswith("file:") else SkipReason.LINK)
            continue
        reason = _resolution_skip(entry)
        if reason is not None:
            out.skip(reason)
            continue
        named = split_key(key, slash_style)
        explicit_name = _yaml_tree.scalar(_yaml_tree.child_of(entry, "name"))
        explicit_version = _yaml_tree.scalar(_yaml_tree.child_of(entry, "version"))
        if explicit_name and explicit_version:
            named = (explicit_name, explicit_version)
        if named is None:
            out.skip(SkipReason.UNREADABLE)
            continue
        if ":" in named[1]:  # file:..., link:..., a URL: not a registry version
            out.skip(source_kind(named[1]) or SkipReason.URL)
            continue
        dev = _yaml_tree.scalar(_yaml_tree.child_of(entry, "dev")) == "true"
        optional = _yaml_tree.scalar(_yaml_tree.child_of(entry, "optional")) == "true"
        out.add(named[0], named[1], line, path=key, dev=dev, optional=optional)
    importers = _yaml_tree.child_of(root, "importers")
    for _, _, importer in _yaml_tree.items(importers):
        _links(importer, out)
    if importers is None:  # one project (5.x, 6.x): its sections are at the top
        _links(root, out)
    return out.result()
