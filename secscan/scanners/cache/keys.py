"""Cache keys: what a cached result depends on, hashed.

A file entry's key is the scanner's key (its name and version, secscan's adapter code, the
effective configuration: arguments and the files they name, excludes, severity policy) plus the
file's content hash, plus either a path profile (files that may share results whatever their
name) or the file's path. A dependency audit's key is the scanner's key plus the package,
its version and the vulnerability source (the offline database's content hash, or the online
service's address).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from secscan import __version__
from secscan.core.policy import SeverityPolicy
from secscan.fs.digest import file_digest, tree_digest
from secscan.scanners.interface import ScanJob, Scanner

log = logging.getLogger(__name__)

FORMAT = "secscan-cache/2"
"""Bump when the meaning of cached values changes without a version change."""

MAX_REFERENCED_BYTES = 64 * 1024 * 1024
"""Files named by a scanner's arguments (rules, configs) are hashed up to this many bytes."""


def _h(*parts: object) -> bytes:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()  # paths may not be UTF-8


def content_hashes(root: Path, paths: Iterable[str]) -> dict[str, bytes]:
    """Content hashes of the readable files among ``paths`` (repo-relative, regular files)."""
    hashes: dict[str, bytes] = {}
    base = f"{root}{os.sep}"
    for path in paths:
        digest = file_digest(base + path)
        if digest is not None:
            hashes[path] = digest
    return hashes


def _referenced(args: Sequence[str], root: Path) -> dict[str, str | None]:
    """Content hashes of the files and folders that arguments name (rule files, configs)."""
    found: dict[str, str | None] = {}
    for arg in args:
        for candidate in {arg, arg.split("=", 1)[-1]}:
            if not candidate or candidate.startswith("-") or "{" in candidate:
                continue
            path = Path(candidate) if Path(candidate).is_absolute() else root / candidate
            try:
                if not path.exists() or path.resolve() == root.resolve():
                    continue
            except OSError:
                continue
            found[candidate] = tree_digest(path, MAX_REFERENCED_BYTES)
    return found


def _adapter_code(scanner: Scanner) -> str:
    """A hash of the adapter's source and of the modules beside it (the parsing helpers it
    imports): parsing code changes without a version bump in development."""
    try:
        source = inspect.getsourcefile(type(scanner))
    except TypeError:
        return ""
    return _package_code(str(Path(source).parent)) if source else ""


@functools.cache
def _package_code(folder: str) -> str:
    digest = hashlib.sha256()
    try:
        for path in sorted(Path(folder).glob("*.py")):
            digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    except OSError:
        return ""
    return digest.hexdigest()


def policy_digest(policy: SeverityPolicy) -> str:
    return _h(dataclasses.asdict(policy)).hex()


def scanner_key(
    scanner: Scanner, version: str, job: ScanJob, excludes: Sequence[str], policy: str
) -> bytes | None:
    """The part of every key that describes the scanner and its configuration.

    None when the configuration cannot be pinned down (a referenced file is unreadable or too big):
    such a scanner is not cached.
    """
    material: Mapping[str, object] = scanner.cache_material(job)
    args = [str(a) for v in material.values() if isinstance(v, list) for a in v]
    referenced = _referenced(args, job.root)
    if any(v is None for v in referenced.values()):
        log.info("%s: a file named by its arguments cannot be hashed; not cached", scanner.name)
        return None
    return _h(FORMAT, __version__, scanner.name, version, _adapter_code(scanner), material, referenced,
              sorted(excludes), policy)


def _file_key(scanner: bytes, content: bytes, kind: bytes, name: str) -> bytes:
    # Two fixed-size digests, a tag, then the name: unambiguous, and no JSON per file.
    return hashlib.sha256(b"".join((scanner, content, kind, name.encode("utf-8", "surrogatepass")))).digest()


def file_key(scanner: bytes, content: bytes, profile: str) -> bytes:
    """The key of a file's results that serves any path with this ``profile``."""
    return _file_key(scanner, content, b"\0profile\0", profile)


def path_key(scanner: bytes, content: bytes, path: str) -> bytes:
    """The key of a file's results that serves this path only."""
    return _file_key(scanner, content, b"\0path\0", path)


def audit_key(scanner: bytes, source: str, name: str, version: str) -> bytes:
    return _h(scanner.hex(), "audit", source, name, version)


def state_key(scanner: bytes, root: str) -> bytes:
    """The key of a stateful scanner's value for the target at ``root``."""
    return _h(scanner.hex(), "state", root)
