"""The semgrep rule packs, parsed once and kept (issue 18): a run reads no YAML for them.

Every run needs the packs: the coverage map asks which files they apply to, and the result
cache's key holds their digest, even when semgrep has nothing to scan. Parsing them means loading
PyYAML and reading every rule file as YAML; the memo keeps the parsed pack as JSON in the folder
of compiled data (``[cache] osv_index``'s folder, shared by every run like the OSV indexes).

The memo is keyed by a SHA-256 over what :func:`~secscan.scanners._semgrep_rules.load_pack`
reads and does: the source of :mod:`secscan.scanners._semgrep_rules` and secscan's version, then
each rule folder's rule files, by name and content. A changed, added, removed or renamed rule file
changes the key, so a memo never answers for other rules; a memo that cannot be read or does not
decode is ignored and rewritten; one that cannot be written leaves the parse as it was. Invalid
rules are never memoised (their error is raised again by the parse).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secscan import __version__
from secscan.scanners import _semgrep_rules
from secscan.scanners._semgrep_rules import RulePack, SemgrepRule, load_pack, rule_files

log = logging.getLogger(__name__)

FORMAT = b"secscan-semgrep-pack/1"
PREFIX = "semgrep-pack-"
SUFFIX = ".memo"  # not .json: the OSV index folder's own stamps are its *.json files


def signature(folders: Sequence[Path]) -> str | None:
    """The memo's key for ``folders``, or None when a folder or rule file cannot be read (the
    parse then reports it)."""
    digest = hashlib.sha256(FORMAT + b"\0" + __version__.encode())
    try:
        digest.update(hashlib.sha256(Path(_semgrep_rules.__file__).read_bytes()).digest())
        for folder in folders:
            if not folder.is_dir():
                return None
            digest.update(b"\0folder\0" + os.fsencode(folder.absolute()))
            for path in rule_files(folder):
                name = os.fsencode(path.relative_to(folder))
                digest.update(b"\0file\0" + name + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    except OSError:
        return None
    return digest.hexdigest()


def _encode(pack: RulePack) -> bytes:
    rules = [dataclasses.asdict(rule) for rule in pack.rules]
    return json.dumps({"rules": rules, "config": pack.config, "digest": pack.digest}).encode("utf-8")


def _field(value: object) -> Any:  # a text or a tuple of texts, as SemgrepRule's fields are
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError("a memo's rule field is neither a text nor a list of texts")


def _decode(data: bytes) -> RulePack:
    """The pack of a memo; ValueError, KeyError or TypeError when it is not one."""
    document: Any = json.loads(data)
    config, digest = document["config"], document["digest"]
    if not isinstance(config, str) or hashlib.sha256(config.encode("utf-8")).hexdigest() != digest:
        raise ValueError("the memo's config does not match its digest")
    rules = tuple(SemgrepRule(**{k: _field(v) for k, v in row.items()}) for row in document["rules"])
    return RulePack(rules=rules, config=config, digest=digest)


def _write(folder: Path, path: Path, pack: RulePack) -> None:
    """Write the memo atomically and remove the memos of other rules; failures only log."""
    temp: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=PREFIX, suffix=".tmp", delete=False) as out:
            temp = Path(out.name)
            out.write(_encode(pack))
        temp.replace(path)
        temp = None
        for other in folder.glob(f"{PREFIX}*{SUFFIX}"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("semgrep rule pack not memoised in %s (%s)", folder, exc)
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)


def memoised_pack(folders: Sequence[Path], memo: Path | None) -> RulePack:
    """:func:`~secscan.scanners._semgrep_rules.load_pack` of ``folders``, from the memo in the
    folder ``memo`` when it holds these rules (None: always parsed). Raises ScannerError."""
    key = signature(folders) if memo is not None else None
    if memo is None or key is None:
        return load_pack(folders)
    path = memo / f"{PREFIX}{key}{SUFFIX}"
    try:
        return _decode(path.read_bytes())
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.debug("ignoring the semgrep rule pack memo %s (%s)", path, exc)
    pack = load_pack(folders)
    _write(memo, path, pack)
    return pack
